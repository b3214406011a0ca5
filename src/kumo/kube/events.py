"""Recording core/v1 Events, so `kubectl describe` and `kumo status` show what kumo did and why."""

from __future__ import annotations

import secrets

from kumo.kube.client import KubeClient, Obj
from kumo.kube.timefmt import format_micro, format_time, now


async def record_event(
    client: KubeClient,
    involved: Obj,
    reason: str,
    message: str,
    type: str = "Normal",
    component: str = "kumo",
) -> Obj:
    """Create an Event about ``involved`` (in its namespace; "default" for cluster-scoped objects)."""
    metadata = involved.get("metadata") or {}
    namespace = metadata.get("namespace") or "default"
    name = str(metadata.get("name") or "unknown")
    stamp = now()
    reference = {
        "apiVersion": involved.get("apiVersion"),
        "kind": involved.get("kind"),
        "name": name,
        "namespace": metadata.get("namespace"),
        "uid": metadata.get("uid"),
        "resourceVersion": metadata.get("resourceVersion"),
    }
    event: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": {k: v for k, v in reference.items() if v},
        "reason": reason,
        "message": message[:1024],
        "type": type,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": format_time(stamp),
        "lastTimestamp": format_time(stamp),
        "eventTime": format_micro(stamp),
        "action": reason,
        "count": 1,
    }
    return await client.create(event)
