"""Sources: Kubernetes objects to desired endpoints, with external-dns's rules and annotations."""

from collections.abc import Mapping
from typing import Any

from kumo.dns.sources.annotations import ALPHA_PREFIX, PREFIXES, STABLE_PREFIX, Annotations, parse_ttl
from kumo.dns.sources.common import SourceConfig, SourceResult
from kumo.dns.sources.gateway import GatewayKey, httproute_endpoints, parent_gateways
from kumo.dns.sources.ingress import ingress_endpoints
from kumo.dns.sources.service import service_endpoints

# (api version, kind) for each --source name
SOURCE_KINDS = {
    "service": ("v1", "Service"),
    "ingress": ("networking.k8s.io/v1", "Ingress"),
    "gateway-httproute": ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}
GATEWAY_KIND = ("gateway.networking.k8s.io/v1", "Gateway")


def endpoints_for(
    kind: str,
    obj: dict[str, Any],
    cfg: SourceConfig,
    gateways: Mapping[GatewayKey, dict[str, Any]] | None = None,
) -> SourceResult:
    if kind == "Service":
        return service_endpoints(obj, cfg)
    if kind == "Ingress":
        return ingress_endpoints(obj, cfg)
    if kind == "HTTPRoute":
        return httproute_endpoints(obj, cfg, gateways or {})
    raise ValueError(f"unsupported source kind {kind!r}")


__all__ = [
    "ALPHA_PREFIX",
    "GATEWAY_KIND",
    "PREFIXES",
    "SOURCE_KINDS",
    "STABLE_PREFIX",
    "Annotations",
    "GatewayKey",
    "SourceConfig",
    "SourceResult",
    "endpoints_for",
    "httproute_endpoints",
    "ingress_endpoints",
    "parent_gateways",
    "parse_ttl",
    "service_endpoints",
]
