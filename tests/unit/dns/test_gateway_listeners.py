"""Routes meet the listeners of their Gateways (external-dns's source/gateway.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kumo.dns.sources import SourceConfig, SourceContext, endpoints_for, matching_host

A = "external-dns.alpha.kubernetes.io/"
ADDRESS = "192.0.2.1"


def listener(
    name: str, protocol: str = "HTTP", port: int = 80, host: str = "", **allowed: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "port": port, "protocol": protocol}
    if host:
        out["hostname"] = host
    if allowed:
        out["allowedRoutes"] = allowed
    return out


def gateway(*listeners: dict[str, Any], namespace: str = "web", **ann: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "gw", "namespace": namespace, "annotations": {A + k: v for k, v in ann.items()}},
        "spec": {"listeners": list(listeners)},
        "status": {"addresses": [{"type": "IPAddress", "value": ADDRESS}]},
    }


def route(
    hosts: list[str] | None, kind: str = "HTTPRoute", namespace: str = "web", **ref: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"parentRefs": [{"name": "gw", "namespace": "web", **ref}]}
    if hosts is not None:
        spec["hostnames"] = hosts
    return {"kind": kind, "metadata": {"name": "r", "namespace": namespace}, "spec": spec}


def names(
    rt: dict[str, Any], gw: dict[str, Any], namespaces: dict[str, dict[str, Any]] | None = None
) -> list[str]:
    ctx = SourceContext(gateways={("web", "gw"): gw}, namespaces=namespaces or {})
    eps = endpoints_for(str(rt["kind"]), rt, SourceConfig(), ctx).endpoints
    assert all(e.targets == (ADDRESS,) for e in eps)
    return sorted({e.dns_name for e in eps})


@pytest.mark.parametrize(
    ("listener_host", "route_host", "want"),
    [
        ("", "a.ex.com", "a.ex.com"),
        ("a.ex.com", "", "a.ex.com"),
        ("*.ex.com", "", "*.ex.com"),
        ("*.ex.com", "a.ex.com", "a.ex.com"),
        ("*.ex.com", "a.b.ex.com", "a.b.ex.com"),
        ("a.ex.com", "*.ex.com", "a.ex.com"),
        ("*.ex.com", "ex.com", None),
        ("*.ex.com", "*.ex.com", "*.ex.com"),
        ("*.b.ex.com", "*.ex.com", "*.b.ex.com"),
        ("A.Ex.com", "a.ex.com", "a.ex.com"),
        ("a.ex.com", "b.ex.com", None),
        ("192.0.2.1", "", None),
        ("bad_name.ex.com", "", None),
    ],
)
def test_matching_host(listener_host: str, route_host: str, want: str | None) -> None:
    assert matching_host(listener_host, route_host) == want


def test_route_hostnames_meet_listener_hostnames() -> None:
    gw = gateway(listener("apps", host="*.apps.ex.com"), listener("www", host="www.ex.com"))
    # only the names a listener accepts; a route without hostnames takes the listeners'
    assert names(route(["a.apps.ex.com", "other.ex.com"]), gw) == ["a.apps.ex.com"]
    assert names(route(None), gw) == ["*.apps.ex.com", "www.ex.com"]
    assert names(route(["*.ex.com"]), gw) == ["*.apps.ex.com", "www.ex.com"]
    # a listener without a hostname takes any route hostname; both without: nothing to name
    assert names(route(["x.ex.com"]), gateway(listener("any"))) == ["x.ex.com"]
    assert names(route(None), gateway(listener("any"))) == []
    # the hostname annotation must fit the listeners too
    annotated = route(None)
    annotated["metadata"]["annotations"] = {A + "hostname": "z.apps.ex.com,z.other.com"}
    assert names(annotated, gw) == ["*.apps.ex.com", "www.ex.com", "z.apps.ex.com"]


def test_section_name_and_port_pick_listeners() -> None:
    gw = gateway(listener("apps", host="*.apps.ex.com"), listener("alt", port=8080, host="*.alt.ex.com"))
    both = ["a.apps.ex.com", "a.alt.ex.com"]
    assert names(route(both), gw) == ["a.alt.ex.com", "a.apps.ex.com"]
    assert names(route(both, sectionName="apps"), gw) == ["a.apps.ex.com"]
    assert names(route(both, port=8080), gw) == ["a.alt.ex.com"]
    assert names(route(both, sectionName="apps", port=8080), gw) == []
    assert names(route(both, sectionName="missing"), gw) == []


@pytest.mark.parametrize(
    ("kind", "protocols"),
    [
        ("HTTPRoute", {"HTTP", "HTTPS"}),
        ("GRPCRoute", {"HTTP", "HTTPS"}),
        ("TLSRoute", {"TLS"}),
        ("TCPRoute", {"TCP", "TLS"}),
        ("UDPRoute", {"UDP"}),
    ],
)
def test_protocols(kind: str, protocols: set[str]) -> None:
    for protocol in ("HTTP", "HTTPS", "TLS", "TCP", "UDP"):
        rt = route(["x.ex.com"], kind=kind)
        assert (names(rt, gateway(listener("l", protocol))) == ["x.ex.com"]) == (protocol in protocols), (
            protocol
        )


def test_allowed_routes_namespaces_and_kinds() -> None:
    other = route(["x.ex.com"], namespace="shop")
    # Same (the default): only routes in the Gateway's namespace
    assert names(route(["x.ex.com"]), gateway(listener("l"))) == ["x.ex.com"]
    assert names(other, gateway(listener("l"))) == []
    assert names(other, gateway(listener("l", namespaces={"from": "Same"}))) == []
    assert names(other, gateway(listener("l", namespaces={"from": "All"}))) == ["x.ex.com"]
    # Selector: the route's namespace labels
    select = listener("l", namespaces={"from": "Selector", "selector": {"matchLabels": {"edge": "yes"}}})
    labelled = {"shop": {"metadata": {"name": "shop", "labels": {"edge": "yes"}}}}
    assert names(other, gateway(select), labelled) == ["x.ex.com"]
    assert names(other, gateway(select), {"shop": {"metadata": {"name": "shop"}}}) == []
    assert names(other, gateway(select)) == [], "an unknown namespace is not selected"
    expr = {"matchExpressions": [{"key": "edge", "operator": "In", "values": ["yes", "maybe"]}]}
    assert names(
        other, gateway(listener("l", namespaces={"from": "Selector", "selector": expr})), labelled
    ) == ["x.ex.com"]
    # kinds: only the kinds the listener lists
    grpc_only = listener("l", kinds=[{"kind": "GRPCRoute"}])
    assert names(route(["x.ex.com"]), gateway(grpc_only)) == []
    assert names(route(["x.ex.com"], kind="GRPCRoute"), gateway(grpc_only)) == ["x.ex.com"]
    foreign_group = listener("l", kinds=[{"group": "example.com", "kind": "HTTPRoute"}])
    assert names(route(["x.ex.com"]), gateway(foreign_group)) == []


async def test_listener_and_namespace_changes_rebuild_routes() -> None:
    from kumo.dns.controller import Controller, ControllerConfig
    from kumo.dns.providers.inmemory import InMemoryProvider

    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    select = listener("l", namespaces={"from": "Selector", "selector": {"matchLabels": {"edge": "yes"}}})
    ctrl.on_object("Gateway", "ADDED", gateway(select))
    ctrl.on_object("Namespace", "ADDED", {"metadata": {"name": "shop"}})
    ctrl.on_object("HTTPRoute", "ADDED", route(["x.ex.com"], namespace="shop"))
    assert not ctrl.dirty
    ctrl.on_object("Namespace", "MODIFIED", {"metadata": {"name": "shop", "labels": {"edge": "yes"}}})
    assert ctrl.dirty == {"x.ex.com"}
    await ctrl.reconcile()
    assert [k.dns_name for k in p.store if k.record_type == "A"] == ["x.ex.com"]
    # the Gateway's target annotation changes its routes' targets
    ctrl.on_object("Gateway", "MODIFIED", gateway(select, target="203.0.113.5"))
    assert ctrl.dirty == {"x.ex.com"}
    await ctrl.reconcile()
    assert [e.targets for k, e in p.store.items() if k.record_type == "A"] == [("203.0.113.5",)]
    # the listener narrows to other names: the record goes
    ctrl.on_object("Gateway", "MODIFIED", gateway({**select, "hostname": "*.apps.ex.com"}))
    assert ctrl.dirty == {"x.ex.com"}
    await ctrl.reconcile()
    assert not p.store


def test_plan_matches_routes_against_the_declared_gateway() -> None:
    from kumo.dns.expected import expected_endpoints

    gw = {"kind": "Gateway", **gateway(listener("apps", host="*.apps.ex.com"))}
    rt = route(["a.apps.ex.com", "b.other.ex.com"])

    def predicted(*objects: dict[str, Any]) -> list[str]:
        eps = expected_endpoints(objects, provider="inmemory", owner="kumo", address={"ip": ADDRESS})
        return sorted(e.dns_name for e in eps if e.record_type == "A")

    assert predicted(gw, rt) == ["a.apps.ex.com"]
    # a Gateway deployed elsewhere: the route's own names
    assert predicted(rt) == ["a.apps.ex.com", "b.other.ex.com"]


def test_gateway_target_annotation_replaces_its_addresses() -> None:
    def targets(rt: dict[str, Any], gw: dict[str, Any]) -> list[tuple[str, ...]]:
        ctx = SourceContext(gateways={("web", "gw"): gw})
        return [e.targets for e in endpoints_for("HTTPRoute", rt, SourceConfig(), ctx).endpoints]

    assert targets(route(["x.ex.com"]), gateway(listener("l"))) == [(ADDRESS,)]
    assert targets(route(["x.ex.com"]), gateway(listener("l"), target="203.0.113.5")) == [("203.0.113.5",)]
    # the route's own target annotation (a kumo extension) wins over both
    own = route(["x.ex.com"])
    own["metadata"]["annotations"] = {A + "target": "203.0.113.9"}
    assert targets(own, gateway(listener("l"), target="203.0.113.5")) == [("203.0.113.9",)]
