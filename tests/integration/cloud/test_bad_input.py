"""Every bad input the cloud step knows: exit 2, the kumo.yaml line of the field at fault, no write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from kumo.cloud.aws import CloudOptions, apply
from kumo.errors import KumoError, UsageError
from kumo.sandbox.awsseed import seed_aws
from tests.integration.cloud.conftest import ONLINE_APP, Moto, counted_session, kumo, line_of, spec_variant

REGION = "ap-northeast-1"


Subnets = list[tuple[str, str, dict[str, str]]]  # (az suffix, cidr, tags)


def _vpc(name: str, private: Subnets, public: Subnets | None = None) -> None:
    """A VPC tagged Name=``name``; the public subnets get a route table to an internet gateway."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Vpc"]["VpcId"]

    def subnet(az: str, cidr: str, tags: dict[str, str]) -> str:
        spec = [{"ResourceType": "subnet", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        created = ec2.create_subnet(
            VpcId=vpc, CidrBlock=cidr, AvailabilityZone=REGION + az, TagSpecifications=spec if tags else []
        )
        return str(created["Subnet"]["SubnetId"])

    for args in private:
        subnet(*args)
    if public:
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        for args in public:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet(*args))


PRIVATE = {"kubernetes.io/role/internal-elb": "1"}
PUBLIC = {"kubernetes.io/role/elb": "1"}


def _cluster_section() -> str:
    text = ONLINE_APP.read_text()
    return text[text.index("cluster:\n") : text.index("dns:\n")]


def _untagged_vpc() -> None:
    _vpc(
        "untagged",
        [("a", "10.9.1.0/24", {}), ("c", "10.9.2.0/24", {})],
        [("a", "10.9.11.0/24", {}), ("c", "10.9.12.0/24", {})],
    )


def _other_certificate() -> str:
    acm = boto3.client("acm", region_name=REGION)
    return str(
        acm.request_certificate(DomainName="other.example.com", ValidationMethod="DNS")["CertificateArn"]
    )


@dataclass
class Case:
    name: str
    replacements: list[tuple[str, str]]
    at: str  # text of the line the error must name
    says: str
    setup: Callable[[], Any] | None = None
    env: dict[str, str] = field(default_factory=dict)


def _cases() -> list[Case]:
    return [
        Case(
            "unknown region",
            [("region: ap-northeast-1", "region: xx-fake-1")],
            "region:",
            "unknown AWS region",
        ),
        Case(
            "zone that does not exist",
            [("zone: example.com", "zone: example.org"), ("nginx.example.com", "nginx.example.org")],
            "zone: example.org",
            "no public Route 53 hosted zone example.org",
        ),
        Case(
            "hostname outside the zone",
            [("hostname: nginx.example.com", "hostname: nginx.example.net")],
            "hostname: nginx.example.net",
            "expected a name inside dns.zone",
        ),
        Case(
            "subnets in one availability zone",
            [("Name: online-app", "Name: one-az")],
            "Name: one-az",
            "one availability zone only",
            lambda: _vpc("one-az", [("a", "10.9.1.0/24", PRIVATE), ("a", "10.9.2.0/24", PRIVATE)]),
        ),
        Case(
            "no public subnets for an internet-facing load balancer",
            [("Name: online-app", "Name: private-only")],
            "expose: loadbalancer",
            "no public subnets",
            lambda: _vpc("private-only", [("a", "10.9.1.0/24", PRIVATE), ("c", "10.9.2.0/24", PRIVATE)]),
        ),
        Case(
            "public subnets without the elb tag",
            [("Name: online-app", "Name: untagged")],
            "Name: untagged",
            "--fix-subnet-tags",
            _untagged_vpc,
        ),
        Case(
            "certificate for another domain",
            [("tls: auto", "tls:\n        certificateArn: {arn}")],
            "certificateArn:",
            "not nginx.example.com",
            _other_certificate,
        ),
        Case(
            "certificate in another region",
            [
                (
                    "tls: auto",
                    "tls:\n        certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234",
                )
            ],
            "certificateArn:",
            "in the load balancer's region ap-northeast-1",
        ),
        Case(
            "Kubernetes version EKS does not offer",
            [('version: "1.33"', 'version: "1.21"')],
            "version:",
            "EKS does not offer Kubernetes 1.21",
        ),
        Case(
            "no cluster: section and no existing cluster",
            [(_cluster_section(), "")],
            "cloud: aws",
            "no EKS cluster online-app",
        ),
        Case(
            "account id that differs from the credentials'",
            [("region: ap-northeast-1", 'region: ap-northeast-1\n  accountId: "111111111111"')],
            "accountId:",
            "found account 123456789012",
        ),
    ]


def _nothing_created(seeded_certificates: int) -> None:
    iam = boto3.client("iam", region_name=REGION)
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if "kumo" in r["RoleName"]] == []
    assert boto3.client("eks", region_name=REGION).list_clusters()["clusters"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    certificates = boto3.client("acm", region_name=REGION).list_certificates()["CertificateSummaryList"]
    assert len(certificates) == seeded_certificates


def test_every_bad_input_is_a_located_error_before_any_write(aws: Moto, tmp_path: Path) -> None:
    seed_aws(ONLINE_APP)
    seeded_certificates = 0
    for index, case in enumerate(_cases()):
        folder = tmp_path / str(index)
        folder.mkdir()
        made = case.setup() if case.setup else None
        if isinstance(made, str) and made.startswith("arn:aws:acm"):
            seeded_certificates += 1
        replacements = [(old, new.format(arn=made)) for old, new in case.replacements]
        path = spec_variant(folder, *replacements)
        session, counter = counted_session()
        with pytest.raises(KumoError) as caught:
            apply(path, CloudOptions(session=session, kubeconfig=str(folder / "kubeconfig")))
        error = caught.value
        assert isinstance(error, UsageError) and error.exit_code == 2, (case.name, error)
        line = line_of(path, case.at)
        assert str(error).startswith(f"{path}:{line}:"), (case.name, str(error))
        assert case.says in str(error) + (error.hint or ""), (case.name, str(error), error.hint)
        assert counter.writes == [], (case.name, counter.writes)
    _nothing_created(seeded_certificates)


def test_cli_exit_codes_missing_credentials_and_fixing_subnet_tags(aws: Moto, tmp_path: Path) -> None:
    path = spec_variant(tmp_path, ('version: "1.33"', 'version: "1.21"'))
    bad = kumo("cloud", "apply", str(path), "--kubeconfig", str(tmp_path / "kubeconfig"))
    assert bad.returncode == 2, bad.stderr
    assert f"{path}:{line_of(path, 'version:')}:" in bad.stderr
    assert "Traceback" not in bad.stderr

    skipped = kumo("up", str(ONLINE_APP), "--skip-cloud", "--kubeconfig", str(tmp_path / "kubeconfig"))
    assert skipped.returncode == 2, skipped.stderr  # no cloud step: the certificate is not there to use
    assert "no ISSUED ACM certificate for nginx.example.com" in skipped.stderr
    assert "kumo cloud apply" in skipped.stderr
    assert boto3.client("eks", region_name=REGION).list_clusters()["clusters"] == []

    no_credentials = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    missing = kumo("cloud", "plan", str(ONLINE_APP), env=no_credentials)
    assert missing.returncode == 2, missing.stderr
    assert "no AWS credentials found" in missing.stderr and "AWS_PROFILE" in missing.stderr

    _untagged_vpc()
    (tmp_path / "fix").mkdir()
    untagged = spec_variant(tmp_path / "fix", ("Name: online-app", "Name: untagged"))
    seed_aws(ONLINE_APP)  # the zone
    refused = kumo("cloud", "plan", str(untagged))
    assert refused.returncode == 2 and "--fix-subnet-tags" in refused.stderr, refused.stderr
    fixed = kumo("cloud", "plan", str(untagged), "--fix-subnet-tags")
    assert fixed.returncode == 0, fixed.stderr
    assert "~ update    AWS::EC2::VPC" in fixed.stdout
    assert "kubernetes.io/role/elb=1" in fixed.stdout
    apply(untagged, CloudOptions(fix_subnet_tags=True, kubeconfig=str(tmp_path / "kubeconfig")))
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["untagged"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    roles = sorted(
        next(t["Key"] for t in s.get("Tags", []) if t["Key"].startswith("kubernetes.io/role/"))
        for s in subnets
    )
    assert roles == ["kubernetes.io/role/elb"] * 2 + ["kubernetes.io/role/internal-elb"] * 2
