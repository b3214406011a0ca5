"""What every source shares: its configuration, its result, and turning targets into endpoints."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kumo.dns.endpoint import (
    RECORD_A,
    RECORD_AAAA,
    RECORD_CNAME,
    RESOURCE_LABEL,
    Endpoint,
    record_type_for_target,
)
from kumo.dns.filters import DomainFilter, LabelFilter
from kumo.dns.sources.annotations import ALPHA_PREFIX, Annotations, hostname_problem
from kumo.dns.sources.fqdn import FqdnTemplate


@dataclass(frozen=True)
class SourceConfig:
    annotation_prefix: str = ALPHA_PREFIX
    domain_filter: DomainFilter = field(default_factory=DomainFilter)
    label_filter: LabelFilter = field(default_factory=LabelFilter)
    namespace: str | None = None
    publish_internal_services: bool = False
    ignore_hostname_annotation: bool = False
    ignore_ingress_tls_spec: bool = False
    ignore_ingress_rules_spec: bool = False
    annotation_filter: LabelFilter = field(default_factory=LabelFilter)
    ingress_classes: tuple[str, ...] = ()  # --ingress-class; empty: any
    service_types: tuple[str, ...] = ()  # --service-type-filter; empty: any
    min_ttl: int = 0  # --min-ttl: the TTL of records whose source sets none
    gateway_name: str = ""
    gateway_namespace: str = ""
    gateway_label_filter: LabelFilter = field(default_factory=LabelFilter)
    fqdn_template: FqdnTemplate | None = None  # --fqdn-template: names for objects without one
    combine_fqdn_annotation: bool = False  # template names added to the annotation's, not instead
    publish_host_ip: bool = False  # headless Services publish their Pods' hostIP
    always_publish_not_ready_addresses: bool = False  # headless Services publish unready Pods too
    expose_internal_ipv6: bool = False  # endpoints-type NodeExternalIP adds the nodes' IPv6 InternalIPs


@dataclass
class SourceResult:
    """Endpoints an object asks for, and problems worth an Event on that object."""

    endpoints: list[Endpoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def resource_label(kind: str, obj: dict[str, object]) -> str:
    meta = obj.get("metadata") or {}
    assert isinstance(meta, dict)
    return f"{kind.lower()}/{meta.get('namespace', '')}/{meta.get('name', '')}"


def endpoints_for_hostname(
    hostname: str,
    targets: list[str],
    ttl: int,
    provider_specific: dict[str, str],
    set_identifier: str,
    resource: str,
) -> list[Endpoint]:
    """external-dns endpointsForHostname: one endpoint per record type the targets call for."""
    by_type: dict[str, list[str]] = {RECORD_A: [], RECORD_AAAA: [], RECORD_CNAME: []}
    for target in targets:
        rtype = record_type_for_target(target)
        if target not in by_type[rtype]:
            by_type[rtype].append(target)
    out = []
    for rtype in (RECORD_A, RECORD_AAAA, RECORD_CNAME):
        if not by_type[rtype]:
            continue
        out.append(
            Endpoint(
                hostname,
                tuple(sorted(by_type[rtype])),
                rtype,
                ttl,
                set_identifier,
                {RESOURCE_LABEL: resource},
                dict(provider_specific),
            )
        )
    return out


def selected_annotations(obj: dict[str, Any], cfg: SourceConfig) -> Annotations | None:
    """The object's external-dns annotations, or None when the filters or another controller exclude it."""
    meta = obj.get("metadata") or {}
    if cfg.namespace and meta.get("namespace") != cfg.namespace:
        return None
    if not cfg.label_filter.match(meta.get("labels") or {}):
        return None
    if not cfg.annotation_filter.match(meta.get("annotations") or {}):
        return None
    ann = Annotations.read(meta.get("annotations"), cfg.annotation_prefix)
    return None if ann.owned_by_other_controller() else ann


def spec_hostnames(raw_names: Iterable[object], what: str, problems: list[str]) -> list[str]:
    """Hostnames from an object's spec, normalised and deduplicated; invalid ones become problems."""
    out: list[str] = []
    for raw in raw_names:
        name = str(raw).strip().rstrip(".").lower()
        problem = hostname_problem(name)
        if problem:
            problems.append(f"{what} {raw!r} {problem}")
        elif name not in out:
            out.append(name)
    return out


@dataclass(frozen=True)
class RecordSettings:
    """What every endpoint of one object shares: its resource label and the annotated TTL, set identifier
    and provider-specific properties."""

    resource: str
    ttl: int
    provider_specific: dict[str, str]
    set_identifier: str

    @classmethod
    def of(cls, kind: str, obj: dict[str, Any], ann: Annotations, cfg: SourceConfig) -> RecordSettings:
        ttl = ann.ttl() or cfg.min_ttl
        return cls(resource_label(kind, obj), ttl, ann.provider_specific(), ann.set_identifier())

    def endpoints(self, hostnames: Iterable[str], targets: list[str]) -> list[Endpoint]:
        out: list[Endpoint] = []
        for host in hostnames:
            out.extend(
                endpoints_for_hostname(
                    host, targets, self.ttl, self.provider_specific, self.set_identifier, self.resource
                )
            )
        return out


def finish(result: SourceResult, ann: Annotations, cfg: SourceConfig) -> SourceResult:
    """Add the annotation problems and drop what the domain filter excludes."""
    result.problems.extend(ann.problems)
    return filter_domains(result, cfg)


def lb_targets(obj: dict[str, object]) -> list[str]:
    status = obj.get("status") or {}
    assert isinstance(status, dict)
    lb = status.get("loadBalancer") or {}
    out: list[str] = []
    for ing in (lb.get("ingress") or []) if isinstance(lb, dict) else []:
        if not isinstance(ing, dict):
            continue
        for key in ("ip", "hostname"):
            value = ing.get(key)
            if isinstance(value, str) and value and value not in out:
                out.append(value)
    return out


def is_headless(svc: dict[str, Any]) -> bool:
    spec = svc.get("spec") or {}
    return spec.get("type", "ClusterIP") == "ClusterIP" and spec.get("clusterIP") == "None"


def reads_pods_or_nodes(svc: dict[str, Any]) -> bool:
    """A Service whose targets come from Nodes, Pods or EndpointSlices (NodePort or headless)."""
    return (svc.get("spec") or {}).get("type") == "NodePort" or is_headless(svc)


def filter_domains(result: SourceResult, cfg: SourceConfig) -> SourceResult:
    kept = []
    reported: set[str] = set()
    for ep in result.endpoints:
        if cfg.domain_filter.match(ep.dns_name):
            kept.append(ep)
        elif ep.dns_name not in reported:
            reported.add(ep.dns_name)
            result.problems.append(f"hostname {ep.dns_name!r} is outside the domain filter; not published")
    result.endpoints = kept
    return result


_SPEC_KEYS = (
    "type",
    "clusterIP",
    "externalName",
    "externalIPs",
    "ingressClassName",
    "hostnames",
    "parentRefs",
    "listeners",  # a Gateway's: routes meet their hostnames, ports and allowedRoutes
)
# what NodePort and headless Services read besides: their Pods, traffic policy and node ports
_POD_SPEC_KEYS = ("selector", "externalTrafficPolicy", "publishNotReadyAddresses")
_STATUS_KEYS = ("loadBalancer", "addresses", "parents")
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def slim(obj: dict[str, Any], cfg: SourceConfig) -> dict[str, Any]:
    """Only what the sources read from an object: the informer caches this, not the whole object.

    At 10,000 Services the cache of whole objects (managedFields, ports, selectors, every annotation)
    was most of the controller's memory.
    """
    meta = obj.get("metadata") or {}
    if cfg.fqdn_template is not None:  # the template may read any field: keep all but managedFields
        return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    annotations = meta.get("annotations") or {}
    if cfg.annotation_filter.is_empty:
        annotations = {
            sys.intern(k): v  # one copy of each key for 10,000s of objects
            for k, v in annotations.items()
            if k.startswith(cfg.annotation_prefix) or k == INGRESS_CLASS_ANNOTATION
        }
    out_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "labels") if k in meta}
    if isinstance(out_meta.get("namespace"), str):
        out_meta["namespace"] = sys.intern(out_meta["namespace"])
    if annotations:
        out_meta["annotations"] = annotations
    out: dict[str, Any] = {"metadata": out_meta}
    for key in ("apiVersion", "kind"):
        if key in obj:
            out[key] = obj[key]
    spec = obj.get("spec") or {}
    slim_spec = {k: spec[k] for k in _SPEC_KEYS if k in spec}
    if isinstance(spec.get("rules"), list):
        slim_spec["rules"] = [
            {"host": r["host"]} for r in spec["rules"] if isinstance(r, dict) and r.get("host")
        ]
    if reads_pods_or_nodes(obj):
        slim_spec.update((k, spec[k]) for k in _POD_SPEC_KEYS if k in spec)
    if isinstance(spec.get("ports"), list) and spec.get("type") == "NodePort":  # its SRV records
        slim_spec["ports"] = [
            {k: p[k] for k in ("nodePort", "protocol") if k in p}
            for p in spec["ports"]
            if isinstance(p, dict) and p.get("nodePort")
        ]
    if isinstance(spec.get("tls"), list):
        slim_spec["tls"] = [{"hosts": t.get("hosts") or []} for t in spec["tls"] if isinstance(t, dict)]
    if slim_spec:
        out["spec"] = slim_spec
    status = obj.get("status") or {}
    slim_status = {k: status[k] for k in _STATUS_KEYS if k in status}
    if slim_status:
        out["status"] = slim_status
    return out


def templated_hostnames(
    kind: str, obj: dict[str, Any], cfg: SourceConfig, hostnames: list[str], problems: list[str]
) -> list[str]:
    """external-dns CombineWithTemplatedEndpoints: the template's names when the object has none, or
    besides its own with --combine-fqdn-annotation."""
    if cfg.fqdn_template is None or (hostnames and not cfg.combine_fqdn_annotation):
        return hostnames
    try:
        names = cfg.fqdn_template.hostnames(obj, kind)
    except ValueError as exc:
        problems.append(f"--fqdn-template: {exc}")
        return hostnames
    return hostnames + [n for n in names if n not in hostnames]
