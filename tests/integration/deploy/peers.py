"""What a cluster running the example has besides the API: cert-manager's CRD and a Gateway controller.

A conformant cluster has neither built in; the example's generic profile expects both (TLS from
cert-manager, traffic through the Gateway API). The emulator serves the Gateway API kinds but
programs no Gateways, so this stand-in does what a gateway implementation does to the status.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from kumo.kube import Informer, KubeClient

CERTIFICATE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "certificates.cert-manager.io"},
    "spec": {
        "group": "cert-manager.io",
        "scope": "Namespaced",
        "names": {
            "plural": "certificates",
            "singular": "certificate",
            "kind": "Certificate",
            "listKind": "CertificateList",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
                "subresources": {"status": {}},
            }
        ],
    },
}


def _programmed(gateway: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Programmed" and c.get("status") == "True"
        for c in (gateway.get("status") or {}).get("conditions") or []
    )


@contextlib.asynccontextmanager
async def gateway_controller(kube: KubeClient, address: str = "203.0.113.10") -> AsyncIterator[None]:
    """Mark every Gateway Accepted and Programmed with ``address``, as a gateway implementation would."""
    informer = Informer(kube, "gateway.networking.k8s.io/v1", "Gateway")

    async def program(event: str, gateway: dict[str, Any], _old: dict[str, Any] | None) -> None:
        if event == "DELETED" or _programmed(gateway):
            return
        meta = gateway["metadata"]
        conditions = [
            {
                "type": kind,
                "status": "True",
                "reason": kind,
                "message": "",
                "observedGeneration": meta.get("generation", 1),
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
            for kind in ("Accepted", "Programmed")
        ]
        status = {"conditions": conditions, "addresses": [{"type": "IPAddress", "value": address}]}
        await kube.patch(
            "gateway.networking.k8s.io/v1",
            "Gateway",
            meta["name"],
            {"status": status},
            meta["namespace"],
            subresource="status",
        )

    informer.add_handler(program)
    task = asyncio.create_task(informer.run())
    try:
        await informer.wait_synced(timeout=10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
