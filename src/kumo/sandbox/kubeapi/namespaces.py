"""Namespace finalisation, the namespace controller's last step: a terminating namespace without
finalizers is removed once nothing is left in it. (Emptying it is the garbage collector's part,
:mod:`kumo.sandbox.kubeapi.gc`.)"""

from __future__ import annotations

from kumo.sandbox.kubeapi.objects import fast_copy
from kumo.sandbox.kubeapi.store import Store


def finalize_namespace(store: Store, name: str) -> None:
    """Remove a terminating namespace once it is empty."""
    rt = store.catalog.lookup("", "v1", "namespaces")
    assert rt is not None
    ns = store.lookup_ref(rt, None, name)
    if ns is None or not ns["metadata"].get("deletionTimestamp") or ns["metadata"].get("finalizers"):
        return
    if namespace_has_objects(store, name):
        return
    store.commit(rt, "DELETED", fast_copy(ns), ns)


def namespace_has_objects(store: Store, name: str) -> bool:
    return any(obj["metadata"].get("namespace") == name for _skey, obj in store.iter_all())
