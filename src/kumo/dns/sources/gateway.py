"""Endpoints for Gateway API routes (external-dns's gateway-httproute, -grpcroute, -tlsroute,
-tcproute and -udproute sources).

Hostnames come from ``spec.hostnames`` (TCPRoute and UDPRoute have none) and the hostname
annotation; targets from the addresses of the parent Gateways (``status.addresses``), unless the
target annotation overrides them. A parent that reports the route as not Accepted contributes no
targets, nor does a Gateway outside ``--gateway-name`` / ``--gateway-namespace`` /
``--gateway-label-filter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kumo.dns.sources.common import (
    RecordSettings,
    SourceConfig,
    SourceResult,
    finish,
    selected_annotations,
    spec_hostnames,
    templated_hostnames,
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


def _gateway_selected(gateway: Mapping[str, Any], key: GatewayKey, cfg: SourceConfig) -> bool:
    if cfg.gateway_namespace and key[0] != cfg.gateway_namespace:
        return False
    if cfg.gateway_name and key[1] != cfg.gateway_name:
        return False
    return cfg.gateway_label_filter.match((gateway.get("metadata") or {}).get("labels") or {})


def route_endpoints(
    kind: str, route: dict[str, Any], cfg: SourceConfig, gateways: Mapping[GatewayKey, dict[str, Any]]
) -> SourceResult:
    result = SourceResult()
    ann = selected_annotations(route, cfg)
    if ann is None:
        return result
    hosts = spec_hostnames((route.get("spec") or {}).get("hostnames") or [], "spec hostname", result.problems)
    if not cfg.ignore_hostname_annotation:
        hosts.extend(h for h in ann.hostnames() if h not in hosts)
    hosts = templated_hostnames(kind, route, cfg, hosts, result.problems)
    targets = ann.targets()
    if not targets:
        for key in parent_gateways(route):
            gateway = gateways.get(key)
            if gateway is None or _rejected_by(route, key) or not _gateway_selected(gateway, key, cfg):
                continue
            for address in (gateway.get("status") or {}).get("addresses") or []:
                value = address.get("value") if isinstance(address, dict) else None
                if value and value not in targets:
                    targets.append(str(value))
    result.endpoints.extend(RecordSettings.of(kind.lower(), route, ann, cfg).endpoints(hosts, targets))
    return finish(result, ann, cfg)
