"""Route 53 on moto server: adoption with zero changes, ALIAS, batching, bisecting, throttling, zones."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import Endpoint
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes, Policy
from kumo.dns.providers.route53 import Route53Provider
from kumo.dns.registry import ownership_txt_content
from tests.integration.dns.conftest import Moto

pytestmark = pytest.mark.integration

ELB = "k8s-shop-web-0123456789.us-east-1.elb.amazonaws.com"
NLB = "k8s-shop-api-abcdef.elb.eu-west-1.amazonaws.com"


def make_zone(name: str = "example.com", private: bool = False) -> str:
    client = boto3.client("route53")
    kwargs: dict[str, Any] = {"Name": name, "CallerReference": f"{name}-{random.random()}"}
    if private:
        kwargs["VPC"] = {"VPCRegion": "us-east-1", "VPCId": "vpc-12345"}
        kwargs["HostedZoneConfig"] = {"PrivateZone": True, "Comment": ""}
    return str(client.create_hosted_zone(**kwargs)["HostedZone"]["Id"]).rsplit("/", 1)[-1]


def rrsets(zone_id: str) -> list[dict[str, Any]]:
    client = boto3.client("route53")
    out: list[dict[str, Any]] = []
    for page in client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        out.extend(page["ResourceRecordSets"])
    return sorted(out, key=lambda r: (r["Name"], r["Type"], r.get("SetIdentifier", "")))


def change(zone_id: str, changes: list[dict[str, Any]]) -> None:
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": changes}
    )


def txt(name: str, owner: str, resource: str) -> dict[str, Any]:
    value = ownership_txt_content(owner, resource)
    return {
        "Action": "CREATE",
        "ResourceRecordSet": {"Name": name, "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": value}]},
    }


def alias(name: str, rtype: str, target: str, zone: str) -> dict[str, Any]:
    return {
        "Action": "CREATE",
        "ResourceRecordSet": {
            "Name": name,
            "Type": rtype,
            "AliasTarget": {"HostedZoneId": zone, "DNSName": target, "EvaluateTargetHealth": True},
        },
    }


def plain(name: str, rtype: str, values: list[str], ttl: int = 300) -> dict[str, Any]:
    return {
        "Action": "CREATE",
        "ResourceRecordSet": {
            "Name": name,
            "Type": rtype,
            "TTL": ttl,
            "ResourceRecords": [{"Value": v} for v in values],
        },
    }


def service(name: str, host: str, lb: dict[str, str] | None, ns: str = "shop", **ann: str) -> dict[str, Any]:
    annotations = {"external-dns.alpha.kubernetes.io/hostname": host}
    annotations.update({f"external-dns.alpha.kubernetes.io/{k.replace('_', '-')}": v for k, v in ann.items()})
    return {
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [lb] if lb else []}},
    }


def counting(p: Route53Provider) -> list[str]:
    ops: list[str] = []
    p.on_call = ops.append
    return ops


def populate_external_dns_zone(zone_id: str, legacy: bool) -> None:
    """A zone as external-dns leaves it (owner "prod"): ALIAS A+AAAA, plain A, CNAME, and others' records."""
    recs = [
        alias("www.example.com", "A", ELB, "Z35SXDOTRQ7X7K"),
        alias("www.example.com", "AAAA", ELB, "Z35SXDOTRQ7X7K"),
        alias("api.example.com", "A", NLB, "Z2IFOLAFXWLO4F"),
        alias("api.example.com", "AAAA", NLB, "Z2IFOLAFXWLO4F"),
        plain("ip.example.com", "A", ["203.0.113.7"]),
        plain("ext.example.com", "CNAME", ["backend.example.net"]),
        # not ours: another owner, and a hand-made record
        plain("other.example.com", "A", ["198.51.100.1"]),
        txt("a-other.example.com", "someone-else", "service/x/other"),
        plain("hand.example.com", "A", ["198.51.100.2"]),
        plain("example.com", "MX", ["10 mail.example.com"]),
    ]
    if legacy:
        # v0.14 era: the legacy TXT (no type) plus the typed one, "cname-" for ALIAS A
        recs += [
            txt("www.example.com", "prod", "service/shop/web"),
            txt("cname-www.example.com", "prod", "service/shop/web"),
            txt("aaaa-www.example.com", "prod", "service/shop/web"),
            txt("api.example.com", "prod", "service/shop/api"),
            txt("cname-api.example.com", "prod", "service/shop/api"),
            txt("aaaa-api.example.com", "prod", "service/shop/api"),
            txt("ip.example.com", "prod", "service/shop/ip"),  # legacy-only ownership
            txt("ext.example.com", "prod", "service/shop/ext"),
            txt("cname-ext.example.com", "prod", "service/shop/ext"),
        ]
    else:
        recs += [
            txt("a-www.example.com", "prod", "service/shop/web"),
            txt("aaaa-www.example.com", "prod", "service/shop/web"),
            txt("a-api.example.com", "prod", "service/shop/api"),
            txt("aaaa-api.example.com", "prod", "service/shop/api"),
            txt("a-ip.example.com", "prod", "service/shop/ip"),
            txt("cname-ext.example.com", "prod", "service/shop/ext"),
        ]
    change(zone_id, recs)


def seed_services(ctrl: Controller) -> None:
    ctrl.on_object("Service", "ADDED", service("web", "www.example.com", {"hostname": ELB}))
    ctrl.on_object("Service", "ADDED", service("api", "api.example.com", {"hostname": NLB}))
    ctrl.on_object("Service", "ADDED", service("ip", "ip.example.com", {"ip": "203.0.113.7"}))
    ctrl.on_object("Service", "ADDED", service("ext", "ext.example.com", {"hostname": "backend.example.net"}))


@pytest.mark.parametrize("legacy", [False, True], ids=["new-format", "legacy-format"])
async def test_adopts_external_dns_zone_with_zero_changes(aws: Moto, legacy: bool) -> None:
    zone_id = make_zone()
    populate_external_dns_zone(zone_id, legacy)
    before = rrsets(zone_id)
    p = Route53Provider(rate_limit=0)
    ops = counting(p)
    ctrl = Controller(p, ControllerConfig(owner_id="prod"))
    seed_services(ctrl)
    result = await ctrl.reconcile()
    assert not result.failed
    assert "change_resource_record_sets" not in ops, "adoption must not write"
    assert rrsets(zone_id) == before
    # and kumo manages them from then on
    ctrl.on_object("Service", "MODIFIED", service("ip", "ip.example.com", {"ip": "203.0.113.9"}))
    ctrl.on_object("Service", "DELETED", service("web", "www.example.com", {"hostname": ELB}))
    assert not (await ctrl.reconcile()).failed
    after = {(r["Name"], r["Type"]): r for r in rrsets(zone_id)}
    assert after[("ip.example.com.", "A")]["ResourceRecords"] == [{"Value": "203.0.113.9"}]
    assert not [k for k in after if k[0].endswith("www.example.com.")], "deleted with all its TXT forms"
    assert ("other.example.com.", "A") in after and ("hand.example.com.", "A") in after
    assert after[("a-other.example.com.", "TXT")] == {r["Name"]: r for r in before}["a-other.example.com."]


async def test_alias_records_for_elb_and_nlb_with_canonical_zones(aws: Moto) -> None:
    zone_id = make_zone()
    p = Route53Provider(rate_limit=0)
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    ctrl.on_object("Service", "ADDED", service("web", "www.example.com", {"hostname": ELB}))
    ctrl.on_object("Service", "ADDED", service("api", "api.example.com", {"hostname": NLB}))
    ctrl.on_object(
        "Service",
        "ADDED",
        service("o", "o.example.com", {"hostname": ELB}, aws_target_hosted_zone="ZOVERRIDE0001"),
    )
    assert not (await ctrl.reconcile()).failed
    got = {(r["Name"], r["Type"]): r for r in rrsets(zone_id)}
    for rtype in ("A", "AAAA"):
        assert got[("www.example.com.", rtype)]["AliasTarget"]["HostedZoneId"] == "Z35SXDOTRQ7X7K"
        assert got[("api.example.com.", rtype)]["AliasTarget"]["HostedZoneId"] == "Z2IFOLAFXWLO4F"
        assert got[("o.example.com.", rtype)]["AliasTarget"]["HostedZoneId"] == "ZOVERRIDE0001"
        assert got[("www.example.com.", rtype)]["AliasTarget"]["EvaluateTargetHealth"] is True
    assert ("a-www.example.com.", "TXT") in got and ("aaaa-www.example.com.", "TXT") in got
    # a second controller reading the zone back plans nothing
    p2 = Route53Provider(rate_limit=0)
    ops = counting(p2)
    c2 = Controller(p2, ControllerConfig(owner_id="kumo"))
    for name, host, lb, extra in (
        ("web", "www.example.com", ELB, {}),
        ("api", "api.example.com", NLB, {}),
        ("o", "o.example.com", ELB, {"aws_target_hosted_zone": "ZOVERRIDE0001"}),
    ):
        c2.on_object("Service", "ADDED", service(name, host, {"hostname": lb}, **extra))
    await c2.reconcile()
    assert "change_resource_record_sets" not in ops


async def test_large_sync_batches_under_limits_and_converges(aws: Moto) -> None:
    zone_id = make_zone()
    p = Route53Provider(rate_limit=0)
    ops = counting(p)
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    for i in range(700):  # 700 records + 700 TXT = 1400 changes: more than one batch
        ctrl.on_object(
            "Service", "ADDED", service(f"s{i}", f"h{i}.example.com", {"ip": f"10.1.{i // 200}.{i % 200}"})
        )
    assert not (await ctrl.reconcile()).failed
    # 1400 values fit two batches by count, but the TXT values pass Route 53's 32,000-character cap
    assert ops.count("change_resource_record_sets") == 3
    assert len([r for r in rrsets(zone_id) if r["Type"] == "A"]) == 700
    # updates are UPSERTs (count twice): 700 x 2 x 1 values = 1400 => still batched under 1000 each
    for i in range(700):
        ctrl.on_object(
            "Service", "MODIFIED", service(f"s{i}", f"h{i}.example.com", {"ip": f"10.2.{i // 200}.{i % 200}"})
        )
    assert not (await ctrl.reconcile()).failed
    assert {r["ResourceRecords"][0]["Value"].split(".")[1] for r in rrsets(zone_id) if r["Type"] == "A"} == {
        "2"
    }


async def test_rejected_batch_is_bisected_to_the_bad_change(aws: Moto) -> None:
    zone_id = make_zone()
    p = Route53Provider(rate_limit=0)
    ops = counting(p)
    good = [Endpoint(f"g{i}.example.com", (f"10.0.0.{i}",), "A") for i in range(20)]
    # deleting a record that is not there: Route 53 rejects the whole batch
    missing = Endpoint("missing.example.com", ("10.9.9.9",), "A")
    result = await p.apply_changes(Changes(create=good, delete=[missing]))
    assert list(result.failed) == ["missing.example.com"]
    assert ops.count("change_resource_record_sets") <= 2 + 2 * 5  # one try, then a bisection of 21 groups
    names = {r["Name"] for r in rrsets(zone_id)}
    assert all(f"{e.dns_name}." in names for e in good)


def _throttle_hook(rate: float, rng: random.Random, counter: list[int]) -> Any:
    body = (
        b'<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        b"<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
        b"<RequestId>x</RequestId></ErrorResponse>"
    )

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield body

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        if rng.random() < rate:
            counter[0] += 1
            return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, Raw())
        return None

    return hook


async def test_throttling_backs_off_and_converges(aws: Moto) -> None:
    zone_id = make_zone()
    p = Route53Provider(rate_limit=0, max_retries=12)
    throttled = [0]
    p.client.meta.events.register("before-send.route53", _throttle_hook(0.4, random.Random(7), throttled))
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    for i in range(30):
        ctrl.on_object("Service", "ADDED", service(f"s{i}", f"t{i}.example.com", {"ip": f"10.3.0.{i}"}))
    for _ in range(5):
        await ctrl.reconcile()
        if not ctrl.failures:
            break
        ctrl.retry_at = dict.fromkeys(ctrl.retry_at, 0.0)
    assert throttled[0] > 0 and p.throttled > 0
    assert not ctrl.failures
    assert len([r for r in rrsets(zone_id) if r["Type"] == "A"]) == 30


async def test_zone_listing_pagination_and_filters(aws: Moto) -> None:
    for i in range(5):
        make_zone(f"z{i}.example.org")
    pub = make_zone("example.com")
    priv = make_zone("internal.example.com", private=True)
    p = Route53Provider(rate_limit=0, zone_page_size=2)
    ops = counting(p)
    assert len(await p.zones()) == 7
    assert ops.count("list_hosted_zones") == 4  # pages of 2
    only_pub = Route53Provider(
        rate_limit=0, zone_type="public", domain_filter=DomainFilter.of(["example.com"])
    )
    assert [z.id for z in await only_pub.zones()] == [pub]
    only_priv = Route53Provider(rate_limit=0, zone_type="private")
    assert [z.id for z in await only_priv.zones()] == [priv]
    by_id = Route53Provider(rate_limit=0, zone_ids=[f"/hostedzone/{priv}"])
    assert [z.name for z in await by_id.zones()] == ["internal.example.com"]


async def test_each_policy_on_route53(aws: Moto) -> None:
    for policy in Policy:
        zone = f"{policy.value}.example.com"
        zone_id = make_zone(zone)
        p = Route53Provider(rate_limit=0)
        ctrl = Controller(
            p, ControllerConfig(owner_id="kumo", policy=policy, domain_filter=DomainFilter.of([zone]))
        )
        ctrl.on_object("Service", "ADDED", service("a", f"a.{zone}", {"ip": "10.0.0.1"}))
        ctrl.on_object("Service", "ADDED", service("b", f"b.{zone}", {"ip": "10.0.0.2"}))
        await ctrl.reconcile()
        ctrl.on_object("Service", "MODIFIED", service("a", f"a.{zone}", {"ip": "10.0.0.9"}))
        ctrl.on_object("Service", "DELETED", service("b", f"b.{zone}", {"ip": "10.0.0.2"}))
        await ctrl.reconcile()
        got = {r["Name"]: r for r in rrsets(zone_id) if r["Type"] == "A"}
        a_value = got[f"a.{zone}."]["ResourceRecords"][0]["Value"]
        assert a_value == ("10.0.0.1" if policy is Policy.create_only else "10.0.0.9"), policy
        assert (f"b.{zone}." in got) == (policy is not Policy.sync), policy


async def test_zone_selection_matches_external_dns(aws: Moto) -> None:
    """--domain-filter below the only zone selects no zone, unless --aws-zone-match-parent is set."""
    zone_id = make_zone("zone.test")
    plain = Route53Provider(DomainFilter.of(["sub.zone.test"]), rate_limit=0)
    assert await plain.zones() == []
    parent = Route53Provider(DomainFilter.of(["sub.zone.test"]), rate_limit=0, match_parent=True)
    assert [z.id for z in await parent.zones()] == [zone_id]
    # the names stay limited by the filter: the parent zone is used for sub.zone.test's names only
    ctrl = Controller(
        parent, ControllerConfig(owner_id="kumo", domain_filter=DomainFilter.of(["sub.zone.test"]))
    )
    for name in ("www.sub.zone.test", "www.zone.test"):
        ctrl.on_object(
            "Service",
            "ADDED",
            {
                "metadata": {
                    "name": name.split(".")[1],
                    "namespace": "d",
                    "annotations": {"external-dns.alpha.kubernetes.io/hostname": name},
                },
                "spec": {"type": "LoadBalancer"},
                "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}},
            },
        )
    await ctrl.reconcile()
    names = {(r["Name"], r["Type"]) for r in rrsets(zone_id)}
    assert ("www.sub.zone.test.", "A") in names and ("www.zone.test.", "A") not in names


async def test_zone_tags_filter(aws: Moto) -> None:
    client = boto3.client("route53")
    tagged = make_zone("a.test")
    make_zone("b.test")
    client.change_tags_for_resource(
        ResourceType="hostedzone", ResourceId=tagged, AddTags=[{"Key": "team", "Value": "shop"}]
    )
    assert [z.id for z in await Route53Provider(rate_limit=0, zone_tags=["team=shop"]).zones()] == [tagged]
    assert [z.id for z in await Route53Provider(rate_limit=0, zone_tags=["team"]).zones()] == [tagged]
    assert await Route53Provider(rate_limit=0, zone_tags=["team=web"]).zones() == []


async def test_assume_role_and_batch_change_size(aws: Moto) -> None:
    from kumo.dns.providers.route53 import make_client

    zone_id = make_zone()
    role = boto3.client("iam").create_role(RoleName="dns", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = make_client(assume_role=role, external_id="kumo-test")
    assert client._request_signer._credentials.access_key != "testing"  # the role's credentials
    p = Route53Provider(DomainFilter.of(["example.com"]), rate_limit=0, client=client, batch_changes=2)
    changes = Changes(create=[Endpoint(f"h{i}.example.com", ("192.0.2.1",), "A", 60) for i in range(5)])
    assert not (await p.apply_changes(changes)).failed
    assert p.calls == 1 + 3  # one zone list, then 5 changes in batches of at most 2
    assert len([r for r in rrsets(zone_id) if r["Type"] == "A"]) == 5


async def test_aws_profile(aws: Moto, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kumo.dns.providers.route53 import make_client
    from kumo.errors import ProviderError

    config = tmp_path / "credentials"
    config.write_text("[dns]\naws_access_key_id = dnskey\naws_secret_access_key = dnssecret\n")
    zone_id = make_zone()
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    client = make_client(profile="dns")
    assert client._request_signer._credentials.access_key == "dnskey"
    assert [z.id for z in await Route53Provider(rate_limit=0, client=client).zones()] == [zone_id]
    with pytest.raises(ProviderError, match="--aws-profile"):
        make_client(profile="nope")


async def test_drift_probe_sees_additions_and_deletions_not_own_changes(aws: Moto) -> None:
    """GetHostedZone's record set count: kumo's own writes keep it as expected, a hand-made record not."""
    zone_id = make_zone()
    p = Route53Provider(DomainFilter.of(["example.com"]), rate_limit=0)
    assert await p.drifted() is None  # nothing read yet: no baseline
    await p.records()
    assert await p.drifted() is False
    ep = Endpoint("own.example.com", ("192.0.2.1",), "A", 60)
    assert not (await p.apply_changes(Changes(create=[ep]))).failed
    updated = Endpoint("own.example.com", ("192.0.2.2",), "A", 60)
    assert not (await p.apply_changes(Changes(update_old=[ep], update_new=[updated]))).failed
    assert await p.drifted() is False
    change(zone_id, [{"Action": "CREATE", "ResourceRecordSet": {"Name": "hand.example.com", "Type": "A",
                      "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.9"}]}}])  # fmt: skip
    assert await p.drifted() is True
    await p.records()
    assert await p.drifted() is False
    assert len(p._raw) <= 2  # record sets kumo can rebuild exactly are not kept raw (SOA is not a record)
    assert not (await p.apply_changes(Changes(delete=[updated]))).failed
    assert await p.drifted() is False
