"""What controller-manager puts in every namespace: the ``default`` ServiceAccount and the
``kube-root-ca.crt`` ConfigMap."""

from __future__ import annotations

import contextlib

from kumo.sandbox.kubeapi import ApiError, Event
from kumo.sandbox.simulate.core import SimBase

ROOT_CA = "-----BEGIN CERTIFICATE-----\nkumo sandbox: not a real certificate\n-----END CERTIFICATE-----\n"


class NamespaceController:
    name = "namespace-defaults"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.ns_rt = sim.rt("", "v1", "namespaces")
        self.sa_rt = sim.rt("", "v1", "serviceaccounts")
        self.cm_rt = sim.rt("", "v1", "configmaps")

    def on_event(self, ev: Event) -> None:
        if ev.key == ("", "namespaces") and ev.type != "DELETED":
            self.sim.enqueue(self.name, "", ev.obj["metadata"]["name"])
        elif ev.key in (("", "serviceaccounts"), ("", "configmaps")) and ev.type == "DELETED":
            self.sim.enqueue(self.name, "", ev.obj["metadata"].get("namespace", ""))

    def reconcile(self, namespace: str, name: str) -> None:
        ns = self.sim.store.try_get(self.ns_rt, None, name)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        with contextlib.suppress(ApiError):
            if self.sim.store.try_get(self.sa_rt, name, "default") is None:
                self.sim.store.create(
                    self.sa_rt, name, {"metadata": {"name": "default"}}, manager="kube-controller-manager"
                )
            if self.sim.store.try_get(self.cm_rt, name, "kube-root-ca.crt") is None:
                self.sim.store.create(
                    self.cm_rt,
                    name,
                    {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": ROOT_CA}},
                    manager="kube-controller-manager",
                )
