"""Endpoints for a Service, with external-dns's service source rules."""

from __future__ import annotations

from typing import Any

from kumo.dns.sources.annotations import INTERNAL_HOSTNAME
from kumo.dns.sources.common import (
    RecordSettings,
    SourceConfig,
    SourceResult,
    finish,
    lb_targets,
    selected_annotations,
    templated_hostnames,
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
        return _cluster_ip(svc)
    return []


def _cluster_ip(svc: dict[str, Any]) -> list[str]:
    ip = (svc.get("spec") or {}).get("clusterIP")
    return [ip] if ip and ip != "None" else []  # "None": a headless Service


def service_endpoints(svc: dict[str, Any], cfg: SourceConfig) -> SourceResult:
    result = SourceResult()
    if cfg.service_types and (svc.get("spec") or {}).get("type", "ClusterIP") not in cfg.service_types:
        return result
    ann = selected_annotations(svc, cfg)
    if ann is None:
        return result
    settings = RecordSettings.of("service", svc, ann, cfg)
    override = ann.targets()
    hosts = [] if cfg.ignore_hostname_annotation else ann.hostnames()
    hosts = templated_hostnames("Service", svc, cfg, hosts, result.problems)
    if hosts:
        result.endpoints.extend(settings.endpoints(hosts, override or _targets(svc, cfg)))
    internal = ann.hostnames(INTERNAL_HOSTNAME)
    if internal:
        result.endpoints.extend(settings.endpoints(internal, override or _cluster_ip(svc)))
    return finish(result, ann, cfg)
