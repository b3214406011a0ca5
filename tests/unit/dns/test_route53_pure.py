"""Route 53 provider parts that need no server: the canonical zone table, ALIAS shaping, batching."""

from __future__ import annotations

import pytest

from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Changes
from kumo.dns.providers.aws_zones import CANONICAL_HOSTED_ZONES, canonical_hosted_zone
from kumo.dns.providers.route53 import Route53Provider, Zone
from kumo.dns.registry import TXTRegistry

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "eu-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-south-1", "ap-east-1", "sa-east-1", "me-south-1", "af-south-1",
]  # fmt: skip


@pytest.mark.parametrize(
    ("host", "zone"),
    [
        ("abc-123.ap-northeast-1.elb.amazonaws.com", "Z14GRHDCWA56QT"),
        ("net-abc.elb.ap-northeast-1.amazonaws.com", "Z31USIVHYNEOWT"),
        ("k8s-x.us-east-1.elb.amazonaws.com.", "Z35SXDOTRQ7X7K"),
        ("dualstack.k8s-x.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K"),
        ("nlb.elb.us-east-1.amazonaws.com", "Z26RNL4JYFTOTI"),
        ("x.elb.cn-north-1.amazonaws.com.cn", "Z3QFB96KMJ7ED6"),
        ("d111.cloudfront.net", "Z2FDTNDATAQYW2"),
        ("lb.example.net", ""),
        ("elb.amazonaws.com", ""),
    ],
)
def test_canonical_zone(host: str, zone: str) -> None:
    assert canonical_hosted_zone(host) == zone


@pytest.mark.parametrize("region", REGIONS)
def test_every_region_has_elb_and_nlb_zones(region: str) -> None:
    alb = CANONICAL_HOSTED_ZONES[f"{region}.elb.amazonaws.com"]
    nlb = CANONICAL_HOSTED_ZONES[f"elb.{region}.amazonaws.com"]
    assert alb.startswith("Z") and nlb.startswith("Z") and alb != nlb


def provider() -> Route53Provider:
    return Route53Provider(rate_limit=0, region="us-east-1")


def test_adjust_makes_a_and_aaaa_alias_for_elb() -> None:
    p = provider()
    out = p.adjust_endpoints([Endpoint("w.ex.com", ("lb-1.us-east-1.elb.amazonaws.com",), "CNAME", 60)])
    assert [(e.record_type, e.record_ttl, e.provider_specific) for e in out] == [
        ("A", 300, {"alias": "true", "aws/evaluate-target-health": "true"}),
        ("AAAA", 300, {"alias": "true", "aws/evaluate-target-health": "true"}),
    ]
    plain = p.adjust_endpoints([Endpoint("w.ex.com", ("lb.example.net",), "CNAME")])
    assert [(e.record_type, e.provider_specific) for e in plain] == [("CNAME", {"alias": "false"})]


def test_alias_rrset_uses_override_zone() -> None:
    p = provider()
    zone = Zone("ZONE1", "ex.com", False)
    (a, _) = p.adjust_endpoints(
        [Endpoint("w.ex.com", ("lb.elb.eu-west-1.amazonaws.com",), "CNAME",
                  provider_specific={"aws/target-hosted-zone": "ZOVERRIDE1"})]
    )  # fmt: skip
    body = p._change("CREATE", a, zone).body
    assert body["ResourceRecordSet"]["AliasTarget"]["HostedZoneId"] == "ZOVERRIDE1"
    (b, _) = p.adjust_endpoints([Endpoint("w.ex.com", ("lb.elb.eu-west-1.amazonaws.com",), "CNAME")])
    assert (
        p._change("CREATE", b, zone).body["ResourceRecordSet"]["AliasTarget"]["HostedZoneId"]
        == "Z2IFOLAFXWLO4F"
    )


def test_batches_respect_cost_and_never_split_a_group() -> None:
    p = provider()
    zone = Zone("ZONE1", "ex.com", False)
    reg = TXTRegistry("me")
    records = [
        Endpoint(f"h{i}.ex.com", (f"10.0.{i // 250}.{i % 250}",), "A", labels={"resource": "r"})
        for i in range(700)
    ]
    changes, _ = reg.with_txt(Changes(create=records), {})
    creates = [p._change("CREATE", e, zone) for e in changes.create]
    batches = p.batches(creates)
    assert all(sum(c.cost for c in b.changes) <= 1000 for b in batches)
    seen: dict[str, int] = {}
    for i, b in enumerate(batches):
        for g in b.groups:
            assert seen.setdefault(g, i) == i  # a group lives in exactly one batch
    assert len(batches) == 2
    # UPSERT counts twice (values and characters): 2800 cost needs at least 3 batches
    upserts = [p._change("UPSERT", e, zone) for e in changes.create]
    ub = p.batches(upserts)
    assert len(ub) >= 3
    assert all(sum(c.cost for c in b.changes) <= 1000 for b in ub)
    assert all(sum(c.chars for c in b.changes) <= 32000 for b in ub)


@pytest.mark.parametrize(("alias", "types"), [("A", ["A"]), ("AAAA", ["AAAA"]), ("true", ["A", "AAAA"])])
def test_alias_annotation_a_or_aaaa_makes_one_alias_type(alias: str, types: list[str]) -> None:
    """external-dns #5997: alias=A / alias=AAAA make only that ALIAS record; read back it is alias=true."""
    ep = Endpoint(
        "www.ex.com", ("lb-1.us-east-1.elb.amazonaws.com",), "CNAME", provider_specific={"alias": alias}
    )
    out = provider().adjust_endpoints([ep])
    assert [e.record_type for e in out] == types
    assert all(e.provider_specific["alias"] == "true" for e in out)


def test_geoproximity_is_written_and_read_back_the_same() -> None:
    p = provider()
    ps = {
        "aws/geoproximity-coordinates": "47.6,-122.3",
        "aws/geoproximity-bias": "-10",
    }
    ep = Endpoint("geo.ex.com", ("192.0.2.1",), "A", 60, "seattle", provider_specific=ps)
    rrset = p._rrset(ep, Zone("Z1", "ex.com", False), for_delete=False)
    assert rrset["GeoProximityLocation"] == {
        "Coordinates": {"Latitude": "47.6", "Longitude": "-122.3"},
        "Bias": -10,
    }
    back = p._to_endpoint(rrset)
    assert back is not None and back.provider_specific == ps
    region = Endpoint(
        "geo.ex.com",
        ("192.0.2.2",),
        "A",
        60,
        "oregon",
        provider_specific={"aws/geoproximity-region": "us-west-2"},
    )
    rrset = p._rrset(region, Zone("Z1", "ex.com", False), for_delete=False)
    assert rrset["GeoProximityLocation"] == {"AWSRegion": "us-west-2"}
    assert p._to_endpoint(rrset).provider_specific == region.provider_specific  # type: ignore[union-attr]


def test_prefer_cname_and_evaluate_target_health_flags() -> None:
    ep = Endpoint("www.ex.com", ("lb-1.us-east-1.elb.amazonaws.com",), "CNAME")
    cname = Route53Provider(rate_limit=0, region="us-east-1", prefer_cname=True).adjust_endpoints([ep])
    assert [(e.record_type, e.provider_specific) for e in cname] == [("CNAME", {"alias": "false"})]
    no_eth = Route53Provider(rate_limit=0, region="us-east-1", evaluate_target_health=False).adjust_endpoints(
        [ep]
    )
    assert {e.provider_specific["aws/evaluate-target-health"] for e in no_eth} == {"false"}
