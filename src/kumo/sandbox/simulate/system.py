"""What a fresh cluster already runs: the ``default/kubernetes`` Service and its Endpoints, the
kube-system add-ons (CoreDNS behind ``kube-dns``, kube-proxy on every Node, metrics-server) and a
default StorageClass.

They are ordinary objects, created once through the store as an installer would, and the
simulated controllers run them: CoreDNS and metrics-server are Deployments, kube-proxy a
DaemonSet, so ``kubectl get pods -n kube-system`` looks as it does on a cluster.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kumo.sandbox.kubeapi import ApiError, Event
from kumo.sandbox.simulate.core import SimBase

API_SERVER_IP = "10.96.0.1"
DNS_IP = "10.96.0.10"
_MANAGER = "kubeadm"


def _container(name: str, image: str, cpu: str, memory: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "resources": {"requests": {"cpu": cpu, "memory": memory}},
        **extra,
    }


def _workload(
    kind: str, name: str, app: str, containers: list[dict[str, Any]], replicas: int = 0
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"k8s-app": app}},
        "template": {
            "metadata": {"labels": {"k8s-app": app}},
            "spec": {
                "containers": containers,
                "priorityClassName": "system-node-critical"
                if kind == "DaemonSet"
                else "system-cluster-critical",
                "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
            },
        },
    }
    if kind == "Deployment":
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "kube-system", "labels": {"k8s-app": app}},
        "spec": spec,
    }


def _service(name: str, namespace: str, ip: str, ports: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": ports}
    if ip:
        spec["clusterIP"] = ip
    if namespace != "default":  # the API server's own Service has Endpoints it keeps itself
        spec["selector"] = meta["labels"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "spec": spec,
    }


def system_objects() -> list[dict[str, Any]]:
    dns_ports = [
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
        {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
    ]
    return [
        _service(
            "kubernetes",
            "default",
            API_SERVER_IP,
            [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            labels={"component": "apiserver", "provider": "kubernetes"},
        ),
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            },
            "subsets": [
                {
                    "addresses": [{"ip": "10.0.0.2"}],
                    "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
                }
            ],
        },
        _workload(
            "Deployment",
            "coredns",
            "kube-dns",
            [_container("coredns", "registry.k8s.io/coredns/coredns:v1.12.0", "100m", "70Mi")],
            replicas=2,
        ),
        _service("kube-dns", "kube-system", DNS_IP, dns_ports, labels={"k8s-app": "kube-dns"}),
        _workload(
            "DaemonSet",
            "kube-proxy",
            "kube-proxy",
            [_container("kube-proxy", "registry.k8s.io/kube-proxy:v1.33.0", "10m", "20Mi")],
        ),
        _workload(
            "Deployment",
            "metrics-server",
            "metrics-server",
            [
                _container(
                    "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.2", "100m", "200Mi"
                )
            ],
            replicas=1,
        ),
        _service(
            "metrics-server",
            "kube-system",
            "",
            [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 10250}],
            labels={"k8s-app": "metrics-server"},
        ),
        # the default StorageClass a local cluster (kind) comes with
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
    ]


class SystemController:
    """Creates the system objects once, when the simulation starts."""

    name = "system"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim

    def on_event(self, ev: Event) -> None:
        return

    def reconcile(self, namespace: str, name: str) -> None:
        for obj in system_objects():
            rt = self.sim.store.resource(obj["apiVersion"], obj["kind"])
            namespace = obj["metadata"].get("namespace")
            if self.sim.store.try_get(rt, namespace, obj["metadata"]["name"]) is None:
                with contextlib.suppress(ApiError):
                    self.sim.store.create(rt, namespace, obj, manager=_MANAGER)
