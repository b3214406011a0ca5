"""The DNS controller's sources as data: each ``--source`` name, the kinds it reads, and so its RBAC.

This is the one list of what the controller watches. ``kumo.dns.sources`` joins each entry with its
endpoint builder and starts an informer per kind; ``kumo.render`` turns the same entries into the
controller's ClusterRole. It imports nothing of kumo, so render may read it without importing the
controller (ARCHITECTURE section 2: render imports only spec).

A source reads its own objects (the ones that ask for names) and, for their targets, context kinds:
Gateways and Namespaces (a listener's allowedRoutes may select namespaces) for the route sources;
Nodes, Pods and EndpointSlices for the service source (NodePort Services publish node addresses,
headless Services their Pods' addresses), as external-dns's sources do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

READ_VERBS = ("get", "list", "watch")
GATEWAY_GROUP = "gateway.networking.k8s.io"
#: set by the EndpointSlice controller on the slices of a headless Service: only those are read
HEADLESS_LABEL = "service.kubernetes.io/headless"


@dataclass(frozen=True)
class Watch:
    """One kind the controller lists and watches."""

    api_version: str
    kind: str
    resource: str  # the plural, as RBAC names it
    cluster_scoped: bool = False
    #: a label selector of the watch itself (context kinds only; source kinds take --label-filter)
    label_selector: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]


SERVICE = Watch("v1", "Service", "services")
INGRESS = Watch("networking.k8s.io/v1", "Ingress", "ingresses")
GATEWAY = Watch(f"{GATEWAY_GROUP}/v1", "Gateway", "gateways")
NODE = Watch("v1", "Node", "nodes", cluster_scoped=True)
#: a Gateway listener's allowedRoutes may select the namespaces of routes by their labels
NAMESPACE = Watch("v1", "Namespace", "namespaces", cluster_scoped=True)
POD = Watch("v1", "Pod", "pods")
ENDPOINT_SLICE = Watch(
    "discovery.k8s.io/v1", "EndpointSlice", "endpointslices", label_selector=HEADLESS_LABEL
)


@dataclass(frozen=True)
class SourceKinds:
    name: str  # the --source value
    reads: Watch  # the objects that ask for names
    context: tuple[Watch, ...] = ()  # objects read for those names' targets


def _route(name: str, version: str, kind: str) -> SourceKinds:
    return SourceKinds(
        name, Watch(f"{GATEWAY_GROUP}/{version}", kind, kind.lower() + "s"), (GATEWAY, NAMESPACE)
    )


SOURCE_KINDS: dict[str, SourceKinds] = {
    s.name: s
    for s in (
        SourceKinds("service", SERVICE, (NODE, POD, ENDPOINT_SLICE)),
        SourceKinds("ingress", INGRESS),
        _route("gateway-httproute", "v1", "HTTPRoute"),
        _route("gateway-grpcroute", "v1", "GRPCRoute"),
        _route("gateway-tlsroute", "v1alpha2", "TLSRoute"),
        _route("gateway-tcproute", "v1alpha2", "TCPRoute"),
        _route("gateway-udproute", "v1alpha2", "UDPRoute"),
    )
}
#: every context kind, by kind name
CONTEXT_WATCHES: dict[str, Watch] = {w.kind: w for s in SOURCE_KINDS.values() for w in s.context}


def watches(sources: Iterable[str]) -> list[Watch]:
    """What the controller started with these ``--source`` values reads, without repeats, in order."""
    out: list[Watch] = []
    for name in sources:
        entry = SOURCE_KINDS[name]
        for watch in (entry.reads, *entry.context):
            if watch not in out:
                out.append(watch)
    return out


def rbac_rules(sources: Iterable[str]) -> list[dict[str, Any]]:
    """The ClusterRole rules these sources need: read-only, one rule per API group."""
    by_group: dict[str, list[str]] = {}
    for watch in watches(sources):
        resources = by_group.setdefault(watch.group, [])
        if watch.resource not in resources:
            resources.append(watch.resource)
    return [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": list(READ_VERBS)}
        for group, resources in by_group.items()
    ]


__all__ = [
    "CONTEXT_WATCHES",
    "ENDPOINT_SLICE",
    "GATEWAY",
    "GATEWAY_GROUP",
    "HEADLESS_LABEL",
    "NAMESPACE",
    "NODE",
    "POD",
    "READ_VERBS",
    "SOURCE_KINDS",
    "SourceKinds",
    "Watch",
    "rbac_rules",
    "watches",
]
