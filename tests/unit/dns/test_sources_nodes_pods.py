"""NodePort and headless Services: targets from Nodes, Pods and EndpointSlices, as external-dns's
``source/service.go`` computes them."""

from __future__ import annotations

from typing import Any

from kumo.dns.sources import SourceConfig, SourceContext, service_endpoints
from kumo.dns.sources.common import slim
from kumo.dns.sources.context import slim_context

A = "external-dns.alpha.kubernetes.io/"


def node(name: str, *addresses: tuple[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "status": {"addresses": [{"type": t, "address": a} for t, a in addresses]},
    }


def pod(
    name: str,
    node_name: str,
    host_ip: str,
    *,
    hostname: str = "",
    ready: bool = True,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    terminating: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop", "labels": labels or {"app": "db"}}
    if annotations:
        meta["annotations"] = annotations
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": node_name, **({"hostname": hostname} if hostname else {})},
        "status": {
            "phase": "Running",
            "hostIP": host_ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def endpoint_slice(
    name: str, endpoints: list[tuple[str, str, bool | None]], address_type: str = "IPv4"
) -> dict[str, Any]:
    """(pod name, address, ready) per endpoint."""
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "db", "service.kubernetes.io/headless": ""},
        },
        "addressType": address_type,
        "endpoints": [
            {
                "addresses": [address],
                "conditions": {} if ready is None else {"ready": ready},
                "targetRef": {"kind": "Pod", "namespace": "shop", "name": pod_name},
            }
            for pod_name, address, ready in endpoints
        ],
    }


def service(name: str, stype: str, annotations: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop", "annotations": annotations},
        "spec": {"type": stype, "selector": {"app": "db"}, **spec},
    }


def context(*objects: tuple[str, dict[str, Any]]) -> SourceContext:
    ctx = SourceContext()
    for kind, obj in objects:
        ctx.update(kind, "ADDED", obj)
    return ctx


def records(svc: dict[str, Any], ctx: SourceContext, cfg: SourceConfig | None = None) -> dict[Any, Any]:
    result = service_endpoints(svc, cfg or SourceConfig(), ctx)
    return {(e.dns_name, e.record_type): e.targets for e in result.endpoints}


NODES = (
    ("Node", node("n1", ("InternalIP", "10.0.0.1"), ("ExternalIP", "203.0.113.1"), ("Hostname", "n1"))),
    (
        "Node",
        node("n2", ("InternalIP", "10.0.0.2"), ("InternalIP", "2001:db8::2"), ("ExternalIP", "203.0.113.2")),
    ),
)


def test_node_port_publishes_node_addresses_and_srv_records() -> None:
    ports = [
        {"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"},
        {"name": "https", "port": 443, "nodePort": 30443},
        {"name": "dns", "port": 53, "nodePort": 30053, "protocol": "UDP"},
    ]
    web = service("web", "NodePort", {A + "hostname": "web.ex.com", A + "ttl": "60"}, ports=ports)
    got = records(web, context(*NODES))
    # ExternalIPs, plus the IPv6 InternalIPs (external-dns extractNodePortTargets)
    assert got == {
        ("web.ex.com", "A"): ("203.0.113.1", "203.0.113.2"),
        ("web.ex.com", "AAAA"): ("2001:db8::2",),
        ("_web._tcp.web.ex.com", "SRV"): ("0 50 30080 web.ex.com", "0 50 30443 web.ex.com"),
        ("_web._udp.web.ex.com", "SRV"): ("0 50 30053 web.ex.com",),
    }
    srv = service_endpoints(web, SourceConfig(), context(*NODES)).endpoints[-1]
    assert srv.record_ttl == 60 and srv.labels == {"resource": "service/shop/web"}
    # the access annotation picks a side
    web["metadata"]["annotations"][A + "access"] = "private"
    assert records(web, context(*NODES))[("web.ex.com", "A")] == ("10.0.0.1", "10.0.0.2")
    web["metadata"]["annotations"][A + "access"] = "public"
    assert records(web, context(*NODES))[("web.ex.com", "A")] == ("203.0.113.1", "203.0.113.2")
    # no node has an ExternalIP: the InternalIPs
    internal_only = context(("Node", node("n1", ("InternalIP", "10.0.0.1"))))
    del web["metadata"]["annotations"][A + "access"]
    assert records(web, internal_only)[("web.ex.com", "A")] == ("10.0.0.1",)
    # no node at all: no address record (the SRV records stay, as external-dns)
    assert ("web.ex.com", "A") not in records(web, SourceContext())


def test_node_port_local_traffic_policy_uses_the_nodes_running_its_pods() -> None:
    web = service("web", "NodePort", {A + "hostname": "web.ex.com"}, externalTrafficPolicy="Local", ports=[])
    ctx = context(
        *NODES,
        ("Pod", pod("db-0", "n2", "10.0.0.2")),
        ("Pod", pod("x", "n1", "10.0.0.1", labels={"app": "web"})),
    )
    assert records(web, ctx)[("web.ex.com", "A")] == ("203.0.113.2",)
    # only a terminating pod on n2 and an unready one on n1: the ready (terminating) one wins
    ctx = context(
        *NODES,
        ("Pod", pod("db-0", "n2", "10.0.0.2", terminating=True)),
        ("Pod", pod("db-1", "n1", "10.0.0.1", ready=False)),
    )
    assert records(web, ctx)[("web.ex.com", "A")] == ("203.0.113.2",)


def test_headless_publishes_ready_pods_and_their_hostnames() -> None:
    db = service(
        "db", "ClusterIP", {A + "hostname": "db.ex.com", A + "set-identifier": "blue"}, clusterIP="None"
    )
    ctx = context(
        *NODES,
        ("Pod", pod("db-0", "n1", "10.0.0.1", hostname="db-0")),
        ("Pod", pod("db-1", "n2", "10.0.0.2", hostname="db-1", ready=False)),
        ("Pod", pod("db-2", "n2", "10.0.0.2")),
        (
            "EndpointSlice",
            endpoint_slice(
                "db-abc",
                [("db-0", "10.244.0.5", True), ("db-1", "10.244.1.6", False), ("db-2", "10.244.1.7", None)],
            ),
        ),
    )
    assert records(db, ctx) == {
        ("db.ex.com", "A"): ("10.244.0.5", "10.244.1.7"),  # unset readiness counts as ready
        ("db-0.db.ex.com", "A"): ("10.244.0.5",),
    }
    endpoint = service_endpoints(db, SourceConfig(), ctx).endpoints[0]
    assert endpoint.set_identifier == "blue" and endpoint.labels == {"resource": "service/shop/db"}
    # unready endpoints too: by the Service, or by --always-publish-not-ready-addresses
    everyone = {
        ("db.ex.com", "A"): ("10.244.0.5", "10.244.1.6", "10.244.1.7"),
        ("db-0.db.ex.com", "A"): ("10.244.0.5",),
        ("db-1.db.ex.com", "A"): ("10.244.1.6",),
    }
    assert records(db, ctx, SourceConfig(always_publish_not_ready_addresses=True)) == everyone
    db["spec"]["publishNotReadyAddresses"] = True
    assert records(db, ctx) == everyone
    # the host's address instead: --publish-host-ip or endpoints-type HostIP
    host = {
        ("db.ex.com", "A"): ("10.0.0.1", "10.0.0.2"),
        ("db-0.db.ex.com", "A"): ("10.0.0.1",),
        ("db-1.db.ex.com", "A"): ("10.0.0.2",),
    }
    assert records(db, ctx, SourceConfig(publish_host_ip=True)) == host
    db["metadata"]["annotations"][A + "endpoints-type"] = "HostIP"
    assert records(db, ctx) == host
    # the node's ExternalIP (and with --expose-internal-ipv6 its IPv6 InternalIP)
    db["metadata"]["annotations"][A + "endpoints-type"] = "NodeExternalIP"
    assert records(db, ctx)[("db.ex.com", "A")] == ("203.0.113.1", "203.0.113.2")
    assert records(db, ctx, SourceConfig(expose_internal_ipv6=True))[("db-1.db.ex.com", "AAAA")] == (
        "2001:db8::2",
    )


def test_headless_pod_target_annotation_ipv6_and_what_is_skipped() -> None:
    db = service("db", "ClusterIP", {A + "hostname": "db.ex.com"}, clusterIP="None")
    ctx = context(
        ("Pod", pod("db-0", "n1", "10.0.0.1", annotations={A + "target": "192.0.2.9"})),
        ("Pod", pod("db-1", "gone", "10.0.0.3")),
        ("Pod", pod("other", "n1", "10.0.0.1", labels={"app": "web"})),
        ("EndpointSlice", endpoint_slice("db-v6", [("db-1", "fd00::7", True)], "IPv6")),
        (
            "EndpointSlice",
            endpoint_slice(
                "db-v4",
                [
                    ("db-0", "10.244.0.5", True),
                    ("other", "10.244.0.8", True),
                    ("missing", "10.244.0.9", True),
                ],
            ),
        ),
        ("EndpointSlice", endpoint_slice("db-fqdn", [("db-1", "db.example.org", True)], "FQDN")),
    )
    # a pod's own target annotation wins; a pod the Service does not select, or a missing one, is skipped
    assert records(db, ctx) == {("db.ex.com", "A"): ("192.0.2.9",), ("db.ex.com", "AAAA"): ("fd00::7",)}
    # NodeExternalIP with a pod on an unknown node: external-dns publishes nothing for the name
    db["metadata"]["annotations"][A + "endpoints-type"] = "NodeExternalIP"
    result = service_endpoints(
        db,
        SourceConfig(),
        context(
            *NODES,
            *[("Pod", pod("db-1", "gone", "10.0.0.3"))],
            ("EndpointSlice", endpoint_slice("db-v6", [("db-1", "fd00::7", True)], "IPv6")),
        ),
    )
    assert not result.endpoints and "its node is unknown" in result.problems[0]
    # internal-hostname of a headless Service publishes the pods too
    db = service("db", "ClusterIP", {A + "internal-hostname": "db.internal.ex.com"}, clusterIP="None")
    assert records(db, ctx) == {
        ("db.internal.ex.com", "A"): ("192.0.2.9",),
        ("db.internal.ex.com", "AAAA"): ("fd00::7",),
    }


def test_context_changes_rebuild_only_what_reads_them() -> None:
    ctx = SourceContext()
    n1 = NODES[0][1]
    assert ctx.update("Node", "ADDED", n1) is not None
    heartbeat = {**n1, "metadata": {**n1["metadata"], "resourceVersion": "9"}}
    assert ctx.update("Node", "MODIFIED", heartbeat) is None  # nothing the sources read moved
    node_port = service("web", "NodePort", {})
    lb = service("lb", "LoadBalancer", {})
    moved = ctx.update("Node", "MODIFIED", node("n1", ("ExternalIP", "203.0.113.9")))
    assert moved is not None and moved("Service", node_port) and not moved("Service", lb)
    relabelled = ctx.update("Pod", "ADDED", pod("db-0", "n1", "10.0.0.1", labels={"app": "other"}))
    assert relabelled is not None and not relabelled("Service", node_port)
    relabelled = ctx.update("Pod", "MODIFIED", pod("db-0", "n1", "10.0.0.1"))
    assert relabelled is not None and relabelled("Service", node_port)  # its new labels match
    sliced = ctx.update("EndpointSlice", "ADDED", endpoint_slice("db-abc", []))
    headless = service("db", "ClusterIP", {}, clusterIP="None")
    assert sliced is not None and sliced("Service", headless) and not sliced("Service", node_port)
    assert ctx.update("EndpointSlice", "DELETED", endpoint_slice("db-abc", [])) is not None
    assert ctx.update("Pod", "DELETED", pod("db-0", "n1", "10.0.0.1")) is not None
    assert not ctx.slices and not ctx.pods


def test_service_type_filter_decides_which_context_kinds_are_read() -> None:
    from kumo.dns.sources import SOURCES

    service = SOURCES["service"]
    kinds = [w.kind for w in service.context(SourceConfig())]
    assert kinds == ["Node", "Pod", "EndpointSlice"]
    assert service.context(SourceConfig(service_types=("LoadBalancer", "ExternalName"))) == ()
    assert [w.kind for w in service.context(SourceConfig(service_types=("NodePort",)))] == ["Node", "Pod"]
    assert [w.kind for w in service.context(SourceConfig(service_types=("ClusterIP",)))] == [
        "Pod",
        "EndpointSlice",
    ]
    assert [w.kind for w in SOURCES["gateway-udproute"].context(SourceConfig())] == ["Gateway", "Namespace"]


def test_slim_objects_give_the_same_node_port_and_headless_records() -> None:
    ports = [{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP", "targetPort": 8080}]
    web = service(
        "web", "NodePort", {A + "hostname": "web.ex.com"}, ports=ports, externalTrafficPolicy="Local"
    )
    db = service("db", "ClusterIP", {A + "hostname": "db.ex.com"}, clusterIP="None")
    full = [
        *NODES,
        ("Pod", pod("db-0", "n1", "10.0.0.1", hostname="db-0", annotations={"other": "x"})),
        ("EndpointSlice", endpoint_slice("db-abc", [("db-0", "10.244.0.5", True)])),
    ]
    small = [(kind, slim_context(kind, obj, A)) for kind, obj in full]
    cfg = SourceConfig()
    for svc in (web, db):
        assert records(slim(svc, cfg), context(*small)) == records(svc, context(*full))
    assert "annotations" not in small[2][1]["metadata"]
    lb = slim(service("lb", "LoadBalancer", {}, ports=ports), cfg)
    assert "selector" not in lb["spec"] and "ports" not in lb["spec"]  # 10,000 of these stay small


def test_external_ips_and_internal_hostname_follow_the_service_type() -> None:
    """external-dns: spec.externalIPs before the load balancer's (and for ExternalName); the
    internal-hostname of a NodePort Service is its nodes, of a LoadBalancer its cluster IP."""
    lb = service("lb", "LoadBalancer", {A + "hostname": "lb.ex.com"}, externalIPs=["198.51.100.4"])
    lb["status"] = {"loadBalancer": {"ingress": [{"hostname": "x.elb.amazonaws.com"}]}}
    assert records(lb, SourceContext()) == {("lb.ex.com", "A"): ("198.51.100.4",)}
    name = service("ext", "ExternalName", {A + "hostname": "ext.ex.com"}, externalName="db.example.org")
    assert records(name, SourceContext()) == {("ext.ex.com", "CNAME"): ("db.example.org",)}
    name["spec"]["externalIPs"] = ["198.51.100.5"]
    assert records(name, SourceContext()) == {("ext.ex.com", "A"): ("198.51.100.5",)}
    lb["spec"]["clusterIP"] = "10.96.0.9"
    lb["metadata"]["annotations"] = {A + "internal-hostname": "lb.internal.ex.com"}
    assert records(lb, SourceContext()) == {("lb.internal.ex.com", "A"): ("10.96.0.9",)}
    web = service("web", "NodePort", {A + "internal-hostname": "web.internal.ex.com"}, clusterIP="10.96.0.8")
    assert records(web, context(*NODES))[("web.internal.ex.com", "A")] == ("203.0.113.1", "203.0.113.2")
    # --ignore-hostname-annotation ignores internal-hostname too
    assert not records(web, context(*NODES), SourceConfig(ignore_hostname_annotation=True))


def test_controller_rebuilds_the_services_a_node_event_concerns() -> None:
    from kumo.dns.controller import Controller
    from kumo.dns.providers.inmemory import InMemoryProvider

    ctrl = Controller(InMemoryProvider(zones=["ex.com"]))
    web = service("web", "NodePort", {A + "hostname": "web.ex.com"})
    lb = service("lb", "LoadBalancer", {A + "hostname": "lb.ex.com"})
    ctrl.on_object("Service", "ADDED", web)
    ctrl.on_object("Service", "ADDED", lb)
    assert ctrl._context_readers == {("Service", "shop", "web")}  # only it reads Nodes
    assert not ctrl.desired.by_name.get("web.ex.com")
    ctrl.dirty.clear()
    ctrl.on_object("Node", "ADDED", NODES[0][1])
    assert ctrl.dirty == {"web.ex.com"}
    [endpoints] = ctrl.desired.by_name["web.ex.com"].values()
    assert endpoints[0].targets == ("203.0.113.1",)
    # the Service becomes a LoadBalancer: Node events no longer concern it
    web["spec"]["type"] = "LoadBalancer"
    ctrl.on_object("Service", "MODIFIED", web)
    assert not ctrl._context_readers
