"""StatefulSet and DaemonSet controllers, with the ControllerRevisions both keep their templates in.

They follow the real controllers closely enough for ``kubectl rollout status`` and ``rollout
history``: StatefulSet Pods are ``<name>-<ordinal>``, created in order (``OrderedReady``: each one
after the one before is Ready; ``Parallel``: all at once), removed from the highest ordinal, and
replaced from the highest ordinal down on a rolling update (honouring ``partition``); DaemonSets
run one Pod on every Node that matches their ``nodeSelector`` and replace old Pods up to
``maxUnavailable`` at a time. Status carries every count the official clients' models require.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kumo.sandbox.kubeapi import ApiError, Event, fast_copy
from kumo.sandbox.simulate.apps import (
    controller_of,
    owner_ref,
    pod_ready,
    resolve_int_or_percent,
    template_hash,
)
from kumo.sandbox.simulate.core import SimBase

REVISION_HASH = "controller-revision-hash"
_MANAGER = "kube-controller-manager"


class Revisions:
    """ControllerRevisions of one owner: the template of each revision, numbered in order."""

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.rt = sim.rt("apps", "v1", "controllerrevisions")

    def owned(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        return [
            r
            for rt, r in self.sim.store.dependents(uid)
            if rt.store_key == self.rt.store_key and (controller_of(r) or {}).get("uid") == uid
        ]

    def ensure(self, owner: dict[str, Any], labels: dict[str, str]) -> tuple[str, str]:
        """The current template's revision (created, or renumbered when rolled back to):
        ``(name, hash)``."""
        meta = owner["metadata"]
        template = (owner.get("spec") or {}).get("template") or {}
        digest = template_hash(template)
        name = f"{meta['name']}-{digest}"
        revisions = self.owned(owner)
        top = max((int(r.get("revision", 0)) for r in revisions), default=0)
        mine = next((r for r in revisions if r["metadata"]["name"] == name), None)
        if mine is None:
            body = {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": {
                    "name": name,
                    "namespace": meta["namespace"],
                    "labels": {**labels, REVISION_HASH: digest},
                    "ownerReferences": [owner_ref(owner)],
                },
                "data": {"spec": {"template": {**fast_copy(template), "$patch": "replace"}}},
                "revision": top + 1,
            }
            with contextlib.suppress(ApiError):
                self.sim.store.create(self.rt, meta["namespace"], body, manager=_MANAGER)
            self._trim(owner, keep=name)
        elif int(mine.get("revision", 0)) < top:
            mine = fast_copy(mine)
            mine["revision"] = top + 1
            self.sim.store.update(self.rt, meta["namespace"], name, mine, manager=_MANAGER)
        return name, digest

    def template(self, owner: dict[str, Any], name: str) -> dict[str, Any] | None:
        rev = self.sim.store.try_get(self.rt, owner["metadata"]["namespace"], name)
        if rev is None:
            return None
        tmpl = dict(((rev.get("data") or {}).get("spec") or {}).get("template") or {})
        tmpl.pop("$patch", None)
        return tmpl

    def _trim(self, owner: dict[str, Any], keep: str) -> None:
        limit = int((owner.get("spec") or {}).get("revisionHistoryLimit", 10))
        current = str((owner.get("status") or {}).get("currentRevision", ""))
        old = sorted(self.owned(owner), key=lambda r: int(r.get("revision", 0)))
        spare = [r for r in old if r["metadata"]["name"] not in (keep, current)]
        for r in spare[: max(0, len(spare) - limit)]:
            with contextlib.suppress(ApiError):
                self.sim.store.delete(self.rt, r["metadata"]["namespace"], r["metadata"]["name"])


def _pod_body(
    owner: dict[str, Any], template: dict[str, Any], name: str, labels: dict[str, str]
) -> dict[str, Any]:
    tmeta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "labels": {**(tmeta.get("labels") or {}), **labels},
            **({"annotations": tmeta["annotations"]} if tmeta.get("annotations") else {}),
            "ownerReferences": [owner_ref(owner)],
        },
        "spec": fast_copy(template.get("spec") or {}),
    }


def _terminating(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


class _OwnedPods:
    def __init__(self, sim: SimBase, kind: str) -> None:
        self.sim = sim
        self.kind = kind
        self.pod_rt = sim.rt("", "v1", "pods")

    def of(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        return [
            p
            for rt, p in self.sim.store.dependents(uid)
            if rt.store_key == ("", "pods") and (controller_of(p) or {}).get("uid") == uid
        ]

    def create(self, owner: dict[str, Any], body: dict[str, Any], component: str) -> None:
        try:
            out = self.sim.store.create(self.pod_rt, owner["metadata"]["namespace"], body, manager=_MANAGER)
        except ApiError as exc:
            if exc.code == 409:
                return  # still terminating under the same name; retried when it is gone
            raise
        self.sim.record_event(owner, "SuccessfulCreate", self._msg("create", out, owner), component=component)

    def delete(self, owner: dict[str, Any], pod: dict[str, Any], component: str) -> None:
        meta = pod["metadata"]
        with contextlib.suppress(ApiError):
            self.sim.store.delete(self.pod_rt, meta["namespace"], meta["name"])
            self.sim.record_event(
                owner, "SuccessfulDelete", self._msg("delete", pod, owner), component=component
            )

    def _msg(self, verb: str, pod: dict[str, Any], owner: dict[str, Any]) -> str:
        name = pod["metadata"]["name"]
        if self.kind == "StatefulSet":
            return f"{verb} Pod {name} in StatefulSet {owner['metadata']['name']} successful"
        return f"{verb.capitalize()}d pod: {name}"


class StatefulSetController:
    name = "statefulset"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.rt = sim.rt("apps", "v1", "statefulsets")
        self.pvc_rt = sim.rt("", "v1", "persistentvolumeclaims")
        self.pods = _OwnedPods(sim, "StatefulSet")
        self.revisions = Revisions(sim)

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        if ev.key == ("apps", "statefulsets"):
            self.sim.enqueue(self.name, meta.get("namespace", ""), meta["name"])
        elif ev.key == ("", "pods"):
            ref = controller_of(ev.obj)
            if ref and ref.get("kind") == "StatefulSet":
                self.sim.enqueue(self.name, meta.get("namespace", ""), ref["name"])

    def reconcile(self, namespace: str, name: str) -> None:
        sts = self.sim.store.try_get(self.rt, namespace, name)
        if sts is None or _terminating(sts):
            return
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        match = ((spec.get("selector") or {}).get("matchLabels")) or {}
        update_rev, _ = self.revisions.ensure(sts, match)
        status = sts.get("status") or {}
        current_rev = str(status.get("currentRevision") or update_rev)
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0)) if rolling else 0
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        by_ordinal: dict[int, dict[str, Any]] = {}
        for p in self.pods.of(sts):
            suffix = p["metadata"]["name"].rsplit("-", 1)[-1]
            if suffix.isdigit():
                by_ordinal[int(suffix)] = p
        busy = any(_terminating(p) for p in by_ordinal.values())
        for i in range(replicas):
            pod = by_ordinal.get(i)
            if pod is None:
                rev = update_rev if not rolling or i >= partition else current_rev
                self._create(sts, i, rev)
                if ordered:
                    break
                continue
            if ordered and (_terminating(pod) or not pod_ready(pod)):
                break
        else:
            extra = sorted((i for i in by_ordinal if i >= replicas), reverse=True)
            if extra and not (ordered and busy):
                for i in extra[:1] if ordered else extra:
                    if not _terminating(by_ordinal[i]):
                        self.pods.delete(sts, by_ordinal[i], "statefulset-controller")
            elif rolling and not busy:
                stale = [
                    i
                    for i in range(replicas - 1, partition - 1, -1)
                    if i in by_ordinal
                    and by_ordinal[i]["metadata"].get("labels", {}).get(REVISION_HASH) != update_rev
                ]
                if stale and all(pod_ready(by_ordinal[i]) for i in range(replicas) if i in by_ordinal):
                    self.pods.delete(sts, by_ordinal[stale[0]], "statefulset-controller")
        self._status(sts, update_rev, current_rev)

    def _create(self, sts: dict[str, Any], ordinal: int, revision: str) -> None:
        meta, spec = sts["metadata"], sts.get("spec") or {}
        template = self.revisions.template(sts, revision) or spec.get("template") or {}
        pod_name = f"{meta['name']}-{ordinal}"
        labels = {
            REVISION_HASH: revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        body = _pod_body(sts, template, pod_name, labels)
        pod_spec = body["spec"]
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        volumes = list(pod_spec.get("volumes") or [])
        for claim in spec.get("volumeClaimTemplates") or []:
            cname = str((claim.get("metadata") or {}).get("name", ""))
            pvc_name = f"{cname}-{pod_name}"
            if self.sim.store.try_get(self.pvc_rt, meta["namespace"], pvc_name) is None:
                pvc = {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {
                        "name": pvc_name,
                        "namespace": meta["namespace"],
                        "labels": dict(((spec.get("selector") or {}).get("matchLabels")) or {}),
                    },
                    "spec": fast_copy(claim.get("spec") or {}),
                }
                with contextlib.suppress(ApiError):
                    self.sim.store.create(self.pvc_rt, meta["namespace"], pvc, manager=_MANAGER)
            if not any(v.get("name") == cname for v in volumes):
                volumes.append({"name": cname, "persistentVolumeClaim": {"claimName": pvc_name}})
        if volumes:
            pod_spec["volumes"] = volumes
        self.pods.create(sts, body, "statefulset-controller")

    def _status(self, sts: dict[str, Any], update_rev: str, current_rev: str) -> None:
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        live = [p for p in self.pods.of(sts) if not _terminating(p)]
        revs = [p["metadata"].get("labels", {}).get(REVISION_HASH) for p in live]
        ready = sum(1 for p in live if pod_ready(p))
        updated = revs.count(update_rev)
        if updated == replicas == len(live) and ready == replicas:
            current_rev = update_rev
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": revs.count(current_rev),
            "updatedReplicas": updated,
            "currentRevision": current_rev,
            "updateRevision": update_rev,
            "collisionCount": 0,
            "availableReplicas": ready,
        }
        if status != (sts.get("status") or {}):
            sts["status"] = status
            meta = sts["metadata"]
            self.sim.store.update(
                self.rt, meta["namespace"], meta["name"], sts, manager=_MANAGER, subresource="status"
            )


class DaemonSetController:
    name = "daemonset"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.rt = sim.rt("apps", "v1", "daemonsets")
        self.node_rt = sim.rt("", "v1", "nodes")
        self.pods = _OwnedPods(sim, "DaemonSet")
        self.revisions = Revisions(sim)

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        if ev.key == ("apps", "daemonsets"):
            self.sim.enqueue(self.name, meta.get("namespace", ""), meta["name"])
        elif ev.key == ("", "pods"):
            ref = controller_of(ev.obj)
            if ref and ref.get("kind") == "DaemonSet":
                self.sim.enqueue(self.name, meta.get("namespace", ""), ref["name"])
        elif ev.key == ("", "nodes") and ev.type in ("ADDED", "DELETED"):
            for ds in self.sim.store.list_refs(self.rt)[0]:
                self.sim.enqueue(self.name, ds["metadata"]["namespace"], ds["metadata"]["name"])

    def _nodes(self, ds: dict[str, Any]) -> list[str]:
        tmpl_spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        selector = tmpl_spec.get("nodeSelector") or {}
        out = []
        for n in self.sim.store.list_refs(self.node_rt)[0]:
            labels = n["metadata"].get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                out.append(str(n["metadata"]["name"]))
        return sorted(out)

    def reconcile(self, namespace: str, name: str) -> None:
        ds = self.sim.store.try_get(self.rt, namespace, name)
        if ds is None or _terminating(ds):
            return
        spec = ds.get("spec") or {}
        match = ((spec.get("selector") or {}).get("matchLabels")) or {}
        _, digest = self.revisions.ensure(ds, match)
        nodes = self._nodes(ds)
        pods = self.pods.of(ds)
        on: dict[str, list[dict[str, Any]]] = {}
        for p in pods:
            on.setdefault(str((p.get("spec") or {}).get("nodeName", "")), []).append(p)
        for node in nodes:
            if not any(not _terminating(p) for p in on.get(node, [])):
                self._create(ds, node, digest)
        for node, there in on.items():
            if node not in nodes:
                for p in there:
                    if not _terminating(p):
                        self.pods.delete(ds, p, "daemonset-controller")
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            max_unavailable = max(
                1,
                resolve_int_or_percent(
                    (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), len(nodes), True
                ),
            )
            live = [p for n in nodes for p in on.get(n, []) if not _terminating(p)]
            unavailable = sum(1 for p in live if not pod_ready(p)) + sum(
                1 for n in nodes if not any(not _terminating(p) for p in on.get(n, []))
            )
            stale = [p for p in live if p["metadata"].get("labels", {}).get(REVISION_HASH) != digest]
            stale.sort(key=lambda p: pod_ready(p))  # replace broken old Pods first
            budget = max_unavailable - unavailable
            for p in stale:
                if pod_ready(p) and budget <= 0:
                    break
                self.pods.delete(ds, p, "daemonset-controller")
                if pod_ready(p):
                    budget -= 1
        self._status(ds, nodes, digest)

    def _create(self, ds: dict[str, Any], node: str, digest: str) -> None:
        template = (ds.get("spec") or {}).get("template") or {}
        labels = {REVISION_HASH: digest, "pod-template-generation": str(ds["metadata"].get("generation", 1))}
        prefix = f"{ds['metadata']['name']}-"
        body = _pod_body(ds, template, prefix + self.sim.store.random_suffix(prefix), labels)
        body["spec"]["nodeName"] = node
        tolerations = list(body["spec"].get("tolerations") or [])
        for key, effect in (
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ):
            if not any(t.get("key") == key for t in tolerations):
                tolerations.append({"key": key, "operator": "Exists", "effect": effect})
        body["spec"]["tolerations"] = tolerations
        self.pods.create(ds, body, "daemonset-controller")

    def _status(self, ds: dict[str, Any], nodes: list[str], digest: str) -> None:
        live = [p for p in self.pods.of(ds) if not _terminating(p)]
        on_nodes = [p for p in live if (p.get("spec") or {}).get("nodeName") in nodes]
        ready = sum(1 for p in on_nodes if pod_ready(p))
        status: dict[str, Any] = {
            "currentNumberScheduled": len({(p.get("spec") or {}).get("nodeName") for p in on_nodes}),
            "desiredNumberScheduled": len(nodes),
            "numberMisscheduled": len(live) - len(on_nodes),
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": sum(
                1 for p in on_nodes if p["metadata"].get("labels", {}).get(REVISION_HASH) == digest
            ),
            "numberAvailable": ready,
            "numberUnavailable": len(nodes) - ready,
        }
        status = {k: v for k, v in status.items() if v or k not in ("numberAvailable", "numberUnavailable")}
        if status != (ds.get("status") or {}):
            ds["status"] = status
            meta = ds["metadata"]
            self.sim.store.update(
                self.rt, meta["namespace"], meta["name"], ds, manager=_MANAGER, subresource="status"
            )
