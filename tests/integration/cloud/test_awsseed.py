"""The sandbox's seeding of a moto server with the network and zone a spec looks up."""

from __future__ import annotations

import boto3

from kumo.sandbox.awsseed import ELB_TAG, INTERNAL_ELB_TAG, seed_aws
from tests.integration.cloud.conftest import ONLINE_APP, Moto


def test_seed_creates_tagged_network_and_zone_once(aws: Moto) -> None:
    first = seed_aws(ONLINE_APP)
    again = seed_aws(ONLINE_APP)
    assert again.as_dict() == first.as_dict()
    ec2 = boto3.client("ec2", region_name="ap-northeast-1")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["online-app"]}])["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [first.vpc_id]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [first.vpc_id]}])["Subnets"]
    by_id = {s["SubnetId"]: s for s in subnets}
    assert len(by_id) == 4
    for ids, tag in ((first.public_subnets, ELB_TAG), (first.private_subnets, INTERNAL_ELB_TAG)):
        assert len({by_id[i]["AvailabilityZone"] for i in ids}) == 2
        for i in ids:
            assert {"Key": tag, "Value": "1"} in by_id[i]["Tags"]
    zones = boto3.client("route53").list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
    assert [z["Id"].rsplit("/", 1)[-1] for z in zones if z["Name"] == "example.com."] == [first.zone_id]
