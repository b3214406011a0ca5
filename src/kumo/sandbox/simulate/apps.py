"""Deployment and ReplicaSet controllers, following the real controllers' rolling-update arithmetic."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson

from kumo.sandbox.kubeapi import Event, fast_copy, labels_match, selector_from_label_selector_obj
from kumo.sandbox.simulate.core import SimBase

REVISION = "deployment.kubernetes.io/revision"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: dict[str, Any]) -> str:
    """A stable pod-template-hash (the real one is fnv32a, rendered in the same alphabet)."""
    digest = hashlib.sha256(orjson.dumps(template, option=orjson.OPT_SORT_KEYS)).digest()
    num = int.from_bytes(digest[:8], "big")
    out = ""
    while len(out) < 10:
        num, r = divmod(num, len(_SAFE))
        out += _SAFE[r]
    return out


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = float(value[:-1])
        except ValueError:
            return 0
        raw = pct * total / 100.0
        return math.ceil(raw) if round_up else math.floor(raw)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _cond(conds: list[dict[str, Any]], typ: str) -> dict[str, Any] | None:
    return next((c for c in conds if c.get("type") == typ), None)


def set_condition(
    conds: list[dict[str, Any]],
    typ: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    bump_update: bool = True,
) -> list[dict[str, Any]]:
    old = _cond(conds, typ)
    new = {
        "type": typ,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
    }
    if old is not None:
        if old.get("status") == status:
            new["lastTransitionTime"] = old.get("lastTransitionTime", now)
        if old.get("status") == status and old.get("reason") == reason and not bump_update:
            new["lastUpdateTime"] = old.get("lastUpdateTime", now)
    return [c for c in conds if c.get("type") != typ] + [new]


class DeploymentController:
    name = "deployment"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.deploy_rt = sim.rt("apps", "v1", "deployments")
        self.rs_rt = sim.rt("apps", "v1", "replicasets")

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        if ev.key == ("apps", "deployments"):
            self.sim.enqueue(self.name, meta.get("namespace", ""), meta["name"])
        elif ev.key == ("apps", "replicasets"):
            ref = controller_of(ev.obj)
            if ref and ref.get("kind") == "Deployment":
                self.sim.enqueue(self.name, meta.get("namespace", ""), ref["name"])

    def _owned(self, d: dict[str, Any]) -> list[dict[str, Any]]:
        uid = d["metadata"]["uid"]
        return [
            fast_copy(rs)
            for rt, rs in self.sim.store.dependents(uid)
            if rt.store_key == ("apps", "replicasets")
            and (controller_of(rs) or {}).get("uid") == uid
            and not rs["metadata"].get("deletionTimestamp")
        ]

    def _scale(self, rs: dict[str, Any], replicas: int, d: dict[str, Any]) -> dict[str, Any]:
        if (rs.get("spec") or {}).get("replicas") == replicas:
            return rs
        old = rs["spec"].get("replicas", 0)
        rs["spec"]["replicas"] = replicas
        ann = rs["metadata"].setdefault("annotations", {})
        ann["deployment.kubernetes.io/desired-replicas"] = str(d["spec"].get("replicas", 1))
        out = self.sim.store.update(
            self.rs_rt,
            rs["metadata"]["namespace"],
            rs["metadata"]["name"],
            rs,
            manager="kube-controller-manager",
        )
        verb = "up" if replicas > old else "down"
        self.sim.record_event(
            d,
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
            component="deployment-controller",
        )
        return out

    def reconcile(self, namespace: str, name: str) -> None:
        d = self.sim.store.try_get(self.deploy_rt, namespace, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        phash = template_hash(template)
        rss = self._owned(d)
        new_rs = next(
            (rs for rs in rss if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == phash), None
        )
        old_rss = sorted(
            (rs for rs in rss if rs is not new_rs), key=lambda r: r["metadata"]["creationTimestamp"]
        )
        revisions = [int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0) for rs in rss]
        created = False
        paused = bool(spec.get("paused"))
        if new_rs is None and not paused:
            new_rs = self._create_rs(d, phash, max(revisions, default=0) + 1, replicas, bool(old_rss))
            created = True
        elif new_rs is not None:
            rev = int((new_rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0)
            if old_rss and rev < max(revisions, default=0):
                # rolled back to an older template: it becomes the newest revision
                new_rs["metadata"].setdefault("annotations", {})[REVISION] = str(max(revisions) + 1)
                new_rs = self.sim.store.update(
                    self.rs_rt,
                    namespace,
                    new_rs["metadata"]["name"],
                    new_rs,
                    manager="kube-controller-manager",
                )
        strategy = spec.get("strategy") or {}
        if new_rs is not None and not paused:
            if strategy.get("type") == "Recreate":
                self._recreate(d, new_rs, old_rss, replicas)
            else:
                self._rolling(d, new_rs, old_rss, replicas, strategy.get("rollingUpdate") or {})
        self._cleanup(d, old_rss)
        self._status(d, new_rs, old_rss, replicas, created)

    def _create_rs(
        self, d: dict[str, Any], phash: str, revision: int, replicas: int, has_old: bool
    ) -> dict[str, Any]:
        meta = d["metadata"]
        spec = d["spec"]
        template = fast_copy(spec.get("template") or {})
        tmeta = template.setdefault("metadata", {})
        tmeta.setdefault("labels", {})["pod-template-hash"] = phash
        selector = fast_copy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = phash
        initial = 0 if has_old else replicas
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{phash}",
                "namespace": meta["namespace"],
                "labels": dict(tmeta["labels"]),
                "annotations": {
                    REVISION: str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas),
                },
                "ownerReferences": [owner_ref(d)],
            },
            "spec": {
                "replicas": initial,
                "selector": selector,
                "template": template,
                "minReadySeconds": spec.get("minReadySeconds", 0),
            },
        }
        out = self.sim.store.create(self.rs_rt, meta["namespace"], rs, manager="kube-controller-manager")
        if initial:
            self.sim.record_event(
                d,
                "ScalingReplicaSet",
                f"Scaled up replica set {out['metadata']['name']} from 0 to {initial}",
                component="deployment-controller",
            )
        return out

    def _recreate(
        self, d: dict[str, Any], new_rs: dict[str, Any], old_rss: list[dict[str, Any]], replicas: int
    ) -> None:
        for rs in old_rss:
            self._scale(rs, 0, d)
        if all((rs.get("status") or {}).get("replicas", 0) == 0 for rs in old_rss):
            self._scale(new_rs, replicas, d)

    def _rolling(
        self,
        d: dict[str, Any],
        new_rs: dict[str, Any],
        old_rss: list[dict[str, Any]],
        replicas: int,
        ru: dict[str, Any],
    ) -> None:
        surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
        unavailable = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        all_rss = [new_rs, *old_rss]

        def spec_total() -> int:
            return sum(int(rs["spec"].get("replicas", 0)) for rs in all_rss)

        # scale the new ReplicaSet up, within maxSurge
        cur = int(new_rs["spec"].get("replicas", 0))
        if cur > replicas:
            all_rss[0] = new_rs = self._scale(new_rs, replicas, d)
        elif cur < replicas:
            if not old_rss:
                all_rss[0] = new_rs = self._scale(new_rs, replicas, d)
            else:
                room = replicas + surge - spec_total()
                if room > 0:
                    all_rss[0] = new_rs = self._scale(new_rs, cur + min(room, replicas - cur), d)
        # scale old ReplicaSets down, keeping maxUnavailable
        old_total = sum(int(rs["spec"].get("replicas", 0)) for rs in old_rss)
        if old_total == 0:
            return
        min_available = replicas - unavailable
        new_unavailable = int(new_rs["spec"].get("replicas", 0)) - int(
            (new_rs.get("status") or {}).get("availableReplicas", 0)
        )
        budget = spec_total() - min_available - new_unavailable
        if budget <= 0:
            return
        # first the old pods that are not available anyway
        for i, rs in enumerate(old_rss):
            if budget <= 0:
                break
            want = int(rs["spec"].get("replicas", 0))
            avail = int((rs.get("status") or {}).get("availableReplicas", 0))
            unhealthy = want - avail
            if unhealthy > 0:
                cut = min(budget, unhealthy)
                old_rss[i] = self._scale(rs, want - cut, d)
                all_rss[i + 1] = old_rss[i]
                budget -= cut
        total_available = sum(int((rs.get("status") or {}).get("availableReplicas", 0)) for rs in all_rss)
        remaining = min(total_available - min_available, spec_total() - min_available - new_unavailable)
        for i, rs in enumerate(old_rss):
            if remaining <= 0:
                break
            want = int(rs["spec"].get("replicas", 0))
            cut = min(want, remaining)
            if cut > 0:
                old_rss[i] = self._scale(rs, want - cut, d)
                remaining -= cut

    def _cleanup(self, d: dict[str, Any], old_rss: list[dict[str, Any]]) -> None:
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        idle = [
            rs
            for rs in old_rss
            if rs["spec"].get("replicas", 0) == 0 and (rs.get("status") or {}).get("replicas", 0) == 0
        ]
        for rs in idle[: max(0, len(idle) - limit)]:
            self.sim.store.delete(
                self.rs_rt, rs["metadata"]["namespace"], rs["metadata"]["name"], "Background"
            )

    def _status(
        self,
        d: dict[str, Any],
        new_rs: dict[str, Any] | None,
        old_rss: list[dict[str, Any]],
        replicas: int,
        created: bool,
    ) -> None:
        all_rss = ([new_rs] if new_rs else []) + old_rss
        st_of = [rs.get("status") or {} for rs in all_rss]
        new_st = (new_rs.get("status") or {}) if new_rs else {}
        total = sum(int(s.get("replicas", 0)) for s in st_of)
        ready = sum(int(s.get("readyReplicas", 0)) for s in st_of)
        available = sum(int(s.get("availableReplicas", 0)) for s in st_of)
        updated = int(new_st.get("replicas", 0))
        spec = d["spec"]
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_unavail = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            max_unavail = 0
        old_status = d.get("status") or {}
        now = self.sim.now()
        conds = list(old_status.get("conditions") or [])
        if available >= replicas - max_unavail:
            conds = set_condition(
                conds,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
                bump_update=False,
            )
        else:
            conds = set_condition(
                conds,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
                bump_update=False,
            )
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        complete = (
            new_rs is not None
            and updated == replicas
            and available >= replicas
            and total == replicas
            and int(new_st.get("availableReplicas", 0)) >= replicas
        )
        progressing = _cond(conds, "Progressing")
        counts = (total, ready, available, updated)
        old_counts = (
            old_status.get("replicas", 0),
            old_status.get("readyReplicas", 0),
            old_status.get("availableReplicas", 0),
            old_status.get("updatedReplicas", 0),
        )
        deadline = spec.get("progressDeadlineSeconds")
        if complete:
            conds = set_condition(
                conds,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                now,
                bump_update=progressing is None or progressing.get("reason") != "NewReplicaSetAvailable",
            )
        elif created or progressing is None:
            conds = set_condition(
                conds,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{rs_name}"',
                now,
            )
        elif counts != old_counts or (progressing.get("reason") == "NewReplicaSetAvailable"):
            conds = set_condition(
                conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" is progressing.',
                now,
            )
        elif progressing.get("status") == "True" and deadline is not None:
            from kumo.sandbox.simulate.timeutil import seconds_since

            if seconds_since(progressing.get("lastUpdateTime"), self.sim.store.clock()) >= int(deadline):
                conds = set_condition(
                    conds,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.',
                    now,
                )
                self.sim.record_event(
                    d,
                    "ProgressDeadlineExceeded",
                    f'Deployment "{d["metadata"]["name"]}" has timed out progressing.',
                    "Warning",
                    component="deployment-controller",
                )
        if not complete and deadline is not None:
            self.sim.later(
                float(deadline) + 0.05, self.name, d["metadata"]["namespace"], d["metadata"]["name"]
            )
        status: dict[str, Any] = {"observedGeneration": d["metadata"].get("generation", 1)}
        if total:
            status["replicas"] = total
        if updated:
            status["updatedReplicas"] = updated
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        if replicas - available > 0:
            status["unavailableReplicas"] = replicas - available
        status["conditions"] = sorted(conds, key=lambda c: 0 if c["type"] == "Available" else 1)
        if old_status.get("collisionCount") is not None:
            status["collisionCount"] = old_status["collisionCount"]
        meta = d["metadata"]
        if new_rs is not None:
            rev = (new_rs["metadata"].get("annotations") or {}).get(REVISION)
            if rev and (meta.get("annotations") or {}).get(REVISION) != rev:
                meta.setdefault("annotations", {})[REVISION] = rev
                d = self.sim.store.update(
                    self.deploy_rt, meta["namespace"], meta["name"], d, manager="kube-controller-manager"
                )
        if status != old_status:
            d["status"] = status
            self.sim.store.update(
                self.deploy_rt,
                meta["namespace"],
                meta["name"],
                d,
                manager="kube-controller-manager",
                subresource="status",
            )


class ReplicaSetController:
    """ReplicaSets (and, through :class:`ReplicationControllerController`, ReplicationControllers:
    the same controller with a plain-map selector)."""

    name = "replicaset"
    group, plural, kind, component = "apps", "replicasets", "ReplicaSet", "replicaset-controller"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.rs_rt = sim.rt(self.group, "v1", self.plural)
        self.pod_rt = sim.rt("", "v1", "pods")

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        if ev.key == (self.group, self.plural):
            self.sim.enqueue(self.name, meta.get("namespace", ""), meta["name"])
        elif ev.key == ("", "pods"):
            ref = controller_of(ev.obj)
            if ref and ref.get("kind") == self.kind:
                self.sim.enqueue(self.name, meta.get("namespace", ""), ref["name"])

    def _selector(self, rs: dict[str, Any]) -> Any:
        return selector_from_label_selector_obj((rs.get("spec") or {}).get("selector")) or []

    def reconcile(self, namespace: str, name: str) -> None:
        rs = self.sim.store.try_get(self.rs_rt, namespace, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        uid = rs["metadata"]["uid"]
        # stored objects, read only: scanning through the owner index keeps big ReplicaSets cheap
        pods = [
            p
            for rt, p in self.sim.store.dependents(uid)
            if rt.store_key == ("", "pods")
            and (controller_of(p) or {}).get("uid") == uid
            and not p["metadata"].get("deletionTimestamp")
        ]
        want = int((rs.get("spec") or {}).get("replicas", 1))
        if len(pods) < want:
            for _ in range(want - len(pods)):
                pods.append(self._create_pod(rs))
        elif len(pods) > want:
            victims = sorted(pods, key=_deletion_rank)[: len(pods) - want]
            for p in victims:
                self.sim.store.delete(self.pod_rt, namespace, p["metadata"]["name"])
                self.sim.record_event(
                    rs,
                    "SuccessfulDelete",
                    f"Deleted pod: {p['metadata']['name']}",
                    component=self.component,
                )
            gone = {p["metadata"]["name"] for p in victims}
            pods = [p for p in pods if p["metadata"]["name"] not in gone]
        sel = self._selector(rs)
        ready = sum(1 for p in pods if pod_ready(p))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(1 for p in pods if labels_match(sel, p["metadata"].get("labels"))),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        if status != (rs.get("status") or {}):
            rs["status"] = status
            self.sim.store.update(
                self.rs_rt, namespace, name, rs, manager="kube-controller-manager", subresource="status"
            )

    def _create_pod(self, rs: dict[str, Any]) -> dict[str, Any]:
        meta = rs["metadata"]
        template = fast_copy((rs.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{meta['name']}-{self.sim.store.random_suffix(meta['name'] + '-')}",
                "namespace": meta["namespace"],
                "labels": tmeta.get("labels") or {},
                **({"annotations": tmeta["annotations"]} if tmeta.get("annotations") else {}),
                "ownerReferences": [owner_ref(rs)],
            },
            "spec": template.get("spec") or {},
        }
        out = self.sim.store.create(self.pod_rt, meta["namespace"], pod, manager="kube-controller-manager")
        self.sim.record_event(
            rs,
            "SuccessfulCreate",
            f"Created pod: {out['metadata']['name']}",
            component=self.component,
        )
        return out


class ReplicationControllerController(ReplicaSetController):
    name = "replicationcontroller"
    group, plural, kind, component = (
        "",
        "replicationcontrollers",
        "ReplicationController",
        "replication-controller",
    )

    def _selector(self, rs: dict[str, Any]) -> Any:
        sel = (rs.get("spec") or {}).get("selector") or {}
        return selector_from_label_selector_obj({"matchLabels": sel}) or []


def pod_ready(pod: dict[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _deletion_rank(pod: dict[str, Any]) -> tuple[int, int, str]:
    """Delete unscheduled, then pending, then not-ready pods first; newest first among equals."""
    spec, st = pod.get("spec") or {}, pod.get("status") or {}
    if not spec.get("nodeName"):
        rank = 0
    elif st.get("phase") == "Pending":
        rank = 1
    elif not pod_ready(pod):
        rank = 2
    else:
        rank = 3
    created = pod["metadata"].get("creationTimestamp", "")
    return (rank, 0, "".join(chr(0x10FFFF - ord(ch)) for ch in created))
