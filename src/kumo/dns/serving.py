"""Which Pod serves DNS with the local provider: the leader, marked with a label a Service selects.

Only the leader runs the local provider's DNS server (a standby's zone would be stale), so the
``kumo-dns`` Service the add-on renders selects the controller's Pods *and* ``SERVING_LABEL``. The
leader puts the label on its own Pod when it takes the Lease and takes it off when it steps down;
a new leader also takes it off any other Pod, because a leader cut off from the API could not.
"""

from __future__ import annotations

from kumo.kube import KubeClient

#: Also in kumo.render.addons.dns_controller (render may not import dns); a test keeps them equal.
SERVING_LABEL = "kumo.dev/dns-serving"


async def mark_serving(client: KubeClient, namespace: str, pod: str, serving: bool) -> None:
    """Label ``pod`` as the one serving DNS (or not); when serving, unlabel every other Pod."""
    value = "true" if serving else None
    await client.patch("v1", "Pod", pod, {"metadata": {"labels": {SERVING_LABEL: value}}}, namespace)
    if not serving:
        return
    for other in await client.list("v1", "Pod", namespace, label_selector=f"{SERVING_LABEL}=true"):
        name = other["metadata"]["name"]
        if name != pod:
            await client.patch("v1", "Pod", name, {"metadata": {"labels": {SERVING_LABEL: None}}}, namespace)
