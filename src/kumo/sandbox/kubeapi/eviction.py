"""The ``eviction`` subresource: a Pod deletion that PodDisruptionBudgets may refuse (429), as
``kubectl drain`` and the cluster autoscaler use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.selectors import labels_match, selector_from_label_selector_obj
from kumo.sandbox.kubeapi.store import Store


def evict(store: Store, rt: ResourceType, namespace: str | None, name: str, dry_run: bool = False) -> None:
    """The eviction subresource: delete a Pod unless a PodDisruptionBudget forbids it (429)."""
    pod = store.get_ref(rt, namespace, name)
    pdb_rt = store.catalog.lookup("policy", "v1", "poddisruptionbudgets")
    labels = pod["metadata"].get("labels") or {}
    if pdb_rt is not None and _ready(pod):
        for pdb in store.list_refs(pdb_rt, namespace)[0]:
            spec = pdb.get("spec") or {}
            sel = selector_from_label_selector_obj(spec.get("selector"))
            if not sel or not labels_match(sel, labels):
                continue
            matching = [
                p
                for p in store.list_refs(rt, namespace)[0]
                if labels_match(sel, p["metadata"].get("labels"))
                and not p["metadata"].get("deletionTimestamp")
            ]
            healthy = sum(1 for p in matching if _ready(p))
            if _violates(spec, healthy, len(matching)):
                raise ApiError(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    details={
                        "causes": [
                            {
                                "reason": "DisruptionBudget",
                                "message": f"The disruption budget {pdb['metadata']['name']} needs more "
                                f"healthy pods than the {healthy - 1} that would remain.",
                            }
                        ]
                    },
                )
    store.delete(rt, namespace, name, dry_run=dry_run)


def _ready(pod: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _count(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        try:
            raw = float(value[:-1]) * total / 100.0
        except ValueError:
            return 0
        return int(-(-raw // 1)) if round_up else int(raw)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _violates(spec: Mapping[str, Any], healthy: int, total: int) -> bool:
    """Whether one more disruption breaks a PodDisruptionBudget (minAvailable or maxUnavailable)."""
    if "minAvailable" in spec:
        return healthy - 1 < _count(spec["minAvailable"], total, True)
    if "maxUnavailable" in spec:
        return (total - healthy) + 1 > _count(spec["maxUnavailable"], total, False)
    return False
