"""Readiness of objects, in the manner of kstatus: Current, InProgress or Failed, plus a message.

Pure functions of one object's JSON, so the deploy wait loop, `kumo status` and the console all
agree on what "ready" means.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

State = Literal["Current", "InProgress", "Failed"]
CURRENT: State = "Current"
IN_PROGRESS: State = "InProgress"
FAILED: State = "Failed"

Obj = dict[str, Any]

#: Container waiting reasons that will not fix themselves without a change to the spec.
FATAL_WAITING_REASONS = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


def status(obj: Obj) -> tuple[State, str]:
    """(state, message) for any object; kinds without a known rule use the generic conditions rule."""
    metadata = obj.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return IN_PROGRESS, "being deleted"
    rule = _RULES.get(str(obj.get("kind", "")), _generic)
    return rule(obj)


def conditions(obj: Obj) -> dict[str, Obj]:
    return {
        str(c.get("type")): c
        for c in (obj.get("status") or {}).get("conditions") or []
        if isinstance(c, dict)
    }


def _stale_generation(obj: Obj) -> bool:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    return generation is not None and observed is not None and int(observed) < int(generation)


Rule = Callable[[Obj], tuple[State, str]]


def _observed(rule: Rule) -> Rule:
    """The rule, judged only once the controller has seen the object's latest spec."""

    def checked(obj: Obj) -> tuple[State, str]:
        if _stale_generation(obj):
            return IN_PROGRESS, "the controller has not observed the latest generation"
        return rule(obj)

    return checked


def _replicas(obj: Obj, *counts: str) -> tuple[int, ...]:
    """spec.replicas (default 1), then the named status counts (default 0)."""
    st = obj.get("status") or {}
    return int((obj.get("spec") or {}).get("replicas", 1)), *(int(st.get(c) or 0) for c in counts)


@_observed
def _generic(obj: Obj) -> tuple[State, str]:
    conds = conditions(obj)
    stalled = conds.get("Stalled")
    if stalled and stalled.get("status") == "True":
        return FAILED, str(stalled.get("message") or stalled.get("reason") or "stalled")
    reconciling = conds.get("Reconciling")
    if reconciling and reconciling.get("status") == "True":
        return IN_PROGRESS, str(reconciling.get("message") or "reconciling")
    ready = conds.get("Ready")
    if ready and ready.get("status") == "False":
        return IN_PROGRESS, str(ready.get("message") or ready.get("reason") or "not ready")
    return CURRENT, "ready"


def _deployment(obj: Obj) -> tuple[State, str]:
    spec = obj.get("spec") or {}
    st = obj.get("status") or {}
    if _stale_generation(obj) or (
        "observedGeneration" not in st and (obj.get("metadata") or {}).get("generation")
    ):
        return IN_PROGRESS, "rollout not started yet"
    progressing = conditions(obj).get("Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return FAILED, str(progressing.get("message") or "progress deadline exceeded")
    desired, updated, total, available, ready = _replicas(
        obj, "updatedReplicas", "replicas", "availableReplicas", "readyReplicas"
    )
    if spec.get("paused"):
        return IN_PROGRESS, "rollout is paused"
    if updated < desired:
        return IN_PROGRESS, f"{updated} of {desired} replicas updated, ready {ready}/{desired}"
    if total > updated:
        return IN_PROGRESS, f"{total - updated} old replicas pending termination, ready {ready}/{desired}"
    if available < updated:
        return IN_PROGRESS, f"{available} of {updated} updated replicas available, ready {ready}/{desired}"
    return CURRENT, f"ready {ready}/{desired}"


@_observed
def _replicaset(obj: Obj) -> tuple[State, str]:
    failure = conditions(obj).get("ReplicaFailure")
    if failure and failure.get("status") == "True":
        return FAILED, str(failure.get("message") or "replica failure")
    desired, ready, available = _replicas(obj, "readyReplicas", "availableReplicas")
    if ready < desired or available < desired:
        return IN_PROGRESS, f"ready {ready}/{desired}"
    return CURRENT, f"ready {ready}/{desired}"


@_observed
def _statefulset(obj: Obj) -> tuple[State, str]:
    desired, ready, updated = _replicas(obj, "readyReplicas", "updatedReplicas")
    if ready < desired:
        return IN_PROGRESS, f"ready {ready}/{desired}"
    if updated < desired:
        return IN_PROGRESS, f"{updated} of {desired} replicas updated"
    return CURRENT, f"ready {ready}/{desired}"


@_observed
def _daemonset(obj: Obj) -> tuple[State, str]:
    st = obj.get("status") or {}
    desired = int(st.get("desiredNumberScheduled") or 0)
    available = int(st.get("numberAvailable") or 0)
    updated = int(st.get("updatedNumberScheduled") or 0)
    if updated < desired or available < desired:
        return IN_PROGRESS, f"available {available}/{desired}"
    return CURRENT, f"available {available}/{desired}"


def pod_problem(pod: Obj) -> tuple[str, str] | None:
    """(reason, message) when a Pod is stuck in a way that waiting will not fix, else None."""
    st = pod.get("status") or {}
    scheduled = conditions(pod).get("PodScheduled")
    if scheduled and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return "Unschedulable", str(scheduled.get("message") or "no node can run this Pod")
    for container in [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        if reason in FATAL_WAITING_REASONS:
            name = container.get("name", "?")
            detail = waiting.get("message") or f"image {container.get('image', '?')}"
            return reason, f"container {name}: {reason}: {detail}"
    if st.get("phase") == "Failed":
        return str(st.get("reason") or "Failed"), str(st.get("message") or "the Pod failed")
    return None


def _pod(obj: Obj) -> tuple[State, str]:
    st = obj.get("status") or {}
    phase = st.get("phase", "Pending")
    if phase == "Succeeded":
        return CURRENT, "completed"
    problem = pod_problem(obj)
    if problem:
        return FAILED, problem[1]
    ready = conditions(obj).get("Ready")
    if phase == "Running" and ready and ready.get("status") == "True":
        return CURRENT, "running and ready"
    return IN_PROGRESS, f"{phase.lower()}, not ready yet"


def lb_address(obj: Obj) -> str | None:
    """The first load balancer hostname or IP of a Service or Ingress, if any."""
    for entry in ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
        address = entry.get("hostname") or entry.get("ip")
        if address:
            return str(address)
    return None


def _service(obj: Obj) -> tuple[State, str]:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return CURRENT, "ready"
    address = lb_address(obj)
    if address:
        return CURRENT, f"load balancer {address}"
    return IN_PROGRESS, "waiting for a load balancer address"


def _ingress(obj: Obj) -> tuple[State, str]:
    address = lb_address(obj)
    if address:
        return CURRENT, f"load balancer {address}"
    return IN_PROGRESS, "waiting for a load balancer address"


def _gateway(obj: Obj) -> tuple[State, str]:
    conds = conditions(obj)
    accepted = conds.get("Accepted")
    if accepted and accepted.get("status") == "False":
        return FAILED, str(accepted.get("message") or accepted.get("reason") or "not accepted")
    programmed = conds.get("Programmed")
    if programmed and programmed.get("status") == "True":
        addresses = [
            str(a.get("value")) for a in (obj.get("status") or {}).get("addresses") or [] if a.get("value")
        ]
        return CURRENT, f"programmed {', '.join(addresses)}".strip()
    return IN_PROGRESS, "waiting for the gateway to be programmed"


def _job(obj: Obj) -> tuple[State, str]:
    conds = conditions(obj)
    if (conds.get("Failed") or {}).get("status") == "True":
        return FAILED, str(conds["Failed"].get("message") or "job failed")
    if (conds.get("Complete") or {}).get("status") == "True":
        return CURRENT, "complete"
    return IN_PROGRESS, "running"


def _namespace(obj: Obj) -> tuple[State, str]:
    phase = (obj.get("status") or {}).get("phase", "Active")
    return (CURRENT, "active") if phase == "Active" else (IN_PROGRESS, str(phase).lower())


def _pvc(obj: Obj) -> tuple[State, str]:
    phase = (obj.get("status") or {}).get("phase", "Pending")
    return (CURRENT, "bound") if phase == "Bound" else (IN_PROGRESS, str(phase).lower())


_RULES = {
    "Deployment": _deployment,
    "ReplicaSet": _replicaset,
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "Pod": _pod,
    "Service": _service,
    "Ingress": _ingress,
    "Gateway": _gateway,
    "Job": _job,
    "Namespace": _namespace,
    "PersistentVolumeClaim": _pvc,
}
