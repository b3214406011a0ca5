"""The scheduler and the kubelet: Pods are bound to Nodes that fit their requests, then pull,
start and become Ready after ``pod_ready_delay`` -- or fail in the configured ways
(``image_pull_fail`` patterns go to ImagePullBackOff, ``crash_loop`` patterns to CrashLoopBackOff)."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from kumo.sandbox.kubeapi import Event
from kumo.sandbox.simulate.core import SimBase
from kumo.sandbox.simulate.quantity import parse_quantity

POD_CIDR = ipaddress.ip_network("10.244.0.0/16")


def pod_requests(pod: dict[str, Any]) -> tuple[float, float]:
    cpu = mem = 0.0
    for c in (pod.get("spec") or {}).get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") or {}
        cpu += parse_quantity(req.get("cpu", 0))
        mem += parse_quantity(req.get("memory", 0))
    return cpu, mem


def _matches(image: str, patterns: tuple[str, ...]) -> bool:
    return any(p and p in image for p in patterns)


class PodController:
    name = "pod"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.pod_rt = sim.rt("", "v1", "pods")
        self.node_rt = sim.rt("", "v1", "nodes")
        self._ip_seq = 0
        self._restarts: dict[str, int] = {}
        # uid -> monotonic time before which the kubelet has nothing new to report for the pod
        self._due: dict[str, float] = {}
        # pod uid -> (node, cpu, memory) of every bound, non-terminal Pod: the scheduler's cache
        self._bound: dict[str, tuple[str, float, float]] = {}
        self._unbound: set[tuple[str, str]] = set()
        # uid -> monotonic time at which a terminating Pod's containers have exited
        self._stop_due: dict[str, float] = {}

    def _wait(self, pod: dict[str, Any], delay: float) -> None:
        meta = pod["metadata"]
        self._due[meta["uid"]] = time.monotonic() + delay
        self.sim.later(delay, self.name, meta["namespace"], meta["name"])

    def on_event(self, ev: Event) -> None:
        if ev.key == ("", "pods"):
            meta = ev.obj["metadata"]
            uid = meta.get("uid", "")
            key = (meta.get("namespace", ""), meta["name"])
            node = (ev.obj.get("spec") or {}).get("nodeName")
            terminal = (ev.obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            if ev.type == "DELETED" or terminal:
                self._unbound.discard(key)
                if self._bound.pop(uid, None) is not None:
                    self._retry_unschedulable()
            if ev.type == "DELETED":
                self._restarts.pop(uid, None)
                self._due.pop(uid, None)
                self._stop_due.pop(uid, None)
                return
            if node and not terminal:
                self._unbound.discard(key)
                cpu, mem = pod_requests(ev.obj)
                self._bound[uid] = (str(node), cpu, mem)
            elif not node:
                self._unbound.add(key)
            self.sim.enqueue(self.name, meta.get("namespace", ""), meta["name"])
        elif ev.key == ("", "nodes") and ev.type != "DELETED":
            self._retry_unschedulable()

    def _retry_unschedulable(self) -> None:
        for ns, name in sorted(self._unbound):
            self.sim.enqueue(self.name, ns, name)

    def reconcile(self, namespace: str, name: str) -> None:
        pod = self.sim.store.try_get(self.pod_rt, namespace, name)
        if pod is None:
            return
        if pod["metadata"].get("deletionTimestamp"):
            self._terminate(pod)
            return
        spec = pod.get("spec") or {}
        if not spec.get("nodeName"):
            self._schedule(pod)
            return
        status = pod.get("status") or {}
        due = self._due.get(pod["metadata"]["uid"])
        if due is not None and time.monotonic() < due:
            self.sim.later(due - time.monotonic() + 0.005, self.name, namespace, name)
            return
        if not status.get("containerStatuses"):
            self._start(pod)
            return
        images = [str(c.get("image", "")) for c in spec.get("containers") or []]
        cfg = self.sim.config
        if any(_matches(i, cfg.image_pull_fail) for i in images):
            self._pull_fail(pod)
        elif any(_matches(i, cfg.crash_loop) for i in images):
            self._crash(pod)
        else:
            self._run(pod)

    # --- scheduling -------------------------------------------------------------------------

    def _schedule(self, pod: dict[str, Any]) -> None:
        nodes = [
            n
            for n in self.sim.store.list_refs(self.node_rt)[0]
            if not (n.get("spec") or {}).get("unschedulable")
        ]
        want_cpu, want_mem = pod_requests(pod)
        used: dict[str, list[float]] = {n["metadata"]["name"]: [0.0, 0.0, 0.0] for n in nodes}
        for node, c, m in self._bound.values():
            if node in used:
                used[node][0] += c
                used[node][1] += m
                used[node][2] += 1
        fits: list[tuple[float, str]] = []
        short = {"cpu": 0, "memory": 0, "pods": 0}
        selector = (pod.get("spec") or {}).get("nodeSelector") or {}
        for n in nodes:
            alloc = (n.get("status") or {}).get("allocatable") or {}
            nm = n["metadata"]["name"]
            labels = n["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            cap_cpu, cap_mem = parse_quantity(alloc.get("cpu", 0)), parse_quantity(alloc.get("memory", 0))
            cap_pods = parse_quantity(alloc.get("pods", 110))
            ok = True
            if used[nm][0] + want_cpu > cap_cpu:
                short["cpu"] += 1
                ok = False
            if used[nm][1] + want_mem > cap_mem:
                short["memory"] += 1
                ok = False
            if used[nm][2] + 1 > cap_pods:
                short["pods"] += 1
                ok = False
            if ok:
                fits.append((used[nm][0] / max(cap_cpu, 1e-9) + used[nm][1] / max(cap_mem, 1.0), nm))
        meta = pod["metadata"]
        if not fits:
            reasons = (
                ", ".join(f"{v} Insufficient {k}" for k, v in short.items() if v)
                or f"{len(nodes)} node(s) didn't match Pod's node affinity/selector"
            )
            msg = f"0/{len(nodes)} nodes are available: {reasons}."
            conds = [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": msg,
                    "lastProbeTime": None,
                    "lastTransitionTime": self.sim.now(),
                }
            ]
            st = pod.get("status") or {}
            if [
                {k: v for k, v in c.items() if k != "lastTransitionTime"} for c in st.get("conditions") or []
            ] != [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conds]:
                pod["status"] = {**st, "phase": "Pending", "conditions": conds}
                self._write_status(pod, "default-scheduler")
                self.sim.record_event(pod, "FailedScheduling", msg, "Warning", component="default-scheduler")
            return
        node = min(fits)[1]
        pod["spec"]["nodeName"] = node
        pod = self.sim.store.update(
            self.pod_rt, meta["namespace"], meta["name"], pod, manager="default-scheduler"
        )
        pod["status"] = {
            **(pod.get("status") or {}),
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": self.sim.now(),
                }
            ],
        }
        self._write_status(pod, "default-scheduler")
        self.sim.record_event(
            pod,
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
            component="default-scheduler",
        )

    # --- kubelet ----------------------------------------------------------------------------

    def _terminate(self, pod: dict[str, Any]) -> None:
        """Graceful termination: the containers get SIGTERM and stop being Ready at once; they
        exit after the grace period (shortened to ``termination_delay``), then the kubelet
        deletes the Pod for good, as a real kubelet does with a grace period of 0."""
        meta = pod["metadata"]
        grace = int(meta.get("deletionGracePeriodSeconds") or 0)
        if grace <= 0 or not (pod.get("spec") or {}).get("nodeName"):
            return  # the API server deletes it (or finalizers hold it)
        uid = meta["uid"]
        due = self._stop_due.get(uid)
        if due is None:
            delay = min(float(grace), self.sim.config.termination_delay)
            self._stop_due[uid] = time.monotonic() + delay
            statuses = [
                {**s, "ready": False} for s in (pod.get("status") or {}).get("containerStatuses") or []
            ]
            phase = str((pod.get("status") or {}).get("phase") or "Pending")
            self._set(pod, statuses, phase, False)
            self.sim.later(delay, self.name, meta["namespace"], meta["name"])
            return
        if time.monotonic() < due:
            self.sim.later(due - time.monotonic() + 0.005, self.name, meta["namespace"], meta["name"])
            return
        self.sim.store.delete(
            self.pod_rt,
            meta["namespace"],
            meta["name"],
            preconditions={"uid": uid},
            grace_period=0,
        )

    def _write_status(self, pod: dict[str, Any], manager: str) -> None:
        meta = pod["metadata"]
        self.sim.store.update(
            self.pod_rt, meta["namespace"], meta["name"], pod, manager=manager, subresource="status"
        )

    def _node_ip(self, node: str) -> str:
        n = self.sim.store.try_get(self.node_rt, None, node)
        for a in ((n or {}).get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                return str(a.get("address"))
        return "10.0.0.10"

    def _start(self, pod: dict[str, Any]) -> None:
        spec = pod["spec"]
        self._ip_seq += 1
        now = self.sim.now()
        statuses = [
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": "ContainerCreating"}},
            }
            for c in spec.get("containers") or []
        ]
        conds = [
            c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"
        ]
        conds += [
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
            {
                "type": "Ready",
                "status": "False",
                "reason": "ContainersNotReady",
                "lastProbeTime": None,
                "lastTransitionTime": now,
                "message": "containers with unready status: ["
                + " ".join(str(s["name"]) for s in statuses)
                + "]",
            },
            {
                "type": "ContainersReady",
                "status": "False",
                "reason": "ContainersNotReady",
                "lastProbeTime": None,
                "lastTransitionTime": now,
            },
        ]
        pod["status"] = {
            **(pod.get("status") or {}),
            "phase": "Pending",
            "hostIP": self._node_ip(spec["nodeName"]),
            "hostIPs": [{"ip": self._node_ip(spec["nodeName"])}],
            "podIP": str(POD_CIDR.network_address + self._ip_seq + 1),
            "startTime": now,
            "conditions": conds,
            "containerStatuses": statuses,
        }
        pod["status"]["podIPs"] = [{"ip": pod["status"]["podIP"]}]
        self._write_status(pod, "kubelet")
        for c in spec.get("containers") or []:
            self.sim.record_event(pod, "Pulling", f'Pulling image "{c.get("image")}"')
        self._wait(pod, self.sim.config.pod_ready_delay)

    def _set(self, pod: dict[str, Any], statuses: list[dict[str, Any]], phase: str, ready: bool) -> bool:
        st = pod.get("status") or {}
        now = self.sim.now()
        conds = []
        for c in st.get("conditions") or []:
            if c.get("type") in ("Ready", "ContainersReady"):
                want = "True" if ready else "False"
                if c.get("status") != want:
                    c = {"type": c["type"], "status": want, "lastProbeTime": None, "lastTransitionTime": now}
                    if not ready:
                        c["reason"] = "ContainersNotReady"
            conds.append(c)
        new = {**st, "phase": phase, "conditions": conds, "containerStatuses": statuses}
        if new == st:
            return False
        pod["status"] = new
        self._write_status(pod, "kubelet")
        return True

    def _run(self, pod: dict[str, Any]) -> None:
        now = self.sim.now()
        old = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        statuses = []
        for c in pod["spec"].get("containers") or []:
            prev = old.get(c.get("name")) or {}
            running = (prev.get("state") or {}).get("running")
            digest = self.sim.stable_hex(str(c.get("image")), n=64)
            cid = self.sim.stable_hex(pod["metadata"]["uid"], str(c.get("name")), n=64)
            statuses.append(
                {
                    "name": c.get("name"),
                    "image": c.get("image"),
                    "imageID": f"docker.io/library/{c.get('image')}@sha256:{digest}",
                    "containerID": f"containerd://{cid}",
                    "ready": True,
                    "started": True,
                    "restartCount": prev.get("restartCount", 0),
                    "state": {"running": running or {"startedAt": now}},
                }
            )
        if self._set(pod, statuses, "Running", True):
            for c in pod["spec"].get("containers") or []:
                self.sim.record_event(pod, "Pulled", f'Successfully pulled image "{c.get("image")}"')
                self.sim.record_event(pod, "Created", f"Created container {c.get('name')}")
                self.sim.record_event(pod, "Started", f"Started container {c.get('name')}")

    def _pull_fail(self, pod: dict[str, Any]) -> None:
        cfg = self.sim.config
        old = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        statuses = []
        first = True
        for c in pod["spec"].get("containers") or []:
            image = str(c.get("image", ""))
            prev = ((old.get(c.get("name")) or {}).get("state") or {}).get("waiting") or {}
            if _matches(image, cfg.image_pull_fail):
                reason = (
                    "ImagePullBackOff"
                    if prev.get("reason") in ("ErrImagePull", "ImagePullBackOff")
                    else "ErrImagePull"
                )
                first = first and reason == "ErrImagePull"
                msg = (
                    f'Back-off pulling image "{image}"'
                    if reason == "ImagePullBackOff"
                    else f'failed to pull and unpack image "{image}": not found'
                )
                statuses.append(
                    {
                        "name": c.get("name"),
                        "image": image,
                        "imageID": "",
                        "ready": False,
                        "started": False,
                        "restartCount": 0,
                        "state": {"waiting": {"reason": reason, "message": msg}},
                    }
                )
            else:
                statuses.append(
                    {
                        "name": c.get("name"),
                        "image": image,
                        "imageID": "",
                        "ready": False,
                        "started": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": self.sim.now()}},
                    }
                )
        if self._set(pod, statuses, "Pending", False):
            bad = next(
                str(c.get("image"))
                for c in pod["spec"].get("containers") or []
                if _matches(str(c.get("image", "")), cfg.image_pull_fail)
            )
            if first:
                self.sim.record_event(pod, "Failed", f'Failed to pull image "{bad}": not found', "Warning")
                self.sim.record_event(pod, "Failed", "Error: ErrImagePull", "Warning")
                self._wait(pod, cfg.crash_interval)
            else:
                self.sim.record_event(pod, "BackOff", f'Back-off pulling image "{bad}"', "Normal")
                self.sim.record_event(pod, "Failed", "Error: ImagePullBackOff", "Warning")

    def _crash(self, pod: dict[str, Any]) -> None:
        cfg = self.sim.config
        meta = pod["metadata"]
        uid = meta["uid"]
        restarts = self._restarts.get(uid, -1) + 1
        self._restarts[uid] = restarts
        now = self.sim.now()
        statuses = []
        for c in pod["spec"].get("containers") or []:
            image = str(c.get("image", ""))
            if _matches(image, cfg.crash_loop):
                statuses.append(
                    {
                        "name": c.get("name"),
                        "image": image,
                        "imageID": "",
                        "ready": False,
                        "started": False,
                        "restartCount": restarts,
                        "state": {
                            "waiting": {
                                "reason": "CrashLoopBackOff",
                                "message": f"back-off restarting failed container {c.get('name')}",
                            }
                        },
                        "lastState": {
                            "terminated": {
                                "exitCode": 1,
                                "reason": "Error",
                                "startedAt": now,
                                "finishedAt": now,
                            }
                        },
                    }
                )
            else:
                statuses.append(
                    {
                        "name": c.get("name"),
                        "image": image,
                        "imageID": "",
                        "ready": True,
                        "started": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": now}},
                    }
                )
        self._set(pod, statuses, "Running", False)
        name = next(
            str(c.get("name"))
            for c in pod["spec"].get("containers") or []
            if _matches(str(c.get("image", "")), cfg.crash_loop)
        )
        self.sim.record_event(
            pod,
            "BackOff",
            f"Back-off restarting failed container {name} in pod {meta['name']}_{meta['namespace']}({uid})",
            "Warning",
        )
        self._wait(pod, cfg.crash_interval * min(2**restarts, 8))
