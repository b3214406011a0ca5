"""A namespace's deletion: deleting one marks it Terminating (the system namespaces may not be
deleted), and finalisation, the namespace controller's last step, removes a terminating namespace
without finalizers once nothing is left in it. (Emptying it is the garbage collector's part,
:mod:`kumo.sandbox.kubeapi.gc`.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.objects import fast_copy

if TYPE_CHECKING:
    from kumo.sandbox.kubeapi.store import Store

#: namespaces the API server refuses to delete
PROTECTED = ("default", "kube-system", "kube-public")


def start_deletion(
    store: Store, rt: ResourceType, old: dict[str, Any], finalizers: list[str]
) -> dict[str, Any]:
    """DELETE of a namespace: Terminating (``deletionTimestamp``, ``status.phase``), not gone."""
    meta = old["metadata"]
    name = meta["name"]
    if name in PROTECTED:
        raise ApiError(
            403,
            "Forbidden",
            f'namespaces "{name}" is forbidden: this namespace may not be deleted',
            details={"name": name, "kind": "namespaces"},
        )
    if meta.get("deletionTimestamp"):
        return fast_copy(old)  # type: ignore[no-any-return]
    new = fast_copy(old)
    new["metadata"]["deletionTimestamp"] = store.now()
    new["metadata"]["deletionGracePeriodSeconds"] = 0
    if finalizers:
        new["metadata"]["finalizers"] = finalizers
    new["status"] = {"phase": "Terminating"}
    store.commit(rt, "MODIFIED", new, old)
    return fast_copy(new)  # type: ignore[no-any-return]


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
