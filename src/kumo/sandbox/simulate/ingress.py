"""Ingress and Gateway controllers: published addresses, the way AWS's load balancer controller
(or an ingress controller's LoadBalancer Service) would report them."""

from __future__ import annotations

import hashlib
from typing import Any

from kumo.sandbox.kubeapi import Event
from kumo.sandbox.simulate.core import SimBase
from kumo.sandbox.simulate.services import lb_ip


def alb_hostname(obj: dict[str, Any], region: str) -> str:
    meta = obj["metadata"]
    digest = hashlib.sha256(str(meta.get("uid", "")).encode()).hexdigest()
    number = str(int(digest[10:22], 16))[:10].rjust(10, "1")
    prefix = f"k8s-{meta.get('namespace', '')[:8]}-{meta['name'][:8]}-{digest[:10]}"
    return f"{prefix}-{number}.{region}.elb.amazonaws.com"


class IngressController:
    name = "ingress"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.ing_rt = sim.rt("networking.k8s.io", "v1", "ingresses")
        self.gw_rt = sim.rt("gateway.networking.k8s.io", "v1", "gateways")

    def on_event(self, ev: Event) -> None:
        if ev.type == "DELETED" or ev.key not in (
            ("networking.k8s.io", "ingresses"),
            ("gateway.networking.k8s.io", "gateways"),
        ):
            return
        if ev.key[1] == "gateways" and not self.sim.config.gateways:
            return
        meta = ev.obj["metadata"]
        kind = "ing" if ev.key[1] == "ingresses" else "gw"
        self.sim.later(self.sim.config.lb_delay, self.name, meta["namespace"], f"{kind}/{meta['name']}")

    def _address(self, obj: dict[str, Any]) -> dict[str, str]:
        mode, region = self.sim.cloud()
        if mode == "aws":
            return {"hostname": alb_hostname(obj, region)}
        return {"ip": lb_ip(obj)}

    def reconcile(self, namespace: str, key: str) -> None:
        kind, _, name = key.partition("/")
        if kind == "ing":
            ing = self.sim.store.try_get(self.ing_rt, namespace, name)
            if ing is None or ing["metadata"].get("deletionTimestamp"):
                return
            if ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                return  # published already (by us, or by a controller a test runs)
            lb = {"ingress": [self._address(ing)]}
            ing["status"] = {"loadBalancer": lb}
            self.sim.store.update(
                self.ing_rt, namespace, name, ing, manager="ingress-controller", subresource="status"
            )
            self.sim.record_event(
                ing, "SuccessfullyReconciled", "Successfully reconciled", component="ingress-controller"
            )
            return
        gw = self.sim.store.try_get(self.gw_rt, namespace, name)
        if gw is None or gw["metadata"].get("deletionTimestamp"):
            return
        addr = self._address(gw)
        gen = gw["metadata"].get("generation", 1)
        now = self.sim.now()
        conds = [
            {
                "type": t,
                "status": "True",
                "reason": t,
                "message": "",
                "observedGeneration": gen,
                "lastTransitionTime": now,
            }
            for t in ("Accepted", "Programmed")
        ]
        old = gw.get("status") or {}
        if old.get("addresses"):
            return
        address = (
            {"type": "Hostname", "value": addr["hostname"]}
            if "hostname" in addr
            else {"type": "IPAddress", "value": addr["ip"]}
        )
        if old.get("addresses") == [address] and [
            (c.get("type"), c.get("status"), c.get("observedGeneration")) for c in old.get("conditions") or []
        ] == [(c["type"], c["status"], gen) for c in conds]:
            return
        gw["status"] = {**old, "addresses": [address], "conditions": conds}
        self.sim.store.update(
            self.gw_rt, namespace, name, gw, manager="gateway-controller", subresource="status"
        )
