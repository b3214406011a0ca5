"""Endpoints for an Ingress, with external-dns's ingress source rules."""

from __future__ import annotations

from typing import Any

from kumo.dns.sources.annotations import INGRESS_HOSTNAME_SOURCE
from kumo.dns.sources.common import (
    INGRESS_CLASS_ANNOTATION,
    RecordSettings,
    SourceConfig,
    SourceResult,
    finish,
    lb_targets,
    selected_annotations,
    spec_hostnames,
    templated_hostnames,
)


def _spec_hosts(ing: dict[str, Any], cfg: SourceConfig, problems: list[str]) -> list[str]:
    spec = ing.get("spec") or {}
    hosts: list[str] = []
    if not cfg.ignore_ingress_rules_spec:
        for rule in spec.get("rules") or []:
            if isinstance(rule, dict) and rule.get("host"):
                hosts.append(str(rule["host"]))
    if not cfg.ignore_ingress_tls_spec:
        for tls in spec.get("tls") or []:
            if isinstance(tls, dict):
                hosts.extend(str(h) for h in tls.get("hosts") or [])
    return spec_hostnames(hosts, "spec host", problems)


def ingress_class(ing: dict[str, Any]) -> str:
    """spec.ingressClassName, or the older annotation (external-dns reads both)."""
    name = (ing.get("spec") or {}).get("ingressClassName")
    if name:
        return str(name)
    return str(((ing.get("metadata") or {}).get("annotations") or {}).get(INGRESS_CLASS_ANNOTATION) or "")


def ingress_endpoints(ing: dict[str, Any], cfg: SourceConfig) -> SourceResult:
    result = SourceResult()
    if cfg.ingress_classes and ingress_class(ing) not in cfg.ingress_classes:
        return result
    ann = selected_annotations(ing, cfg)
    if ann is None:
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
    hosts = templated_hostnames("Ingress", ing, cfg, hosts, result.problems)
    targets = ann.targets() or lb_targets(ing)
    result.endpoints.extend(RecordSettings.of("ingress", ing, ann, cfg).endpoints(hosts, targets))
    return finish(result, ann, cfg)
