"""Cloud load balancers for ``type: LoadBalancer`` Services, and Endpoints/EndpointSlices that
follow the Pods a Service selects."""

from __future__ import annotations

import hashlib
from typing import Any

from kumo.sandbox.kubeapi import ApiError, Event
from kumo.sandbox.simulate.apps import owner_ref, pod_ready
from kumo.sandbox.simulate.core import SimBase

NLB_ANNOTATIONS = ("service.beta.kubernetes.io/aws-load-balancer-type",)
INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
SCHEME_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-scheme"


def lb_hostname(svc: dict[str, Any], region: str) -> str:
    """The hostname AWS would give: classic ELB by default, NLB when annotated for one."""
    meta = svc["metadata"]
    ann = meta.get("annotations") or {}
    uid = str(meta.get("uid", "")).replace("-", "")
    digest = hashlib.sha256(uid.encode()).hexdigest()
    internal = (
        ann.get(INTERNAL_ANNOTATION) in ("true", "0.0.0.0/0") or ann.get(SCHEME_ANNOTATION) == "internal"
    )
    lbtype = ann.get(NLB_ANNOTATIONS[0], "")
    if lbtype in ("nlb", "external", "nlb-ip"):
        prefix = f"k8s-{meta.get('namespace', '')[:8]}-{meta['name'][:8]}-{digest[:10]}"
        return f"{prefix}-{digest[10:26]}.elb.{region}.amazonaws.com"
    number = str(int(digest[:12], 16))[:10].rjust(10, "1")
    # the in-tree AWS provider names a classic ELB "a" + the Service UID without dashes, 32 chars
    return f"{'internal-' if internal else ''}{('a' + uid)[:32]}-{number}.{region}.elb.amazonaws.com"


def lb_addresses(hostname: str) -> tuple[list[str], list[str]]:
    """The IPv4 and IPv6 addresses a simulated load balancer's hostname stands for: two of each, as
    an ELB in two zones has, derived from the name so every process agrees on them. They come from
    ranges that are never routed (198.18.0.0/15 for benchmarks, 2001:db8::/32 for documentation)."""
    digest = hashlib.sha256(hostname.lower().rstrip(".").encode()).digest()
    v4 = [f"198.{18 + i}.{digest[2 * i]}.{max(1, digest[2 * i + 1] % 255)}" for i in range(2)]
    v6 = [f"2001:db8:{digest[4 + 2 * i]:x}{digest[5 + 2 * i]:02x}::{i + 1}" for i in range(2)]
    return v4, v6


def lb_ip(svc: dict[str, Any]) -> str:
    digest = hashlib.sha256(str(svc["metadata"].get("uid", "")).encode()).digest()
    return f"172.18.{digest[0]}.{max(1, digest[1] % 255)}"


class LoadBalancerController:
    name = "service-lb"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.svc_rt = sim.rt("", "v1", "services")

    def on_event(self, ev: Event) -> None:
        if ev.key == ("", "services") and ev.type != "DELETED":
            meta = ev.obj["metadata"]
            want_lb = (ev.obj.get("spec") or {}).get("type") == "LoadBalancer"
            has = bool(((ev.obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"))
            if want_lb and not has:
                self.sim.later(self.sim.config.lb_delay, self.name, meta["namespace"], meta["name"])
            elif has and not want_lb:
                self.sim.enqueue(self.name, meta["namespace"], meta["name"])

    def reconcile(self, namespace: str, name: str) -> None:
        svc = self.sim.store.try_get(self.svc_rt, namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            return
        spec = svc.get("spec") or {}
        if spec.get("type") == "LoadBalancer":
            mode, region = self.sim.cloud()
            if mode == "aws":
                ingress = [{"hostname": lb_hostname(svc, region)}]
            else:
                ingress = [{"ip": lb_ip(svc), "ipMode": "VIP"}]
        else:
            ingress = []
        lb = {"ingress": ingress} if ingress else {}
        if (svc.get("status") or {}).get("loadBalancer") == lb:
            return
        svc["status"] = {**(svc.get("status") or {}), "loadBalancer": lb}
        self.sim.store.update(
            self.svc_rt, namespace, name, svc, manager="service-controller", subresource="status"
        )
        if ingress:
            self.sim.record_event(
                svc, "EnsuredLoadBalancer", "Ensured load balancer", component="service-controller"
            )


class EndpointsController:
    name = "endpoints"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.svc_rt = sim.rt("", "v1", "services")
        self.pod_rt = sim.rt("", "v1", "pods")
        self.ep_rt = sim.rt("", "v1", "endpoints")
        self.slice_rt = sim.rt("discovery.k8s.io", "v1", "endpointslices")

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        if ev.key == ("", "services"):
            self.sim.enqueue(self.name, meta["namespace"], meta["name"])
        elif ev.key == ("", "pods"):
            labels_now = meta.get("labels") or {}
            labels_old = ((ev.old or {}).get("metadata") or {}).get("labels") or {}
            for svc in self.sim.store.list_refs(self.svc_rt, meta["namespace"])[0]:
                sel = (svc.get("spec") or {}).get("selector") or {}
                if sel and (
                    all(labels_now.get(k) == v for k, v in sel.items())
                    or all(labels_old.get(k) == v for k, v in sel.items())
                ):
                    self.sim.enqueue(self.name, meta["namespace"], svc["metadata"]["name"])

    def reconcile(self, namespace: str, name: str) -> None:
        svc = self.sim.store.try_get(self.svc_rt, namespace, name)
        slice_name = f"{name}-{self.sim.stable_hex(namespace, name, n=5)}"
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            return  # owner references make the garbage collector remove ours
        sel = svc["spec"]["selector"]
        pods = [
            p
            for p in self.sim.store.list_refs(self.pod_rt, namespace)[0]
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
            and (p.get("status") or {}).get("podIP")
            and not p["metadata"].get("deletionTimestamp")
        ]
        pods.sort(key=lambda p: p["metadata"]["name"])
        ports = []
        for sp in svc["spec"].get("ports") or []:
            target = sp.get("targetPort", sp.get("port"))
            port = target if isinstance(target, int) else _named_port(pods, str(target), sp.get("port"))
            entry = {"port": port, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            ports.append(entry)
        endpoints = []
        for p in pods:
            ready = pod_ready(p)
            endpoints.append(
                {
                    "addresses": [p["status"]["podIP"]],
                    "conditions": {"ready": ready, "serving": ready, "terminating": False},
                    "nodeName": p["spec"].get("nodeName"),
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": namespace,
                        "name": p["metadata"]["name"],
                        "uid": p["metadata"]["uid"],
                    },
                }
            )
        labels = {
            "kubernetes.io/service-name": name,
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        }
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""  # as the real controller marks them
        es = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": slice_name,
                "namespace": namespace,
                "labels": labels,
                "ownerReferences": [owner_ref(svc)],
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }
        self._upsert(self.slice_rt, namespace, slice_name, es, ("endpoints", "ports", "addressType"))
        ready_addrs = [_addr(p) for p in pods if pod_ready(p)]
        unready = [_addr(p) for p in pods if not pod_ready(p)]
        subset: dict[str, Any] = {}
        if ready_addrs:
            subset["addresses"] = ready_addrs
        if unready:
            subset["notReadyAddresses"] = unready
        if subset:
            subset["ports"] = ports
        ep = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "ownerReferences": [owner_ref(svc)]},
            "subsets": [subset] if subset else [],
        }
        self._upsert(self.ep_rt, namespace, name, ep, ("subsets",))

    def _upsert(
        self, rt: Any, namespace: str, name: str, obj: dict[str, Any], fields: tuple[str, ...]
    ) -> None:
        cur = self.sim.store.try_get(rt, namespace, name)
        try:
            if cur is None:
                self.sim.store.create(rt, namespace, obj, manager="endpointslice-controller")
            elif any(cur.get(f) != obj.get(f) for f in fields):
                for f in fields:
                    cur[f] = obj[f]
                self.sim.store.update(rt, namespace, name, cur, manager="endpointslice-controller")
        except ApiError:
            pass


def _addr(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "ip": p["status"]["podIP"],
        "nodeName": p["spec"].get("nodeName"),
        "targetRef": {
            "kind": "Pod",
            "namespace": p["metadata"]["namespace"],
            "name": p["metadata"]["name"],
            "uid": p["metadata"]["uid"],
        },
    }


def _named_port(pods: list[dict[str, Any]], name: str, default: Any) -> Any:
    for p in pods:
        for c in p["spec"].get("containers") or []:
            for cp in c.get("ports") or []:
                if cp.get("name") == name:
                    return cp.get("containerPort")
    return default
