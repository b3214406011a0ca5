from __future__ import annotations

import re
from typing import Any

import pytest

from kumo.dns.filters import DomainFilter, LabelFilter
from kumo.dns.sources import SourceConfig, SourceContext, ingress_endpoints, parse_ttl, service_endpoints

A = "external-dns.alpha.kubernetes.io/"
S = "external-dns.kubernetes.io/"


def svc(
    annotations: dict[str, str], ingress: list[dict[str, str]] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "annotations": annotations,
            "labels": {"app": "web"},
        },
        "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.7", **spec},
        "status": {"loadBalancer": {"ingress": ingress or []}},
    }


def test_lb_hostname_becomes_cname_with_resource_label() -> None:
    r = service_endpoints(
        svc({A + "hostname": "www.ex.com"}, [{"hostname": "lb-1.elb.amazonaws.com"}]), SourceConfig()
    )
    assert [(e.dns_name, e.record_type, e.targets) for e in r.endpoints] == [
        ("www.ex.com", "CNAME", ("lb-1.elb.amazonaws.com",))
    ]
    assert r.endpoints[0].labels == {"resource": "service/shop/web"}
    assert not r.problems


def test_ips_split_into_a_and_aaaa_under_the_configured_prefix() -> None:
    r = service_endpoints(
        svc(
            {S + "hostname": "a.ex.com, b.ex.com.", S + "ttl": "1m"},
            [{"ip": "1.2.3.4"}, {"ip": "2001:db8::1"}],
        ),
        SourceConfig(annotation_prefix=S),
    )
    got = sorted((e.dns_name, e.record_type, e.record_ttl) for e in r.endpoints)
    assert got == [
        ("a.ex.com", "A", 60),
        ("a.ex.com", "AAAA", 60),
        ("b.ex.com", "A", 60),
        ("b.ex.com", "AAAA", 60),
    ]


def test_only_the_configured_prefix_is_read() -> None:
    """Split horizon: an instance with one prefix never publishes the names meant for the other."""
    ann = {A + "hostname": "alpha.ex.com", S + "hostname": "stable.ex.com"}
    got = service_endpoints(svc(ann, [{"ip": "1.1.1.1"}]), SourceConfig(annotation_prefix=S)).endpoints
    assert [e.dns_name for e in got] == ["stable.ex.com"]
    got = service_endpoints(svc(ann, [{"ip": "1.1.1.1"}]), SourceConfig()).endpoints
    assert [e.dns_name for e in got] == ["alpha.ex.com"]
    only_stable = {S + "hostname": "stable.ex.com"}
    assert service_endpoints(svc(only_stable, [{"ip": "1.1.1.1"}]), SourceConfig()).endpoints == []
    got = service_endpoints(svc(ann, [{"ip": "1.1.1.1"}]), SourceConfig()).endpoints
    assert [e.dns_name for e in got] == ["alpha.ex.com"]


def test_target_alias_set_identifier_and_aws_annotations() -> None:
    ann = {
        A + "hostname": "w.ex.com",
        A + "target": "lb.example.net",
        A + "alias": "true",
        A + "set-identifier": "blue",
        A + "aws-weight": "10",
        A + "aws-target-hosted-zone": "Z35SXDOTRQ7X7K",
    }
    (e,) = service_endpoints(svc(ann, [{"ip": "1.1.1.1"}]), SourceConfig()).endpoints
    assert e.targets == ("lb.example.net",) and e.set_identifier == "blue"
    assert e.provider_specific == {
        "alias": "true",
        "aws/weight": "10",
        "aws/target-hosted-zone": "Z35SXDOTRQ7X7K",
    }


def test_internal_hostname_uses_cluster_ip() -> None:
    (e,) = service_endpoints(svc({A + "internal-hostname": "in.ex.com"}), SourceConfig()).endpoints
    assert (e.dns_name, e.targets) == ("in.ex.com", ("10.0.0.7",))


def test_bad_values_are_problems_and_the_rest_goes_on() -> None:
    ann = {A + "hostname": "ok.ex.com,not a name!,bad..ex.com", A + "ttl": "soon", A + "aws-weight": "x"}
    r = service_endpoints(
        svc(ann, [{"ip": "1.1.1.1"}]), SourceConfig(domain_filter=DomainFilter.of(["ex.com"]))
    )
    assert [e.dns_name for e in r.endpoints] == ["ok.ex.com"]
    assert r.endpoints[0].record_ttl == 0
    text = "\n".join(r.problems)
    assert "'not a name!'" in text and "bad..ex.com" in text and "ttl" in text and "aws-weight" in text


def test_outside_domain_filter_is_a_problem() -> None:
    r = service_endpoints(
        svc({A + "hostname": "a.ex.com,b.other.org"}, [{"ip": "1.1.1.1"}]),
        SourceConfig(domain_filter=DomainFilter.of(["ex.com"])),
    )
    assert [e.dns_name for e in r.endpoints] == ["a.ex.com"]
    assert "outside the domain filter" in r.problems[0]


def test_filters_namespace_labels_controller() -> None:
    s = svc({A + "hostname": "a.ex.com"}, [{"ip": "1.1.1.1"}])
    assert not service_endpoints(s, SourceConfig(namespace="other")).endpoints
    assert not service_endpoints(s, SourceConfig(label_filter=LabelFilter.parse("app=api"))).endpoints
    assert service_endpoints(s, SourceConfig(label_filter=LabelFilter.parse("app=web"))).endpoints
    s["metadata"]["annotations"][A + "controller"] = "someone-else"
    assert not service_endpoints(s, SourceConfig()).endpoints


def test_no_address_no_endpoints_and_clusterip_needs_publish_internal() -> None:
    assert not service_endpoints(svc({A + "hostname": "a.ex.com"}), SourceConfig()).endpoints
    s = svc({A + "hostname": "a.ex.com"}, type="ClusterIP")
    assert not service_endpoints(s, SourceConfig()).endpoints
    assert service_endpoints(s, SourceConfig(publish_internal_services=True)).endpoints[0].targets == (
        "10.0.0.7",
    )


def test_external_name() -> None:
    s = svc({A + "hostname": "a.ex.com"}, type="ExternalName", externalName="backend.example.net")
    (e,) = service_endpoints(s, SourceConfig()).endpoints
    assert (e.record_type, e.targets) == ("CNAME", ("backend.example.net",))


def ingress(annotations: dict[str, str], hosts: list[str], tls: list[str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "annotations": annotations},
        "spec": {"rules": [{"host": h} for h in hosts], "tls": [{"hosts": tls or []}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-lb.elb.us-east-1.amazonaws.com"}]}},
    }


def test_ingress_rules_tls_and_hostname_source() -> None:
    i = ingress({A + "hostname": "extra.ex.com"}, ["a.ex.com", "b.ex.com"], ["c.ex.com"])
    names = sorted(e.dns_name for e in ingress_endpoints(i, SourceConfig()).endpoints)
    assert names == ["a.ex.com", "b.ex.com", "c.ex.com", "extra.ex.com"]
    assert ingress_endpoints(i, SourceConfig()).endpoints[0].labels["resource"] == "ingress/shop/web"
    i["metadata"]["annotations"][A + "ingress-hostname-source"] = "annotation-only"
    assert [e.dns_name for e in ingress_endpoints(i, SourceConfig()).endpoints] == ["extra.ex.com"]
    i["metadata"]["annotations"][A + "ingress-hostname-source"] = "defined-hosts-only"
    assert "extra.ex.com" not in [e.dns_name for e in ingress_endpoints(i, SourceConfig()).endpoints]


@pytest.mark.parametrize(("raw", "value"), [("60", 60), ("5m", 300), ("1h30m", 5400), ("90s", 90)])
def test_parse_ttl(raw: str, value: int) -> None:
    assert parse_ttl(raw) == value


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "", "1d", "99999999999"])
def test_parse_ttl_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_ttl(raw)


def route(hosts: list[str], parents: list[dict[str, str]], **ann: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "shop", "namespace": "web", "annotations": {A + k: v for k, v in ann.items()}},
        "spec": {"hostnames": hosts, "parentRefs": parents},
    }


ANY_NAMESPACE = {"namespaces": {"from": "All"}}
#: a listener of each protocol, open to routes of every namespace
LISTENERS = [
    {"name": p.lower(), "port": port, "protocol": p, "allowedRoutes": ANY_NAMESPACE}
    for p, port in (("HTTP", 80), ("TLS", 443), ("UDP", 53))
]


def gateway(*values: str) -> dict[str, Any]:
    return {
        "spec": {"listeners": LISTENERS},
        "status": {"addresses": [{"type": "IPAddress", "value": v} for v in values]},
    }


def test_httproute_targets_come_from_parent_gateways() -> None:
    from kumo.dns.sources import httproute_endpoints

    gws = {("infra", "public"): gateway("192.0.2.1"), ("web", "local"): gateway("192.0.2.2")}
    r = route(
        ["shop.ex.com", "bad name"],
        [{"name": "public", "namespace": "infra"}, {"name": "local"}],
        hostname="x.ex.com",
    )
    res = httproute_endpoints(r, SourceConfig(), gws)
    got = sorted((e.dns_name, e.targets) for e in res.endpoints)
    assert got == [("shop.ex.com", ("192.0.2.1", "192.0.2.2")), ("x.ex.com", ("192.0.2.1", "192.0.2.2"))]
    assert res.endpoints[0].labels["resource"] == "httproute/web/shop"
    assert "bad name" in res.problems[0]
    # a parent that rejects the route gives it no address
    r["status"] = {
        "parents": [{"parentRef": {"name": "local"}, "conditions": [{"type": "Accepted", "status": "False"}]}]
    }
    assert httproute_endpoints(r, SourceConfig(), gws).endpoints[0].targets == ("192.0.2.1",)


async def test_gateway_address_change_recomputes_its_routes() -> None:
    from kumo.dns.controller import Controller, ControllerConfig
    from kumo.dns.providers.inmemory import InMemoryProvider

    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    gw = {"metadata": {"name": "public", "namespace": "web"}, **gateway("192.0.2.1")}
    ctrl.on_object("HTTPRoute", "ADDED", route(["shop.ex.com"], [{"name": "public"}]))
    assert not ctrl.dirty  # no gateway yet, no address
    ctrl.on_object("Gateway", "ADDED", gw)
    await ctrl.reconcile()
    assert [e.targets for k, e in p.store.items() if k.record_type == "A"] == [("192.0.2.1",)]
    ctrl.on_object("Gateway", "MODIFIED", {"metadata": gw["metadata"], **gateway("192.0.2.9")})
    assert ctrl.dirty == {"shop.ex.com"}
    await ctrl.reconcile()
    assert [e.targets for k, e in p.store.items() if k.record_type == "A"] == [("192.0.2.9",)]


def test_unknown_aws_annotations_are_problems_not_properties() -> None:
    """An unknown aws-* property would be written nowhere and look changed on every sync."""
    ann = {A + "hostname": "www.ex.com", A + "aws-hosted-zone-id": "Z1", A + "aws-geoproximity-bias": "5"}
    r = service_endpoints(svc(ann, [{"ip": "1.1.1.1"}]), SourceConfig())
    assert r.endpoints[0].provider_specific == {"aws/geoproximity-bias": "5"}
    assert any("aws-hosted-zone-id" in p for p in r.problems)
    bad = service_endpoints(
        svc({A + "hostname": "w.ex.com", A + "aws-geoproximity-bias": "500"}), SourceConfig()
    )
    assert any("-99 to 99" in p for p in bad.problems)


@pytest.mark.parametrize(("value", "stored"), [("A", "A"), ("aaaa", "AAAA"), ("True", "true")])
def test_alias_annotation_values(value: str, stored: str) -> None:
    r = service_endpoints(
        svc({A + "hostname": "w.ex.com", A + "alias": value}, [{"ip": "1.1.1.1"}]), SourceConfig()
    )
    assert r.endpoints[0].provider_specific["alias"] == stored and not r.problems


@pytest.mark.parametrize(
    ("raw", "seconds"), [("1.5m", 90), ("90000ms", 90), ("1h2m3.5s", 3723), ("300", 300)]
)
def test_ttl_uses_go_durations(raw: str, seconds: int) -> None:
    assert parse_ttl(raw) == seconds


def test_label_filter_set_based_selector() -> None:
    """'team in (a,b)' is a set-based selector, parsed as the API server parses it."""
    cfg = SourceConfig(label_filter=LabelFilter.parse("team in (a,b),!legacy"))
    web = svc({A + "hostname": "w.ex.com"}, [{"ip": "1.1.1.1"}])
    web["metadata"]["labels"] = {"team": "b"}
    assert service_endpoints(web, cfg).endpoints
    web["metadata"]["labels"] = {"team": "c"}
    assert not service_endpoints(web, cfg).endpoints


def test_filters_by_service_type_annotation_ingress_class_and_rules() -> None:
    web = svc({A + "hostname": "w.ex.com", "team": "x"}, [{"ip": "1.1.1.1"}])
    assert not service_endpoints(web, SourceConfig(service_types=("NodePort",))).endpoints
    assert service_endpoints(web, SourceConfig(service_types=("LoadBalancer",))).endpoints
    assert service_endpoints(web, SourceConfig(annotation_filter=LabelFilter.parse("team=x"))).endpoints
    assert not service_endpoints(web, SourceConfig(annotation_filter=LabelFilter.parse("team=y"))).endpoints
    ing: dict[str, Any] = {
        "metadata": {"name": "i", "namespace": "n", "annotations": {}},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "r.ex.com"}],
            "tls": [{"hosts": ["t.ex.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}},
    }
    names = lambda cfg: sorted(e.dns_name for e in ingress_endpoints(ing, cfg).endpoints)  # noqa: E731
    assert names(SourceConfig(ingress_classes=("alb",))) == []
    assert names(SourceConfig(ingress_classes=("nginx",))) == ["r.ex.com", "t.ex.com"]
    assert names(SourceConfig(ignore_ingress_rules_spec=True)) == ["t.ex.com"]
    assert names(SourceConfig(ignore_ingress_tls_spec=True)) == ["r.ex.com"]


def test_min_ttl_applies_when_the_source_sets_none() -> None:
    web = svc({A + "hostname": "w.ex.com"}, [{"ip": "1.1.1.1"}])
    assert service_endpoints(web, SourceConfig(min_ttl=120)).endpoints[0].record_ttl == 120
    web["metadata"]["annotations"][A + "ttl"] = "30"
    assert service_endpoints(web, SourceConfig(min_ttl=120)).endpoints[0].record_ttl == 30


@pytest.mark.parametrize("kind", ["GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"])
def test_other_route_kinds_take_targets_from_gateways(kind: str) -> None:
    """TCPRoute and UDPRoute have no spec.hostnames: only the hostname annotation names them."""
    from kumo.dns.sources import endpoints_for

    gws = {("web", "public"): {"metadata": {"labels": {"edge": "yes"}}, **gateway("192.0.2.1")}}
    r = route(["shop.ex.com"], [{"name": "public"}], hostname="x.ex.com")
    r["kind"] = kind
    if kind in ("TCPRoute", "UDPRoute"):
        del r["spec"]["hostnames"]
    res = endpoints_for(kind, r, SourceConfig(), SourceContext(gateways=gws))
    names = sorted(e.dns_name for e in res.endpoints)
    assert names == (["x.ex.com"] if kind in ("TCPRoute", "UDPRoute") else ["shop.ex.com", "x.ex.com"])
    assert {e.targets for e in res.endpoints} == {("192.0.2.1",)}
    assert res.endpoints[0].labels["resource"] == f"{kind.lower()}/web/shop"


def test_gateway_filters() -> None:
    from kumo.dns.sources import httproute_endpoints

    gws = {("web", "public"): {"metadata": {"labels": {"edge": "yes"}}, **gateway("192.0.2.1")}}
    r = route(["shop.ex.com"], [{"name": "public"}])

    def targets(cfg: SourceConfig) -> list[tuple[str, ...]]:
        return [e.targets for e in httproute_endpoints(r, cfg, gws).endpoints]

    assert targets(SourceConfig(gateway_name="public")) == [("192.0.2.1",)]
    assert targets(SourceConfig(gateway_name="private")) == []
    assert targets(SourceConfig(gateway_namespace="web")) == [("192.0.2.1",)]
    assert targets(SourceConfig(gateway_namespace="infra")) == []
    assert targets(SourceConfig(gateway_label_filter=LabelFilter.parse("edge in (yes)"))) == [("192.0.2.1",)]
    assert targets(SourceConfig(gateway_label_filter=LabelFilter.parse("edge=no"))) == []


def test_regex_domain_filter_overrides_the_plain_filter() -> None:
    f = DomainFilter.of(["other.com"], regex=r"(^|\.)ex\.com$", regex_exclude=r"^internal\.")
    assert f.match("www.ex.com") and not f.match("internal.ex.com") and not f.match("www.other.com")
    assert f.match_zone("ex.com")
    plain = DomainFilter.of(["sub.ex.com"], ["no.sub.ex.com"])
    assert plain.match("a.sub.ex.com") and not plain.match("x.no.sub.ex.com")
    assert not plain.match_zone("ex.com") and plain.match_zone("ex.com", match_parent=True)
    assert plain.match_zone("sub.ex.com") and plain.match_zone("deeper.sub.ex.com")


def test_ignore_hostname_annotation() -> None:
    web = svc({A + "hostname": "w.ex.com"}, [{"ip": "1.1.1.1"}])
    assert service_endpoints(web, SourceConfig()).endpoints
    assert not service_endpoints(web, SourceConfig(ignore_hostname_annotation=True)).endpoints


def test_slim_objects_give_the_same_endpoints() -> None:
    """The informers cache slimmed objects: every source must read the same endpoints from them."""
    from kumo.dns.sources import endpoints_for
    from kumo.dns.sources.common import slim

    web = svc({A + "hostname": "w.ex.com", A + "ttl": "60", "other/x": "y"}, [{"hostname": "lb.ex.net"}])
    web["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    web["spec"]["ports"] = [{"port": 80}]
    ing: dict[str, Any] = {
        "metadata": {"name": "i", "namespace": "n", "annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {
            "rules": [{"host": "r.ex.com", "http": {"paths": []}}],
            "tls": [{"hosts": ["t.ex.com"], "secretName": "s"}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}},
    }
    rt = route(["shop.ex.com"], [{"name": "public"}])
    gws = {("web", "public"): gateway("192.0.2.1")}
    cfg = SourceConfig(ingress_classes=("nginx",))
    for kind, obj in (("Service", web), ("Ingress", ing), ("HTTPRoute", rt)):
        small = slim(obj, cfg)
        ctx = SourceContext(gateways=gws)
        assert endpoints_for(kind, small, cfg, ctx).endpoints == endpoints_for(kind, obj, cfg, ctx).endpoints
    small = slim(web, cfg)
    assert "managedFields" not in small["metadata"] and "ports" not in small["spec"]
    assert small["metadata"]["annotations"] == {A + "hostname": "w.ex.com", A + "ttl": "60"}
    # with --annotation-filter every annotation is kept: the filter may name any of them
    keep = slim(web, SourceConfig(annotation_filter=LabelFilter.parse("other/x=y")))
    assert keep["metadata"]["annotations"]["other/x"] == "y"


def test_fqdn_template_combine_and_ignore_hostname() -> None:
    from kumo.dns.sources.common import slim
    from kumo.dns.sources.fqdn import parse_fqdn_template

    tmpl = parse_fqdn_template(
        '{{.Name}}.{{.Namespace}}.ex.com, {{ index .Labels "app" | toLower }}-{{.Kind}}.ex.com.'
    )
    cfg = SourceConfig(fqdn_template=tmpl)
    bare = svc({}, [{"ip": "1.1.1.1"}])
    names = {e.dns_name for e in service_endpoints(bare, cfg).endpoints}
    assert names == {"web.shop.ex.com", "web-service.ex.com"}
    assert {e.dns_name for e in service_endpoints(slim(bare, cfg), cfg).endpoints} == names
    # an annotated Service keeps its own name, unless --combine-fqdn-annotation adds the template's
    named = svc({A + "hostname": "w.ex.com"}, [{"ip": "1.1.1.1"}])
    assert {e.dns_name for e in service_endpoints(named, cfg).endpoints} == {"w.ex.com"}
    combined = SourceConfig(fqdn_template=tmpl, combine_fqdn_annotation=True)
    assert {e.dns_name for e in service_endpoints(named, combined).endpoints} == {"w.ex.com", *names}
    # --ignore-hostname-annotation: the template's names only
    ignoring = SourceConfig(fqdn_template=tmpl, ignore_hostname_annotation=True)
    assert {e.dns_name for e in service_endpoints(named, ignoring).endpoints} == names
    # Ingresses too, with their own targets; one with spec hosts keeps them
    ing: dict[str, Any] = {
        "metadata": {"name": "i", "namespace": "n"},
        "spec": {"rules": [{"http": {"paths": []}}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "lb.ex.net"}]}},
    }
    eps = ingress_endpoints(
        ing, SourceConfig(fqdn_template=parse_fqdn_template("{{.Name}}.{{.Namespace}}.ex.com"))
    )
    assert [(e.dns_name, e.record_type, e.targets) for e in eps.endpoints] == [
        ("i.n.ex.com", "CNAME", ("lb.ex.net",))
    ]
    # Gateway routes without hostnames too, with their Gateway's addresses
    from kumo.dns.sources import httproute_endpoints

    rt = route([], [{"name": "public"}])
    rt["metadata"]["labels"] = {"app": "Shop"}
    eps = httproute_endpoints(rt, SourceConfig(fqdn_template=tmpl), {("web", "public"): gateway("192.0.2.1")})
    assert sorted((e.dns_name, e.targets) for e in eps.endpoints) == [
        ("shop-httproute.ex.com", ("192.0.2.1",)),
        ("shop.web.ex.com", ("192.0.2.1",)),
    ]
    # if/else and the functions external-dns adds
    cond = parse_fqdn_template(
        '{{if hasKey .Labels "app"}}{{trimSuffix "-svc" .Name}}{{else}}x{{end}}'
        '.{{replace "." "-" .Spec.ClusterIP}}.ex.com'
    )
    assert cond is not None
    assert cond.hostnames(bare, "Service") == ["web.10-0-0-7.ex.com"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{range .Spec.Ports}}{{.Name}}{{end}}.ex.com", "range is not supported"),
        ("{{$x := .Name}}{{$x}}.ex.com", "variables"),
        ("{{ sha256 .Name }}.ex.com", "unknown function 'sha256'"),
        ("{{if .Name}}a.ex.com", "has no {{end}}"),
        ("{{.Name}.ex.com", "unbalanced"),
    ],
)
def test_fqdn_template_kumo_cannot_evaluate_fails_at_start(template: str, message: str) -> None:
    from kumo.dns.settings import run_settings
    from kumo.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(message)):
        run_settings({"provider": "inmemory", "fqdn_template": template})
    with pytest.raises(UsageError, match="needs --fqdn-template"):
        run_settings({"provider": "inmemory", "combine_fqdn_annotation": True})
