"""Endpoints for a Gateway API HTTPRoute (external-dns's gateway-httproute source).

Hostnames come from ``spec.hostnames`` and the hostname annotation; targets from the addresses of
the parent Gateways (``status.addresses``), unless the target annotation overrides them. A parent
that reports the route as not Accepted contributes no targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumo.dns.sources.annotations import Annotations, hostname_problem
from kumo.dns.sources.common import (
    SourceConfig,
    SourceResult,
    endpoints_for_hostname,
    filter_domains,
    resource_label,
)

GATEWAY_GROUP = "gateway.networking.k8s.io"
GatewayKey = tuple[str, str]


def parent_gateways(route: Mapping[str, Any]) -> list[GatewayKey]:
    namespace = str((route.get("metadata") or {}).get("namespace") or "")
    out = []
    for ref in (route.get("spec") or {}).get("parentRefs") or []:
        if not isinstance(ref, dict) or not ref.get("name"):
            continue
        if ref.get("group", GATEWAY_GROUP) != GATEWAY_GROUP or ref.get("kind", "Gateway") != "Gateway":
            continue
        out.append((str(ref.get("namespace") or namespace), str(ref["name"])))
    return out


def _rejected_by(route: Mapping[str, Any], gateway: GatewayKey) -> bool:
    namespace = str((route.get("metadata") or {}).get("namespace") or "")
    for parent in (route.get("status") or {}).get("parents") or []:
        ref = parent.get("parentRef") or {}
        if (str(ref.get("namespace") or namespace), str(ref.get("name") or "")) != gateway:
            continue
        for cond in parent.get("conditions") or []:
            if cond.get("type") == "Accepted" and cond.get("status") == "False":
                return True
    return False


def httproute_endpoints(
    route: dict[str, Any], cfg: SourceConfig, gateways: Mapping[GatewayKey, dict[str, Any]]
) -> SourceResult:
    meta = route.get("metadata") or {}
    result = SourceResult()
    if cfg.namespace and meta.get("namespace") != cfg.namespace:
        return result
    if not cfg.label_filter.match(meta.get("labels") or {}):
        return result
    ann = Annotations.read(meta.get("annotations"), cfg.annotation_prefix)
    if ann.owned_by_other_controller():
        return result
    hosts: list[str] = []
    for raw in (route.get("spec") or {}).get("hostnames") or []:
        name = str(raw).strip().rstrip(".").lower()
        problem = hostname_problem(name)
        if problem:
            result.problems.append(f"spec hostname {raw!r} {problem}")
        elif name not in hosts:
            hosts.append(name)
    if not cfg.ignore_hostname_annotation:
        hosts.extend(h for h in ann.hostnames() if h not in hosts)
    targets = ann.targets()
    if not targets:
        for key in parent_gateways(route):
            gateway = gateways.get(key)
            if gateway is None or _rejected_by(route, key):
                continue
            for address in (gateway.get("status") or {}).get("addresses") or []:
                value = address.get("value") if isinstance(address, dict) else None
                if value and value not in targets:
                    targets.append(str(value))
    resource = resource_label("httproute", route)
    ttl = ann.ttl()
    ps = ann.provider_specific()
    set_id = ann.set_identifier()
    for host in hosts:
        result.endpoints.extend(endpoints_for_hostname(host, targets, ttl, ps, set_id, resource))
    result.problems.extend(ann.problems)
    return filter_domains(result, cfg)
