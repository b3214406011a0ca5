"""The ``scale`` subresource: an ``autoscaling/v1`` Scale view of a workload's replicas.

Reading builds the Scale from the object; writing (PUT, or a JSON/merge/strategic patch of the
Scale) changes only ``spec.replicas`` of the object, through an ordinary store update.
"""

from __future__ import annotations

from typing import Any

from kumo.sandbox.kubeapi import errors
from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.objects import fast_copy
from kumo.sandbox.kubeapi.store import Store, check_fresh, check_put, patched


def scale_of(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    if "scale" not in rt.subresources:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    meta = obj["metadata"]
    selector = (obj.get("spec") or {}).get("selector") or {}
    # a ReplicationController's selector is the label map itself
    sel = selector if rt.kind == "ReplicationController" else selector.get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sel.items()),
        },
    }


def update_scale(
    store: Store,
    rt: ResourceType,
    namespace: str | None,
    name: str,
    body: Any,
    manager: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """PUT of a Scale."""
    if rt.virtual or "update" not in rt.verbs:
        raise errors.method_not_allowed()
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be a Scale object")
    old = store.get_ref(rt, namespace, name)
    scale: dict[str, Any] = fast_copy(body)
    check_put(rt, old, scale, name, namespace)
    return _set_replicas(store, rt, old, scale, manager, dry_run)


def patch_scale(
    store: Store,
    rt: ResourceType,
    namespace: str | None,
    name: str,
    patch_type: str,
    body: Any,
    manager: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """A JSON, merge or strategic merge patch of a Scale (no schema: a Scale has no list keys)."""
    if rt.virtual or "patch" not in rt.verbs:
        raise errors.method_not_allowed()
    old = store.get_ref(rt, namespace, name)
    scale = patched(scale_of(rt, old), patch_type, body, None)
    check_fresh(rt, old, scale, name)
    return _set_replicas(store, rt, old, scale, manager, dry_run)


def _set_replicas(
    store: Store,
    rt: ResourceType,
    old: dict[str, Any],
    scale: dict[str, Any],
    manager: str | None,
    dry_run: bool,
) -> dict[str, Any]:
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid(
            rt,
            old["metadata"]["name"],
            [
                {
                    "reason": "FieldValueInvalid",
                    "field": "spec.replicas",
                    "message": f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                }
            ],
        )
    new = fast_copy(old)
    new.setdefault("spec", {})["replicas"] = replicas
    meta = old["metadata"]
    written = store.update(rt, meta.get("namespace"), meta["name"], new, manager, dry_run=dry_run)
    return scale_of(rt, written)
