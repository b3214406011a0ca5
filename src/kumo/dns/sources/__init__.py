"""Sources: Kubernetes objects to desired endpoints, with external-dns's rules and annotations.

``SOURCES`` is the one table of sources: each ``--source`` name with the kinds it reads (from
``kumo.sourcekinds``, which the rendered ClusterRole comes from too) and its endpoint builder.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kumo.dns.sources.annotations import ALPHA_PREFIX, PREFIXES, STABLE_PREFIX, Annotations, parse_ttl
from kumo.dns.sources.common import SourceConfig, SourceResult, reads_pods_or_nodes
from kumo.dns.sources.context import SourceContext, slim_context
from kumo.dns.sources.gateway import (
    ROUTE_PROTOCOLS,
    GatewayKey,
    matching_host,
    parent_gateways,
    route_endpoints,
)
from kumo.dns.sources.ingress import ingress_endpoints
from kumo.dns.sources.service import merge_service_endpoints, service_endpoints
from kumo.sourcekinds import CONTEXT_WATCHES, ENDPOINT_SLICE, NODE, POD, SOURCE_KINDS, SourceKinds, Watch

Builder = Callable[[dict[str, Any], SourceConfig, SourceContext], SourceResult]


@dataclass(frozen=True)
class Source:
    kinds: SourceKinds  # what it reads (and what its RBAC grants)
    build: Builder

    @property
    def name(self) -> str:
        return self.kinds.name

    @property
    def kind(self) -> str:
        return self.kinds.reads.kind

    @property
    def api_version(self) -> str:
        return self.kinds.reads.api_version

    @property
    def gateway_route(self) -> bool:
        """Its targets come from the parent Gateways' addresses."""
        return any(w.kind == "Gateway" for w in self.kinds.context)

    def reads_context(self, obj: dict[str, Any]) -> bool:
        """Whether this object's targets come from context kinds (a route; a NodePort or headless
        Service), so their events must rebuild it."""
        return self.gateway_route or (self.name == "service" and reads_pods_or_nodes(obj))

    def context(self, cfg: SourceConfig) -> tuple[Watch, ...]:
        """The context kinds this configuration reads: a service source limited by
        --service-type-filter to LoadBalancer and ExternalName Services needs no Nodes or Pods."""
        if self.name != "service" or not cfg.service_types:
            return self.kinds.context
        node_port = "NodePort" in cfg.service_types
        headless = "ClusterIP" in cfg.service_types
        wanted = {NODE: node_port, POD: node_port or headless, ENDPOINT_SLICE: headless}
        return tuple(w for w in self.kinds.context if wanted.get(w, True))


def _route(kind: str) -> Builder:
    def build(obj: dict[str, Any], cfg: SourceConfig, ctx: SourceContext) -> SourceResult:
        return route_endpoints(kind, obj, cfg, ctx.gateways, ctx.namespaces)

    return build


_BUILDERS: dict[str, Builder] = {
    "service": service_endpoints,
    "ingress": lambda obj, cfg, _: ingress_endpoints(obj, cfg),
    "gateway-httproute": _route("HTTPRoute"),
    "gateway-grpcroute": _route("GRPCRoute"),
    "gateway-tlsroute": _route("TLSRoute"),
    "gateway-tcproute": _route("TCPRoute"),
    "gateway-udproute": _route("UDPRoute"),
}
if set(_BUILDERS) != set(SOURCE_KINDS):  # pragma: no cover - a programming error, caught by any import
    raise RuntimeError(f"sources without a builder or kinds: {set(_BUILDERS) ^ set(SOURCE_KINDS)}")
SOURCES: dict[str, Source] = {name: Source(kinds, _BUILDERS[name]) for name, kinds in SOURCE_KINDS.items()}
BY_KIND: dict[str, Source] = {s.kind: s for s in SOURCES.values()}
#: kinds sources read for their targets (Gateway, Node, Pod, EndpointSlice)
CONTEXT_KINDS = frozenset(CONTEXT_WATCHES)


def endpoints_for(
    kind: str,
    obj: dict[str, Any],
    cfg: SourceConfig,
    ctx: SourceContext | None = None,
) -> SourceResult:
    source = BY_KIND.get(kind)
    if source is None:
        raise ValueError(f"unsupported source kind {kind!r}")
    return source.build(obj, cfg, ctx or SourceContext())


def httproute_endpoints(
    route: dict[str, Any], cfg: SourceConfig, gateways: Mapping[GatewayKey, dict[str, Any]]
) -> SourceResult:
    return route_endpoints("HTTPRoute", route, cfg, gateways)


__all__ = [
    "ALPHA_PREFIX",
    "BY_KIND",
    "CONTEXT_KINDS",
    "PREFIXES",
    "ROUTE_PROTOCOLS",
    "SOURCES",
    "STABLE_PREFIX",
    "Annotations",
    "GatewayKey",
    "Source",
    "SourceConfig",
    "SourceContext",
    "SourceResult",
    "endpoints_for",
    "httproute_endpoints",
    "ingress_endpoints",
    "matching_host",
    "merge_service_endpoints",
    "parent_gateways",
    "parse_ttl",
    "reads_pods_or_nodes",
    "route_endpoints",
    "service_endpoints",
    "slim_context",
]
