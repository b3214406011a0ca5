"""Sources: Kubernetes objects to desired endpoints, with external-dns's rules and annotations.

``SOURCES`` is the one table of what kumo reads: each ``--source`` name with its kind, API version,
endpoint builder and whether its objects take their targets from Gateways.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kumo.dns.sources.annotations import ALPHA_PREFIX, PREFIXES, STABLE_PREFIX, Annotations, parse_ttl
from kumo.dns.sources.common import SourceConfig, SourceResult
from kumo.dns.sources.gateway import GatewayKey, parent_gateways, route_endpoints
from kumo.dns.sources.ingress import ingress_endpoints
from kumo.dns.sources.service import service_endpoints

Builder = Callable[[dict[str, Any], SourceConfig, Mapping[GatewayKey, dict[str, Any]]], SourceResult]
GATEWAY_GROUP = "gateway.networking.k8s.io"


@dataclass(frozen=True)
class Source:
    name: str  # the --source value
    api_version: str
    kind: str
    build: Builder
    gateway_route: bool = False  # targets come from the parent Gateways' addresses

    @property
    def resource(self) -> str:
        """The plural resource name, for RBAC rules."""
        return self.kind.lower() + ("es" if self.kind.endswith("s") else "s")


def _route(kind: str) -> Builder:
    def build(
        obj: dict[str, Any], cfg: SourceConfig, gateways: Mapping[GatewayKey, dict[str, Any]]
    ) -> SourceResult:
        return route_endpoints(kind, obj, cfg, gateways)

    return build


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("service", "v1", "Service", lambda obj, cfg, _: service_endpoints(obj, cfg)),
        Source("ingress", "networking.k8s.io/v1", "Ingress", lambda obj, cfg, _: ingress_endpoints(obj, cfg)),
        Source("gateway-httproute", f"{GATEWAY_GROUP}/v1", "HTTPRoute", _route("HTTPRoute"), True),
        Source("gateway-grpcroute", f"{GATEWAY_GROUP}/v1", "GRPCRoute", _route("GRPCRoute"), True),
        Source("gateway-tlsroute", f"{GATEWAY_GROUP}/v1alpha2", "TLSRoute", _route("TLSRoute"), True),
        Source("gateway-tcproute", f"{GATEWAY_GROUP}/v1alpha2", "TCPRoute", _route("TCPRoute"), True),
        Source("gateway-udproute", f"{GATEWAY_GROUP}/v1alpha2", "UDPRoute", _route("UDPRoute"), True),
    )
}
BY_KIND: dict[str, Source] = {s.kind: s for s in SOURCES.values()}
# (api version, kind) for each --source name
SOURCE_KINDS = {name: (s.api_version, s.kind) for name, s in SOURCES.items()}
GATEWAY_KIND = (f"{GATEWAY_GROUP}/v1", "Gateway")


def endpoints_for(
    kind: str,
    obj: dict[str, Any],
    cfg: SourceConfig,
    gateways: Mapping[GatewayKey, dict[str, Any]] | None = None,
) -> SourceResult:
    source = BY_KIND.get(kind)
    if source is None:
        raise ValueError(f"unsupported source kind {kind!r}")
    return source.build(obj, cfg, gateways or {})


def httproute_endpoints(
    route: dict[str, Any], cfg: SourceConfig, gateways: Mapping[GatewayKey, dict[str, Any]]
) -> SourceResult:
    return route_endpoints("HTTPRoute", route, cfg, gateways)


__all__ = [
    "ALPHA_PREFIX",
    "BY_KIND",
    "GATEWAY_KIND",
    "PREFIXES",
    "SOURCES",
    "SOURCE_KINDS",
    "STABLE_PREFIX",
    "Annotations",
    "GatewayKey",
    "Source",
    "SourceConfig",
    "SourceResult",
    "endpoints_for",
    "httproute_endpoints",
    "ingress_endpoints",
    "parent_gateways",
    "parse_ttl",
    "route_endpoints",
    "service_endpoints",
]
