"""Endpoints for Gateway API routes (external-dns's gateway-httproute, -grpcroute, -tlsroute,
-tcproute and -udproute sources, ``source/gateway.go``).

A route's hostnames (``spec.hostnames``, the hostname annotation, the FQDN template; "any" when the
route has no ``spec.hostnames``) meet the listeners of each parent Gateway: the listeners its
``parentRef`` names (``sectionName``, ``port``), whose protocol fits the route (HTTPS counts as
HTTP; a TCPRoute fits a TLS listener) and whose ``allowedRoutes`` admit the route's namespace
(``Same`` by default, ``All``, or a ``Selector`` on the namespace's labels) and kind. Each route
hostname that matches a listener's hostname (``*.ex.com`` matches any name below ``ex.com``; no
hostname matches anything) gives the more specific of the two a record with the Gateway's addresses
(``status.addresses``), or the targets of the Gateway's target annotation, as external-dns; the
route's own target annotation (a kumo extension) overrides both. A route with no
hostname on a listener with none asks for nothing. A parent that reports the route as not Accepted
contributes nothing, nor does a Gateway outside ``--gateway-name`` / ``--gateway-namespace`` /
``--gateway-label-filter``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from kumo.dns.sources.annotations import Annotations
from kumo.dns.sources.common import (
    RecordSettings,
    SourceConfig,
    SourceResult,
    finish,
    selected_annotations,
    spec_hostnames,
    templated_hostnames,
)
from kumo.selectors import labels_match, selector_from_label_selector_obj

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


ROUTE_PROTOCOLS = {
    "HTTPRoute": "HTTP",
    "GRPCRoute": "HTTP",
    "TLSRoute": "TLS",
    "TCPRoute": "TCP",
    "UDPRoute": "UDP",
}
_DNS_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _protocol_matches(route: str, listener: str) -> bool:
    """external-dns gwProtocolMatches: HTTPS is HTTP, and a TCP route fits a TLS listener."""
    route = "HTTP" if route == "HTTPS" else route
    listener = "HTTP" if listener == "HTTPS" else listener
    if route == "TCP" and listener == "TLS":
        listener = "TCP"
    return route == listener


def _canonical_host(host: str) -> str | None:
    """external-dns gwHost: "" (any), the lower-cased name, or None when it is no DNS name."""
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    name = host.removeprefix("*.")
    if len(name) > 255 or not all(_DNS_LABEL.match(label) for label in name.split(".")):
        return None
    return host.lower()


def matching_host(listener_host: str, route_host: str) -> str | None:
    """The more specific of two hostnames that overlap (external-dns gwMatchingHost), or None.

    ``*.ex.com`` matches ``a.ex.com`` and ``a.b.ex.com`` but not ``ex.com``; "" matches anything."""
    a, b = _canonical_host(listener_host), _canonical_host(route_host)
    if a is None or b is None:
        return None
    if a == "":
        return b
    if b == "" or a == b:
        return a
    if len(b) < len(a) or (len(a) == len(b) and b.startswith("*.")):
        a, b = b, a
    if a.startswith("*.") and b.endswith(a[1:]):
        return b
    return None


def _route_allowed(
    listener: Mapping[str, Any],
    gateway_namespace: str,
    kind: str,
    route_namespace: str,
    namespaces: Mapping[str, Mapping[str, Any]],
) -> bool:
    """external-dns routeIsAllowed: the listener's ``allowedRoutes`` namespaces and kinds."""
    allowed = listener.get("allowedRoutes") or {}
    from_ns = allowed.get("namespaces") or {}
    origin = from_ns.get("from") or "Same"
    if origin == "Same":
        if route_namespace != gateway_namespace:
            return False
    elif origin == "Selector":
        namespace = namespaces.get(route_namespace)
        reqs = selector_from_label_selector_obj(from_ns.get("selector"))
        if namespace is None or reqs is None:
            return False
        if not labels_match(reqs, (namespace.get("metadata") or {}).get("labels") or {}):
            return False
    elif origin != "All":
        return False
    kinds = allowed.get("kinds") or []
    return not kinds or any(
        isinstance(k, dict) and (k.get("group") or GATEWAY_GROUP) == GATEWAY_GROUP and k.get("kind") == kind
        for k in kinds
    )


def _listeners(gateway: Mapping[str, Any], ref: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The listeners a parentRef attaches to: the one its ``sectionName`` names, else all; only
    those on its ``port`` when it sets one."""
    listeners: list[Mapping[str, Any]] = [
        lis for lis in (gateway.get("spec") or {}).get("listeners") or [] if isinstance(lis, dict)
    ]
    section = ref.get("sectionName")
    if section:
        listeners = [lis for lis in listeners if lis.get("name") == section]
    port = ref.get("port")
    if port is not None:
        listeners = [lis for lis in listeners if lis.get("port") == port]
    return listeners


def route_endpoints(
    kind: str,
    route: dict[str, Any],
    cfg: SourceConfig,
    gateways: Mapping[GatewayKey, dict[str, Any]],
    namespaces: Mapping[str, Mapping[str, Any]] | None = None,
) -> SourceResult:
    result = SourceResult()
    ann = selected_annotations(route, cfg)
    if ann is None:
        return result
    meta = route.get("metadata") or {}
    route_namespace = str(meta.get("namespace") or "")
    spec = route.get("spec") or {}
    hosts = spec_hostnames(spec.get("hostnames") or [], "spec hostname", result.problems)
    if not cfg.ignore_hostname_annotation:
        hosts.extend(h for h in ann.hostnames() if h not in hosts)
    hosts = templated_hostnames(kind, route, cfg, hosts, result.problems)
    if not spec.get("hostnames"):
        hosts.append("")  # no hostnames of its own: the listeners' hostnames name it
    override = ann.targets()
    host_targets: dict[str, list[str]] = {}
    protocol = ROUTE_PROTOCOLS.get(kind, "HTTP")
    for ref in spec.get("parentRefs") or []:
        if not isinstance(ref, dict) or not ref.get("name"):
            continue
        if ref.get("group", GATEWAY_GROUP) != GATEWAY_GROUP or ref.get("kind", "Gateway") != "Gateway":
            continue
        key = (str(ref.get("namespace") or route_namespace), str(ref["name"]))
        gateway = gateways.get(key)
        if gateway is None or _rejected_by(route, key) or not _gateway_selected(gateway, key, cfg):
            continue
        # the Gateway's own target annotation replaces its addresses (external-dns's overrides)
        gateway_ann = Annotations.read(
            (gateway.get("metadata") or {}).get("annotations"), cfg.annotation_prefix
        )
        addresses = gateway_ann.targets() or [
            str(a["value"])
            for a in (gateway.get("status") or {}).get("addresses") or []
            if isinstance(a, dict) and a.get("value")
        ]
        for listener in _listeners(gateway, ref):
            if not _protocol_matches(protocol, str(listener.get("protocol") or "")):
                continue
            if not _route_allowed(listener, key[0], kind, route_namespace, namespaces or {}):
                continue
            listener_host = str(listener.get("hostname") or "")
            for route_host in hosts:
                if not listener_host and not route_host:
                    continue
                host = matching_host(listener_host, route_host)
                if host is None:
                    continue
                targets = host_targets.setdefault(host, [])
                targets.extend(t for t in override or addresses if t not in targets)
    settings = RecordSettings.of(kind.lower(), route, ann, cfg)
    for host in sorted(host_targets):
        result.endpoints.extend(settings.endpoints([host], host_targets[host]))
    return finish(result, ann, cfg)
