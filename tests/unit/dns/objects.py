"""Kubernetes objects the DNS unit tests feed to the controller."""

from __future__ import annotations

from typing import Any


def lb_service(name: str, host: str, ip: str) -> dict[str, Any]:
    """A LoadBalancer Service in `default` with the hostname annotation and one ingress IP."""
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {"external-dns.alpha.kubernetes.io/hostname": host},
        },
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]}},
    }
