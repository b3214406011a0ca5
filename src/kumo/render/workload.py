"""The objects every app gets: Namespace, Deployment and Service."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from kumo.render.context import RenderContext
from kumo.render.meta import labels, metadata, selector
from kumo.render.security import container_security_context, pod_security_context, writable_paths
from kumo.spec import Probe, Service, ValueFrom, service_files, volume_name

FILES_VOLUME = "kumo-files"

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


def _ref(name: str, optional: bool) -> dict[str, Any]:
    return {"name": name, **({"optional": True} if optional else {})}


def _env_var(name: str, value: str | ValueFrom) -> dict[str, Any]:
    if isinstance(value, str):
        return {"name": name, "value": value}
    kind = "secretKeyRef" if value.secret else "configMapKeyRef"
    source = value.secret or str(value.config_map)
    return {"name": name, "valueFrom": {kind: {**_ref(source, value.optional), "key": value.key}}}


def file_key(mount: str) -> str:
    """The ConfigMap key of the file mounted at ``mount`` (keys allow letters, digits, '-', '_', '.')."""
    return re.sub(r"[^-._a-zA-Z0-9]", "_", mount.strip("/"))[-253:]


def files_config_map(ctx: RenderContext, service: Service) -> dict[str, Any] | None:
    """The ConfigMap carrying ``service.files``. Its name ends in a hash of the content, so a changed
    file is a new ConfigMap and a changed Pod template: the Deployment rolls, and the old ReplicaSet
    keeps the ConfigMap it was started with until kumo prunes it."""
    if not service.files:
        return None
    contents = service_files(ctx.spec, service)
    digest = hashlib.sha256()
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for mount in sorted(contents):
        key, raw = file_key(mount), contents[mount]
        digest.update(key.encode() + b"\0" + raw + b"\0")
        try:
            data[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(raw).decode()
    name = f"{service.name}-files-{digest.hexdigest()[:10]}"
    meta: dict[str, Any] = metadata(name, labels(ctx, service.name, "app"), ctx.namespace)
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "immutable": True}
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


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
        container["env"] = [_env_var(key, value) for key, value in service.env.items()]
    if service.env_from:
        container["envFrom"] = [
            {
                **({"prefix": source.prefix} if source.prefix else {}),
                **(
                    {"secretRef": _ref(source.secret, source.optional)}
                    if source.secret
                    else {"configMapRef": _ref(str(source.config_map), source.optional)}
                ),
            }
            for source in service.env_from
        ]
    if resources := _resources(service):
        container["resources"] = resources
    if service.probes.readiness is not None:
        container["readinessProbe"] = _probe(service.probes.readiness, service)
    if service.probes.liveness is not None:
        container["livenessProbe"] = _probe(service.probes.liveness, service)
    container["securityContext"] = container_security_context(security.read_only_root_filesystem)
    mounts: list[dict[str, Any]] = [{"name": volume_name(p), "mountPath": p} for p in paths]
    files = files_config_map(ctx, service)
    if files is not None:
        # One file per mount (subPath): the directory around it stays the image's.
        mounts += [
            {"name": FILES_VOLUME, "mountPath": mount, "subPath": file_key(mount), "readOnly": True}
            for mount in service.files
        ]
    if mounts:
        container["volumeMounts"] = mounts

    run_as = security.run_as_user if security.run_as_non_root else None
    pod_spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(run_as, service.port if run_as is not None else None),
        "containers": [container],
    }
    volumes: list[dict[str, Any]] = [{"name": volume_name(p), "emptyDir": {}} for p in paths]
    if files is not None:
        volumes.append({"name": FILES_VOLUME, "configMap": {"name": files["metadata"]["name"]}})
    if volumes:
        pod_spec["volumes"] = volumes
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


def network_policy(ctx: RenderContext, service: Service) -> dict[str, Any]:
    """Admit traffic to the service's Pods only on its port: from anywhere when it has an endpoint
    (its load balancer, Ingress controller or Gateway sits outside the namespace), else from Pods of
    its own namespace. The kubelet's probes come from the node, which a NetworkPolicy always admits.
    Egress is left open: what an app calls is not known here."""
    peers: dict[str, Any] = {} if service.endpoint is not None else {"from": [{"podSelector": {}}]}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(service.name, labels(ctx, service.name, "app"), ctx.namespace),
        "spec": {
            "podSelector": {"matchLabels": selector(ctx, service.name)},
            "policyTypes": ["Ingress"],
            "ingress": [{**peers, "ports": [{"protocol": "TCP", "port": service.port}]}],
        },
    }
