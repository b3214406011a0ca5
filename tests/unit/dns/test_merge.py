"""Several Services at one name: one record set, as external-dns's service source merges them."""

from __future__ import annotations

from typing import Any

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import Endpoint
from kumo.dns.expected import expected_endpoints
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.sources import merge_service_endpoints

H = "external-dns.alpha.kubernetes.io/hostname"


def svc(name: str, host: str, address: dict[str, str] | None, **ann: str) -> dict[str, Any]:
    annotations = {H: host, **{f"external-dns.alpha.kubernetes.io/{k}": v for k, v in ann.items()}}
    return {
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [address] if address else []}},
    }


def ep(name: str, rtype: str, resource: str, *targets: str, ttl: int = 0, set_id: str = "") -> Endpoint:
    return Endpoint(name, targets, rtype, ttl, set_id, {"resource": resource})


def txt_resource(p: InMemoryProvider, txt_name: str) -> str:
    txt = next(e for k, e in p.store.items() if k.dns_name == txt_name and k.record_type == "TXT")
    return txt.targets[0].split("external-dns/resource=")[1].split(",")[0].strip('"')


def records(p: InMemoryProvider, rtype: str) -> dict[str, tuple[str, ...]]:
    return {k.dns_name: tuple(sorted(e.targets)) for k, e in p.store.items() if k.record_type == rtype}


def test_merge_rules() -> None:
    b = ep("www.ex.com", "A", "service/default/b", "10.0.0.2")
    a = ep("www.ex.com", "A", "service/default/a", "10.0.0.1", "10.0.0.3")
    merged = merge_service_endpoints([b, a])
    assert [(e.targets, e.labels["resource"]) for e in merged] == [
        (("10.0.0.1", "10.0.0.2", "10.0.0.3"), "service/default/a")
    ]
    assert b.targets == ("10.0.0.2",) and a.targets == ("10.0.0.1", "10.0.0.3"), "inputs never change"
    # a shared target is written once (Route 53 rejects a duplicate value)
    same = merge_service_endpoints(
        [ep("x.ex.com", "A", "service/d/a", "1.1.1.1"), ep("x.ex.com", "A", "service/d/b", "1.1.1.1")]
    )
    assert [e.targets for e in same] == [("1.1.1.1",)]
    # a different TTL, set identifier or type keeps record sets apart; so does CNAME, always
    apart = [
        ep("t.ex.com", "A", "service/d/a", "1.1.1.1", ttl=60),
        ep("t.ex.com", "A", "service/d/b", "1.1.1.2", ttl=300),
        ep("s.ex.com", "A", "service/d/a", "1.1.1.1", set_id="one"),
        ep("s.ex.com", "A", "service/d/b", "1.1.1.2", set_id="two"),
        ep("v.ex.com", "A", "service/d/a", "1.1.1.1"),
        ep("v.ex.com", "AAAA", "service/d/b", "2001:db8::1"),
        ep("c.ex.com", "CNAME", "service/d/a", "lb-a.elb.test"),
        ep("c.ex.com", "CNAME", "service/d/b", "lb-b.elb.test"),
    ]
    assert merge_service_endpoints(apart) is apart
    # other sources' endpoints are not merged (the plan picks one per resource)
    ingresses = [ep("i.ex.com", "A", "ingress/d/a", "1.1.1.1"), ep("i.ex.com", "A", "ingress/d/b", "1.1.1.2")]
    assert merge_service_endpoints(ingresses) is ingresses
    mixed = merge_service_endpoints([*ingresses, a, b])
    assert sorted((e.labels["resource"], e.targets) for e in mixed) == [
        ("ingress/d/a", ("1.1.1.1",)),
        ("ingress/d/b", ("1.1.1.2",)),
        ("service/default/a", ("10.0.0.1", "10.0.0.2", "10.0.0.3")),
    ]


async def test_two_services_at_one_name_share_the_a_record_set() -> None:
    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    # b first: the owner is the first Service by name, not by creation
    ctrl.on_object("Service", "ADDED", svc("b", "www.ex.com", {"ip": "10.0.0.2"}))
    await ctrl.reconcile()
    assert txt_resource(p, "a-www.ex.com") == "service/default/b"
    ctrl.on_object("Service", "ADDED", svc("a", "www.ex.com", {"ip": "10.0.0.1"}))
    await ctrl.reconcile()
    assert records(p, "A") == {"www.ex.com": ("10.0.0.1", "10.0.0.2")}
    assert txt_resource(p, "a-www.ex.com") == "service/default/a"
    # another change of b keeps a as the owner: the TXT record stays as it is
    ctrl.on_object("Service", "MODIFIED", svc("b", "www.ex.com", {"ip": "10.0.0.9"}))
    await ctrl.reconcile()
    assert records(p, "A") == {"www.ex.com": ("10.0.0.1", "10.0.0.9")}
    assert txt_resource(p, "a-www.ex.com") == "service/default/a"
    # the first Service goes: the other's target stays, and it owns the record now
    ctrl.on_object("Service", "DELETED", svc("a", "www.ex.com", {"ip": "10.0.0.1"}))
    await ctrl.reconcile()
    assert records(p, "A") == {"www.ex.com": ("10.0.0.9",)}
    assert txt_resource(p, "a-www.ex.com") == "service/default/b"
    ctrl.on_object("Service", "DELETED", svc("b", "www.ex.com", {"ip": "10.0.0.9"}))
    await ctrl.reconcile()
    assert not p.store


async def test_two_services_at_one_name_with_hostnames_keep_one_cname() -> None:
    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    ctrl.on_object("Service", "ADDED", svc("b", "www.ex.com", {"hostname": "lb-b.elb.test"}))
    ctrl.on_object("Service", "ADDED", svc("a", "www.ex.com", {"hostname": "lb-a.elb.test"}))
    await ctrl.reconcile()
    # a CNAME has one target: the first Service's, as external-dns (CNAMEs are not merged)
    assert records(p, "CNAME") == {"www.ex.com": ("lb-a.elb.test",)}
    assert txt_resource(p, "cname-www.ex.com") == "service/default/a"
    ctrl.on_object("Service", "DELETED", svc("a", "www.ex.com", {"hostname": "lb-a.elb.test"}))
    await ctrl.reconcile()
    assert records(p, "CNAME") == {"www.ex.com": ("lb-b.elb.test",)}
    assert txt_resource(p, "cname-www.ex.com") == "service/default/b"


def test_plan_predicts_the_merged_record() -> None:
    objects = [svc("b", "www.ex.com", None), svc("a", "www.ex.com", None)]
    eps = expected_endpoints(objects, provider="inmemory", owner="kumo", address={"ip": "192.0.2.10"})
    a = [e for e in eps if e.record_type == "A"]
    assert [(e.dns_name, e.targets, e.labels["resource"]) for e in a] == [
        ("www.ex.com", ("192.0.2.10",), "service/default/a")
    ]
