"""The objects every app gets: Namespace, Deployment and Service."""

from __future__ import annotations

from typing import Any

from kumo.render.context import RenderContext
from kumo.render.meta import labels, metadata, selector
from kumo.render.security import container_security_context, pod_security_context, writable_paths
from kumo.spec import Probe, Service, volume_name

PSS_ENFORCE = "pod-security.kubernetes.io/enforce"


def namespace(ctx: RenderContext, name: str, component: str | None = None) -> dict[str, Any]:
    """The app's Namespace. When every service runs as non-root it enforces the "restricted" Pod
    Security Standard, so a Pod that loosens its security context is refused at admission."""
    own = labels(ctx, name, component)
    if all(service.security.run_as_non_root for service in ctx.spec.services):
        own[PSS_ENFORCE] = "restricted"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name, own)}


def _probe(probe: Probe, service: Service) -> dict[str, Any]:
    port: int | str = probe.port if probe.port is not None else "http"
    check: dict[str, Any] = (
        {"httpGet": {"path": probe.path, "port": port}}
        if probe.path is not None
        else {"tcpSocket": {"port": port}}
    )
    return {
        **check,
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def _resources(service: Service) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if service.resources.requests:
        result["requests"] = dict(service.resources.requests)
    if service.resources.limits:
        result["limits"] = dict(service.resources.limits)
    return result


def deployment(ctx: RenderContext, service: Service) -> dict[str, Any]:
    security = service.security
    paths = writable_paths(service)
    container: dict[str, Any] = {
        "name": service.name,
        "image": service.image,
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
    }
    if service.command is not None:
        container["command"] = list(service.command)
    if service.args is not None:
        container["args"] = list(service.args)
    if service.env:
        container["env"] = [{"name": key, "value": value} for key, value in service.env.items()]
    if resources := _resources(service):
        container["resources"] = resources
    if service.probes.readiness is not None:
        container["readinessProbe"] = _probe(service.probes.readiness, service)
    if service.probes.liveness is not None:
        container["livenessProbe"] = _probe(service.probes.liveness, service)
    container["securityContext"] = container_security_context(security.read_only_root_filesystem)
    if paths:
        container["volumeMounts"] = [{"name": volume_name(p), "mountPath": p} for p in paths]

    run_as = security.run_as_user if security.run_as_non_root else None
    pod_spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(run_as, service.port if run_as is not None else None),
        "containers": [container],
    }
    if paths:
        pod_spec["volumes"] = [{"name": volume_name(p), "emptyDir": {}} for p in paths]
    all_labels = labels(ctx, service.name, "app")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(service.name, all_labels, ctx.namespace),
        "spec": {
            "replicas": service.replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(ctx, service.name)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": all_labels}, "spec": pod_spec},
        },
    }


def service_object(
    ctx: RenderContext,
    service: Service,
    *,
    service_type: str = "ClusterIP",
    ports: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``v1`` Service (the seed wrote ``apps/v1``, which does not exist)."""
    spec: dict[str, Any] = {
        "type": service_type,
        "selector": selector(ctx, service.name),
        "ports": ports
        or [{"name": "http", "port": service.port, "targetPort": service.port, "protocol": "TCP"}],
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(service.name, labels(ctx, service.name, "app"), ctx.namespace, annotations),
        "spec": spec,
    }
