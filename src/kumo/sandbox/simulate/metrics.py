"""``metrics.k8s.io``: plausible NodeMetrics and PodMetrics computed from what is scheduled.

Usage is a deterministic fraction of each container's requests (or a small default), so the
numbers are stable between reads and sum up: a Node's usage is its Pods' usage plus overhead.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kumo.sandbox.simulate.core import SimBase
from kumo.sandbox.simulate.quantity import mem_str, nano_cpu_str, parse_quantity

WINDOW = "10.062s"


def _frac(*parts: str) -> float:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return 0.2 + (digest[0] / 255.0) * 0.5


def container_usage(pod: dict[str, Any], c: dict[str, Any]) -> tuple[float, float]:
    req = (c.get("resources") or {}).get("requests") or {}
    f = _frac(pod["metadata"].get("uid", ""), str(c.get("name")))
    cpu = parse_quantity(req["cpu"]) * f if "cpu" in req else 0.002 + 0.03 * f
    mem = parse_quantity(req["memory"]) * f if "memory" in req else (16 + 64 * f) * 2**20
    return cpu, mem


def register_metrics(sim: SimBase) -> None:
    store = sim.store
    pod_rt = sim.rt("", "v1", "pods")
    node_rt = sim.rt("", "v1", "nodes")

    def running(namespace: str | None) -> list[dict[str, Any]]:
        return [
            p
            for p in store.list_refs(pod_rt, namespace)[0]
            if (p.get("status") or {}).get("phase") == "Running"
        ]

    def pod_metrics(namespace: str | None) -> list[dict[str, Any]]:
        now = store.now()
        out = []
        for p in running(namespace):
            meta = p["metadata"]
            containers = []
            for c in p["spec"].get("containers") or []:
                cpu, mem = container_usage(p, c)
                containers.append(
                    {"name": c.get("name"), "usage": {"cpu": nano_cpu_str(cpu), "memory": mem_str(mem)}}
                )
            out.append(
                {
                    "kind": "PodMetrics",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {
                        "name": meta["name"],
                        "namespace": meta["namespace"],
                        "creationTimestamp": now,
                        "labels": meta.get("labels") or {},
                    },
                    "timestamp": now,
                    "window": WINDOW,
                    "containers": containers,
                }
            )
        return out

    def node_metrics(_namespace: str | None) -> list[dict[str, Any]]:
        now = store.now()
        usage: dict[str, list[float]] = {}
        for p in running(None):
            node = p["spec"].get("nodeName")
            for c in p["spec"].get("containers") or []:
                cpu, mem = container_usage(p, c)
                u = usage.setdefault(str(node), [0.0, 0.0])
                u[0] += cpu
                u[1] += mem
        out = []
        for n in store.list_refs(node_rt)[0]:
            name = n["metadata"]["name"]
            cpu, mem = usage.get(name, [0.0, 0.0])
            cpu += 0.08 + 0.05 * _frac(name)
            mem += (450 + 200 * _frac(name)) * 2**20
            out.append(
                {
                    "kind": "NodeMetrics",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {
                        "name": name,
                        "creationTimestamp": now,
                        "labels": n["metadata"].get("labels") or {},
                    },
                    "timestamp": now,
                    "window": WINDOW,
                    "usage": {"cpu": nano_cpu_str(cpu), "memory": mem_str(mem)},
                }
            )
        return out

    store.register_virtual(sim.rt("metrics.k8s.io", "v1beta1", "pods"), pod_metrics)
    store.register_virtual(sim.rt("metrics.k8s.io", "v1beta1", "nodes"), node_metrics)
