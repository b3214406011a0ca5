"""The CRD controller of the API server (apiextensions): a written CustomResourceDefinition is
served at once and reported ``NamesAccepted`` and ``Established``; a deleted one stops being
served."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kumo.sandbox.kubeapi.objects import fast_copy

if TYPE_CHECKING:
    from kumo.sandbox.kubeapi.store import Store


def established(store: Store, crd: dict[str, Any]) -> None:
    """Serve ``crd``'s kind and set its status (a no-op when the status is already so)."""
    rt = store.catalog.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert rt is not None
    store.catalog.register_crd(crd)
    names = (crd.get("spec") or {}).get("names") or {}
    status = {
        "acceptedNames": {k: v for k, v in names.items()},
        "storedVersions": [
            v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if v.get("storage")
        ],
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": store.now(),
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": store.now(),
            },
        ],
    }
    if crd.get("status") != status:
        new = fast_copy(crd)
        new["status"] = status
        store.commit(rt, "MODIFIED", new, crd)


def removed(store: Store, name: str) -> None:
    store.catalog.unregister_crd(name)
