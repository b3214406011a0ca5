"""The HorizontalPodAutoscaler controller (autoscaling/v2), on the simulated pod metrics.

Like kube-controller-manager's, every 15 s (``hpa_sync_period``) it reads the target's scale,
computes each Resource metric's utilization over the target's running Pods (usage from
:mod:`metrics` against the containers' requests), recommends ``ceil(pods * utilization /
target)`` outside a 10 % tolerance, clamps to ``[minReplicas, maxReplicas]``, scales up at once
and down only to the highest recommendation of the last 300 s, and reports the status and the
three conditions (AbleToScale, ScalingActive, ScalingLimited) that ``kubectl describe hpa`` shows.
"""

from __future__ import annotations

import math
import time
from typing import Any

from kumo.sandbox.kubeapi import ApiError, Event, fast_copy, labels_match, selector_from_label_selector_obj
from kumo.sandbox.simulate.core import SimBase
from kumo.sandbox.simulate.metrics import container_usage
from kumo.sandbox.simulate.quantity import parse_quantity

TOLERANCE = 0.1
DOWNSCALE_WINDOW = 300.0
_MANAGER = "kube-controller-manager"
_UTILIZATION = "cpu resource utilization (percentage of request)"
_UP = _UTILIZATION + " above target"
_DOWN = "All metrics below target"


class HorizontalPodAutoscalerController:
    name = "horizontalpodautoscaler"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.hpa_rt = sim.rt("autoscaling", "v2", "horizontalpodautoscalers")
        self.pod_rt = sim.rt("", "v1", "pods")
        # (namespace, name) -> [(monotonic time, recommendation)]
        self._recommendations: dict[tuple[str, str], list[tuple[float, int]]] = {}

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        ns = meta.get("namespace", "")
        if ev.key == self.hpa_rt.store_key:
            if ev.type == "DELETED":
                self._recommendations.pop((ns, meta["name"]), None)
            elif ev.type == "ADDED" or (ev.old or {}).get("spec") != ev.obj.get("spec"):
                self.sim.enqueue(self.name, ns, meta["name"])

    def _target(self, hpa: dict[str, Any]) -> tuple[Any, dict[str, Any] | None, str]:
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        ns = hpa["metadata"]["namespace"]
        rt = self.sim.store.catalog.by_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if rt is None or "scale" not in rt.subresources:
            return (
                None,
                None,
                f'no matches for kind "{ref.get("kind")}" in group version {ref.get("apiVersion")}',
            )
        obj = self.sim.store.try_get(rt, ns, str(ref.get("name", "")))
        if obj is None:
            return rt, None, f'{rt.group_resource} "{ref.get("name")}" not found'
        return rt, obj, ""

    def _pods(self, target: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        sel = (target.get("spec") or {}).get("selector") or {}
        reqs = selector_from_label_selector_obj(
            {"matchLabels": sel} if kind == "ReplicationController" else sel
        )
        if not reqs:
            return []
        pods, *_ = self.sim.store.list_refs(self.pod_rt, target["metadata"]["namespace"])
        return [
            p
            for p in pods
            if labels_match(reqs, p["metadata"].get("labels") or {})
            and (p.get("status") or {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")
        ]

    def _utilization(self, resource: str, pods: list[dict[str, Any]]) -> tuple[int | None, str, str]:
        """(percent of requests, average usage, why not) over the running Pods."""
        if not pods:
            return (
                None,
                "",
                f"failed to get {resource} utilization: did not receive metrics for targeted pods",
            )
        used = requested = 0.0
        for p in pods:
            for c in (p.get("spec") or {}).get("containers") or []:
                req = ((c.get("resources") or {}).get("requests") or {}).get(resource)
                if req is None:
                    return (
                        None,
                        "",
                        f"failed to get {resource} utilization: missing request for {resource} in container "
                        f"{c.get('name')} of Pod {p['metadata']['name']}",
                    )
                cpu, mem = container_usage(p, c)
                used += cpu if resource == "cpu" else mem
                requested += parse_quantity(str(req))
        avg = used / len(pods)
        value = f"{round(avg * 1000)}m" if resource == "cpu" else f"{round(avg)}"
        return (round(100 * used / requested) if requested else None), value, ""

    def reconcile(self, namespace: str, name: str) -> None:
        hpa = self.sim.store.try_get(self.hpa_rt, namespace, name)
        if hpa is None or hpa["metadata"].get("deletionTimestamp"):
            return
        self.sim.later(self.sim.config.hpa_sync_period, self.name, namespace, name)
        spec = hpa.get("spec") or {}
        lo, hi = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
        old_status = hpa.get("status") or {}
        status: dict[str, Any] = {"desiredReplicas": int(old_status.get("desiredReplicas", 0))}
        rt, target, missing = self._target(hpa)
        if target is None:
            status["currentReplicas"] = int(old_status.get("currentReplicas", 0))
            conditions = [
                (
                    "AbleToScale",
                    "False",
                    "FailedGetScale",
                    f"the HPA controller was unable to get the target's current scale: {missing}",
                ),
            ]
            self._write(hpa, status, conditions)
            return
        current = int((target.get("spec") or {}).get("replicas", 1))
        kind = str(target.get("kind") or rt.kind)
        pods = self._pods(target, kind)
        proposals: list[int] = []
        metrics: list[dict[str, Any]] = []
        failure = ""
        for m in spec.get("metrics") or []:
            res = m.get("resource") if isinstance(m, dict) and m.get("type") == "Resource" else None
            if not isinstance(res, dict):
                continue
            want = (res.get("target") or {}).get("averageUtilization")
            util, avg, why = self._utilization(str(res.get("name", "cpu")), pods)
            if util is None or want is None:
                failure = failure or why
                continue
            metrics.append(
                {
                    "type": "Resource",
                    "resource": {
                        "name": res.get("name"),
                        "current": {"averageUtilization": util, "averageValue": avg},
                    },
                }
            )
            ratio = util / max(int(want), 1)
            proposed = current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(len(pods) * ratio)
            proposals.append(proposed)
        recommendation = max(proposals, default=current)  # the largest proposal of all metrics
        if metrics:
            status["currentMetrics"] = metrics
        # scale down only as far as the highest recommendation of the stabilisation window
        now = time.monotonic()
        history = [
            (t, r) for t, r in self._recommendations.get((namespace, name), []) if now - t < DOWNSCALE_WINDOW
        ]
        history.append((now, recommendation))
        self._recommendations[(namespace, name)] = history
        stable = max(r for _, r in history) if recommendation < current else recommendation
        desired = min(max(stable, lo), hi)
        limited = ("False", "DesiredWithinRange", "the desired count is within the acceptable range")
        if stable > hi:
            limited = (
                "True",
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        elif stable < lo:
            limited = (
                "True",
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        able = ("True", "ReadyForNewScale", "recommended size matches current size")
        if desired != current:
            try:
                scaled = fast_copy(target)
                scaled["spec"]["replicas"] = desired
                self.sim.store.update(rt, namespace, target["metadata"]["name"], scaled, manager=_MANAGER)
            except ApiError as exc:
                able = (
                    "False",
                    "FailedUpdateScale",
                    f"the HPA controller was unable to update the target scale: {exc.message}",
                )
            else:
                able = (
                    "True",
                    "SucceededRescale",
                    f"the HPA controller was able to update the target scale to {desired}",
                )
                status["lastScaleTime"] = self.sim.now()
                self.sim.record_event(
                    hpa,
                    "SuccessfulRescale",
                    f"New size: {desired}; reason: {_UP if desired > current else _DOWN}",
                    component="horizontal-pod-autoscaler",
                )
                current = desired
        if "lastScaleTime" not in status and old_status.get("lastScaleTime"):
            status["lastScaleTime"] = old_status["lastScaleTime"]
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        active = (
            (
                "True",
                "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from " + _UTILIZATION,
            )
            if metrics
            else (
                "False",
                "FailedGetResourceMetric",
                f"the HPA was unable to compute the replica count: {failure}",
            )
        )
        self._write(
            hpa,
            status,
            [
                ("AbleToScale", *able),
                ("ScalingActive", *active),
                *([("ScalingLimited", *limited)] if metrics else []),
            ],
        )

    def _write(
        self, hpa: dict[str, Any], status: dict[str, Any], conditions: list[tuple[str, str, str, str]]
    ) -> None:
        old = hpa.get("status") or {}
        before = {c.get("type"): c for c in old.get("conditions") or []}
        now = self.sim.now()
        status["conditions"] = [
            {
                "type": typ,
                "status": st,
                "lastTransitionTime": (
                    before[typ]["lastTransitionTime"]
                    if typ in before
                    and before[typ].get("status") == st
                    and before[typ].get("lastTransitionTime")
                    else now
                ),
                "reason": reason,
                "message": message,
            }
            for typ, st, reason, message in conditions
        ]
        generation = hpa["metadata"].get("generation")
        if generation is not None:
            status["observedGeneration"] = generation
        if status == old:
            return
        hpa["status"] = status
        meta = hpa["metadata"]
        try:
            self.sim.store.update(
                self.hpa_rt, meta["namespace"], meta["name"], hpa, manager=_MANAGER, subresource="status"
            )
        except ApiError:
            self.sim.later(0.5, self.name, meta["namespace"], meta["name"])
