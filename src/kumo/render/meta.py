"""Labels and metadata every rendered object carries."""

from __future__ import annotations

from typing import Any

from kumo.render.context import RenderContext

HOSTNAME_ANNOTATION = "external-dns.alpha.kubernetes.io/hostname"
TTL_ANNOTATION = "external-dns.alpha.kubernetes.io/ttl"
MANAGED_BY = "kumo"


def labels(ctx: RenderContext, name: str, component: str | None = None) -> dict[str, str]:
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": ctx.instance,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "kumo.dev/app": ctx.spec.app,
        "kumo.dev/env": ctx.env_label,
    }
    if component:
        result["app.kubernetes.io/component"] = component
    return result


def addon_labels(name: str, component: str) -> dict[str, str]:
    """Labels of a cluster add-on. One add-on serves every app on the cluster, so nothing here
    may depend on the app or env: a label that did would re-roll the add-on on each app's deploy."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/component": component,
    }


def selector(ctx: RenderContext, name: str) -> dict[str, str]:
    """The immutable part of the labels: what a Deployment and its Service select on."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": ctx.instance}


def metadata(
    name: str,
    labels: dict[str, str],
    namespace: str | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name}
    if namespace is not None:
        result["namespace"] = namespace
    result["labels"] = dict(labels)
    if annotations:
        result["annotations"] = dict(annotations)
    return result


def dns_annotations(hostname: str, ttl: int | None) -> dict[str, str]:
    """What the DNS controller reads on the object it publishes."""
    result = {HOSTNAME_ANNOTATION: hostname}
    if ttl is not None:
        result[TTL_ANNOTATION] = str(ttl)
    return result
