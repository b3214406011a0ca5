"""Endpoints for an Ingress, with external-dns's ingress source rules."""

from __future__ import annotations

from typing import Any

from kumo.dns.sources.annotations import INGRESS_HOSTNAME_SOURCE, Annotations, hostname_problem
from kumo.dns.sources.common import (
    SourceConfig,
    SourceResult,
    endpoints_for_hostname,
    filter_domains,
    lb_targets,
    resource_label,
)


def _spec_hosts(ing: dict[str, Any], cfg: SourceConfig, problems: list[str]) -> list[str]:
    spec = ing.get("spec") or {}
    hosts: list[str] = []
    for rule in spec.get("rules") or []:
        if isinstance(rule, dict) and rule.get("host"):
            hosts.append(str(rule["host"]))
    if not cfg.ignore_ingress_tls_spec:
        for tls in spec.get("tls") or []:
            if isinstance(tls, dict):
                hosts.extend(str(h) for h in tls.get("hosts") or [])
    out = []
    for host in hosts:
        name = host.strip().rstrip(".").lower()
        problem = hostname_problem(name)
        if problem:
            problems.append(f"spec host {host!r} {problem}")
        elif name not in out:
            out.append(name)
    return out


def ingress_endpoints(ing: dict[str, Any], cfg: SourceConfig) -> SourceResult:
    meta = ing.get("metadata") or {}
    result = SourceResult()
    if cfg.namespace and meta.get("namespace") != cfg.namespace:
        return result
    if not cfg.label_filter.match(meta.get("labels") or {}):
        return result
    ann = Annotations.read(meta.get("annotations"), cfg.annotation_prefix)
    if ann.owned_by_other_controller():
        return result
    source = (ann.get(INGRESS_HOSTNAME_SOURCE) or "").strip()
    if source not in ("", "annotation-only", "defined-hosts-only"):
        result.problems.append(
            f"annotation {INGRESS_HOSTNAME_SOURCE}: expected annotation-only or defined-hosts-only,"
            f" found {source!r}"
        )
        source = ""
    hosts: list[str] = []
    if source != "annotation-only":
        hosts.extend(_spec_hosts(ing, cfg, result.problems))
    if source != "defined-hosts-only" and not cfg.ignore_hostname_annotation:
        hosts.extend(h for h in ann.hostnames() if h not in hosts)
    targets = ann.targets() or lb_targets(ing)
    resource = resource_label("ingress", ing)
    ttl = ann.ttl()
    ps = ann.provider_specific()
    set_id = ann.set_identifier()
    for host in hosts:
        result.endpoints.extend(endpoints_for_hostname(host, targets, ttl, ps, set_id, resource))
    result.problems.extend(ann.problems)
    return filter_domains(result, cfg)
