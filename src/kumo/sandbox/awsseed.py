"""Seed an AWS endpoint (moto server, in the sandbox and the tests) with what a spec looks up.

``kumo cloud apply`` creates the cluster, roles, OIDC provider and certificate, but it looks up the
network and the Route 53 zone, as the seed system does: they belong to the account, not to the app.
On an empty moto server they do not exist, so the sandbox and the tests call :func:`seed_aws`
first. It creates, idempotently (a second call finds and returns the same resources):

- a VPC found by the spec's ``cluster.network.vpcTags`` (default ``Name=<cluster name>``),
- per availability zone (the region's first two): a public subnet tagged
  ``kubernetes.io/role/elb=1`` and a private one tagged ``kubernetes.io/role/internal-elb=1``,
- the Route 53 zone ``dns.zone`` (private zones are associated with the VPC).

Nothing here carries kumo's ownership tags: these stand for what the account already had, which
``kumo cloud destroy`` must leave alone. boto3 honours ``AWS_ENDPOINT_URL``, ``AWS_PROFILE`` and
``AWS_REGION`` as usual; the region defaults to the spec's ``target.region``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]

from kumo.errors import UsageError
from kumo.spec import Spec, load_spec

ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
VPC_CIDR = "10.42.0.0/16"


@dataclass
class Seeded:
    """What :func:`seed_aws` made or found, by id."""

    region: str
    vpc_id: str
    public_subnets: list[str] = field(default_factory=list)
    private_subnets: list[str] = field(default_factory=list)
    availability_zones: list[str] = field(default_factory=list)
    zone_id: str | None = None
    zone_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "vpcId": self.vpc_id,
            "publicSubnets": self.public_subnets,
            "privateSubnets": self.private_subnets,
            "availabilityZones": self.availability_zones,
            "zoneId": self.zone_id,
            "zoneName": self.zone_name,
        }


def seed_aws(
    spec: Spec | str | Path,
    *,
    region: str | None = None,
    session: Any = None,
    zones: int = 2,
) -> Seeded:
    """Create (or find) the VPC, tagged subnets and Route 53 zone that ``spec`` looks up."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    region = region or spec.target.region
    if not region:
        raise UsageError("seed_aws: the spec has no target.region; pass region=")
    session = session or boto3.session.Session()
    ec2 = session.client("ec2", region_name=region)
    cluster = spec.cluster
    tags = dict(cluster.network.vpc_tags or {"Name": cluster.name}) if cluster else {"Name": spec.app}
    seeded = Seeded(region=region, vpc_id=_vpc(ec2, tags))
    names = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    seeded.availability_zones = sorted(names)[:zones]
    base = str(tags.get("Name", spec.app))
    for index, az in enumerate(seeded.availability_zones):
        seeded.public_subnets.append(
            _subnet(ec2, seeded.vpc_id, az, f"10.42.{index}.0/24", f"{base}-public-{az}", {ELB_TAG: "1"})
        )
        seeded.private_subnets.append(
            _subnet(
                ec2,
                seeded.vpc_id,
                az,
                f"10.42.{100 + index}.0/24",
                f"{base}-private-{az}",
                {INTERNAL_ELB_TAG: "1"},
            )
        )
    if spec.dns is not None and spec.dns.provider == "route53":
        private = spec.dns.zone_type == "private"
        seeded.zone_name = spec.dns.zone
        seeded.zone_id = _zone(session.client("route53", region_name=region), spec.dns.zone, private, seeded)
    return seeded


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _vpc(ec2: Any, tags: dict[str, str]) -> str:
    filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
    found = ec2.describe_vpcs(Filters=filters)["Vpcs"]
    if found:
        return str(found[0]["VpcId"])
    vpc = ec2.create_vpc(
        CidrBlock=VPC_CIDR, TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(tags)}]
    )["Vpc"]
    return str(vpc["VpcId"])


def _subnet(ec2: Any, vpc_id: str, az: str, cidr: str, name: str, role: dict[str, str]) -> str:
    found = ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "cidr-block", "Values": [cidr]}]
    )["Subnets"]
    if found:
        return str(found[0]["SubnetId"])
    subnet = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock=cidr,
        AvailabilityZone=az,
        TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list({"Name": name, **role})}],
    )["Subnet"]
    return str(subnet["SubnetId"])


def _zone(route53: Any, name: str, private: bool, seeded: Seeded) -> str:
    for zone in route53.list_hosted_zones_by_name(DNSName=name)["HostedZones"]:
        if zone["Name"].rstrip(".") == name and bool(zone.get("Config", {}).get("PrivateZone")) == private:
            return str(zone["Id"]).rsplit("/", 1)[-1]
    kwargs: dict[str, Any] = {
        "Name": name,
        "CallerReference": f"kumo-sandbox-{uuid.uuid4()}",
        "HostedZoneConfig": {"Comment": "seeded by kumo sandbox", "PrivateZone": private},
    }
    if private:
        kwargs["VPC"] = {"VPCRegion": seeded.region, "VPCId": seeded.vpc_id}
    zone = route53.create_hosted_zone(**kwargs)["HostedZone"]
    return str(zone["Id"]).rsplit("/", 1)[-1]
