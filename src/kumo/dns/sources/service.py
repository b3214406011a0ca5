"""Endpoints for a Service, with external-dns's service source rules."""

from __future__ import annotations

from typing import Any

from kumo.dns.sources.annotations import INTERNAL_HOSTNAME, Annotations
from kumo.dns.sources.common import (
    SourceConfig,
    SourceResult,
    endpoints_for_hostname,
    filter_domains,
    lb_targets,
    resource_label,
)


def _targets(svc: dict[str, Any], cfg: SourceConfig) -> list[str]:
    spec = svc.get("spec") or {}
    stype = spec.get("type", "ClusterIP")
    if stype == "LoadBalancer":
        return lb_targets(svc)
    if stype == "ExternalName":
        name = spec.get("externalName")
        return [str(name).rstrip(".")] if name else []
    if stype == "ClusterIP" and cfg.publish_internal_services:
        ip = spec.get("clusterIP")
        return [ip] if ip and ip != "None" else []
    return []


def service_endpoints(svc: dict[str, Any], cfg: SourceConfig) -> SourceResult:
    meta = svc.get("metadata") or {}
    result = SourceResult()
    if cfg.namespace and meta.get("namespace") != cfg.namespace:
        return result
    if not cfg.label_filter.match(meta.get("labels") or {}):
        return result
    ann = Annotations.read(meta.get("annotations"), cfg.annotation_prefix)
    if ann.owned_by_other_controller():
        return result
    resource = resource_label("service", svc)
    ttl = ann.ttl()
    ps = ann.provider_specific()
    set_id = ann.set_identifier()
    override = ann.targets()
    if not cfg.ignore_hostname_annotation:
        targets = override or _targets(svc, cfg)
        for host in ann.hostnames():
            result.endpoints.extend(endpoints_for_hostname(host, targets, ttl, ps, set_id, resource))
    internal = ann.hostnames(INTERNAL_HOSTNAME)
    if internal:
        ip = (svc.get("spec") or {}).get("clusterIP")
        targets = override or ([ip] if ip and ip != "None" else [])
        for host in internal:
            result.endpoints.extend(endpoints_for_hostname(host, targets, ttl, ps, set_id, resource))
    result.problems.extend(ann.problems)
    return filter_domains(result, cfg)
