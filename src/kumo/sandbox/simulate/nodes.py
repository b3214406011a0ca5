"""Simulated Nodes with capacity, allocatable, conditions and addresses."""

from __future__ import annotations

from typing import Any

from kumo.sandbox.kubeapi import Event
from kumo.sandbox.simulate.core import SimBase
from kumo.sandbox.simulate.quantity import mem_str, parse_quantity


class NodeController:
    name = "node"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.node_rt = sim.rt("", "v1", "nodes")

    def on_event(self, ev: Event) -> None:
        return

    def node_names(self) -> list[str]:
        return [f"kumo-node-{i}" for i in range(self.sim.config.nodes)]

    def reconcile(self, namespace: str, name: str) -> None:
        """Register every configured Node that does not exist yet."""
        cfg = self.sim.config
        zones = "abc"
        for i, nm in enumerate(self.node_names()):
            if self.sim.store.try_get(self.node_rt, None, nm) is not None:
                continue
            zone = f"{cfg.region}{zones[i % len(zones)]}"
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": nm,
                    "labels": {
                        "kubernetes.io/hostname": nm,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "beta.kubernetes.io/os": "linux",
                        "beta.kubernetes.io/arch": "amd64",
                        "node.kubernetes.io/instance-type": "m5.xlarge",
                        "topology.kubernetes.io/region": cfg.region,
                        "topology.kubernetes.io/zone": zone,
                    },
                },
                "spec": {
                    "providerID": f"aws:///{zone}/i-{self.sim.stable_hex(nm, n=17)}",
                    "podCIDR": f"10.244.{i}.0/24",
                    "podCIDRs": [f"10.244.{i}.0/24"],
                },
            }
            created = self.sim.store.create(self.node_rt, None, node, manager="kubelet")
            created["status"] = self._status(i)
            self.sim.store.update(self.node_rt, None, nm, created, manager="kubelet", subresource="status")

    def _status(self, i: int) -> dict[str, Any]:
        cfg = self.sim.config
        now = self.sim.now()
        mem = parse_quantity(cfg.node_memory)
        cpu = parse_quantity(cfg.node_cpu)
        cond = [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        return {
            "capacity": {
                "cpu": cfg.node_cpu,
                "memory": mem_str(mem),
                "pods": str(cfg.node_pods),
                "ephemeral-storage": "83873772Ki",
            },
            "allocatable": {
                "cpu": f"{round(cpu * 1000) - 80}m",
                "memory": mem_str(mem - 700 * 2**20),
                "pods": str(cfg.node_pods),
                "ephemeral-storage": "76224326324",
            },
            "conditions": [
                {
                    "type": t,
                    "status": s,
                    "reason": r,
                    "message": m,
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
                for t, s, r, m in cond
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.{i // 250}.{10 + i % 250}"},
                {"type": "Hostname", "address": f"kumo-node-{i}"},
            ],
            "nodeInfo": {
                "kubeletVersion": cfg.kubelet_version,
                "kubeProxyVersion": cfg.kubelet_version,
                "containerRuntimeVersion": "containerd://1.7.27",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "Amazon Linux 2023",
                "kernelVersion": "6.1.0-kumo",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        }
