"""`kumo cloud apply` and `kumo up` of examples/online-app on moto server, then onto the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from kumo.cloud.aws import CloudOptions, apply, plan
from kumo.errors import ProviderError
from kumo.sandbox.awsseed import ELB_TAG, INTERNAL_ELB_TAG, Seeded, seed_aws
from tests.integration.cloud.conftest import ONLINE_APP, ROOT, Moto, counted_session, kumo
from tests.integration.dns.conftest import _stop, _wait_http, free_port

REGION = "ap-northeast-1"


def _clients() -> tuple[Any, Any, Any]:
    return (
        boto3.client("iam", region_name=REGION),
        boto3.client("eks", region_name=REGION),
        boto3.client("acm", region_name=REGION),
    )


README = ROOT / "README.md"


def readme_commands(heading: str) -> list[str]:
    """The lines of the first ```bash block under ``heading`` in the README."""
    text = README.read_text()
    block = text[text.index(heading) :].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def run_lines(lines: list[str]) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + "\n".join(lines)
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )


def test_the_readme_flow_apply_then_up_onto_the_emulator(aws: Moto, tmp_path: Path) -> None:
    """The README's commands as written; moto is the module's (started the same way)."""
    kubeconfig = tmp_path / "kumo.kubeconfig"
    moto_port = aws.url.rsplit(":", 1)[1]
    emulator = f"http://127.0.0.1:{free_port()}"
    lines = [
        line.replace("127.0.0.1:5000", f"127.0.0.1:{moto_port}")
        .replace("--port 8001", f"--port {emulator.rsplit(':', 1)[1]}")
        .replace("http://127.0.0.1:8001", emulator)
        .replace("/tmp/kumo.kubeconfig", str(kubeconfig))
        .replace("/tmp/emulator.kubeconfig", str(tmp_path / "emulator.kubeconfig"))
        for line in readme_commands("## The AWS side, on moto server")
    ]
    started = [line for line in lines if line.endswith("&")]
    assert len(started) == 2 and "moto_server" in started[0] and "sandbox kubeapi" in started[1]
    steps = [line for line in lines if not line.endswith("&")]
    assert steps[-1].endswith("kumo cloud destroy examples/online-app/kumo.yaml --yes")

    env = {**os.environ, "AWS_ENDPOINT_URL": aws.url}
    server = subprocess.Popen(
        ["bash", "-c", "exec " + started[1].removesuffix("&")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(emulator + "/version", server)
        _readme_flow(steps, kubeconfig, emulator)
    finally:
        _stop(server)


def _readme_flow(steps: list[str], kubeconfig: Path, emulator: str) -> None:
    ran = run_lines(steps[:-1])
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "+ create    AWS::EKS::Cluster" in ran.stdout and "8 to change" in ran.stdout  # cloud plan
    assert "+ create    AWS::EKS::Cluster online-app" in ran.stderr  # cloud apply
    assert "= unchanged AWS::EKS::Cluster online-app" in ran.stderr  # the cloud step of kumo up
    assert "online-app revision 1 is ready" in ran.stdout

    iam, eks, acm = _clients()
    role_arn = iam.get_role(RoleName="online-app-kumo-dns")["Role"]["Arn"]
    certificates = acm.list_certificates()["CertificateSummaryList"]
    assert [c["DomainName"] for c in certificates] == ["nginx.example.com"]
    cert_arn = certificates[0]["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=cert_arn)["Certificate"]["Status"] == "ISSUED"
    assert f"certificate nginx.example.com: {cert_arn}" in ran.stdout  # cloud status
    assert eks.describe_nodegroup(clusterName="online-app", nodegroupName="online-app-default")

    config = yaml.safe_load(kubeconfig.read_text())
    context = config["current-context"]
    assert context == eks.describe_cluster(name="online-app")["cluster"]["arn"]
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context)
    assert cluster == {"server": emulator}  # plain http: no CA
    user = next(u["user"] for u in config["users"] if u["name"] == context)
    assert user["exec"]["args"][-5:] == ["token", "--cluster", "online-app", "--region", REGION]

    def get(kind: str, namespace: str, name: str) -> dict[str, Any]:
        out = kumo_kubectl(kubeconfig, "get", kind, "-n", namespace, name, "-o", "json")
        return dict(json.loads(out))

    service = get("service", "online-app", "nginx")
    annotations = service["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] == cert_arn
    account = get("serviceaccount", "kumo-system", "kumo-dns")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role_arn

    cloud_status = kumo("cloud", "status", str(ONLINE_APP), "--output", "json")
    assert cloud_status.returncode == 0, cloud_status.stderr
    states = {r["name"]: r["state"] for r in json.loads(cloud_status.stdout)["resources"]}
    assert states["online-app"] == "ACTIVE" and states["nginx.example.com"] == "ISSUED"
    outputs = json.loads(cloud_status.stdout)["outputs"]
    assert outputs["certificateArns"] == {"nginx.example.com": cert_arn}
    assert outputs["dnsRoleArn"] == role_arn

    # read-only commands fill the placeholders from the account too
    status = kumo("status", str(ONLINE_APP), "--kubeconfig", str(kubeconfig), "--output", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["installed"] is True

    destroyed = run_lines(steps[:1] + steps[-1:])  # the environment, then destroy
    assert destroyed.returncode == 0, destroyed.stderr
    assert eks.list_clusters()["clusters"] == []


def kumo_kubectl(kubeconfig: Path, *args: str) -> str:
    kubectl = str(Path(sys.executable).parent / "kubectl")
    out = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_failure_part_way_then_apply_resumes_and_a_second_apply_makes_no_write_call(
    aws: Moto, tmp_path: Path
) -> None:
    """One moto state for three runs (a reset and a seed cost more than the runs themselves)."""
    seeded = seed_aws(ONLINE_APP)
    assert seed_aws(ONLINE_APP).as_dict() == seeded.as_dict()  # the sandbox's seeding is idempotent too
    _assert_seeded(seeded)
    kubeconfig = str(tmp_path / "kubeconfig")
    session, first = counted_session()

    def fail_once(**_: Any) -> None:
        session.events.unregister("before-call.eks.CreateNodegroup", fail_once)
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailableException", "Message": "injected by the test"}},
            "CreateNodegroup",
        )

    session.events.register("before-call.eks.CreateNodegroup", fail_once)
    with pytest.raises(ProviderError, match="injected by the test"):
        apply(ONLINE_APP, CloudOptions(session=session, kubeconfig=kubeconfig))
    iam, eks, _ = _clients()
    assert eks.list_clusters()["clusters"] == ["online-app"]
    assert eks.list_nodegroups(clusterName="online-app")["nodegroups"] == []
    assert "CreateCluster" in first.writes  # (CreateNodegroup was attempted, and refused)

    pending = {(s.name, s.action) for s in plan(ONLINE_APP).steps}
    assert ("online-app", "unchanged") in pending
    assert ("online-app-default", "create") in pending

    session, resumed = counted_session()
    result = apply(ONLINE_APP, CloudOptions(session=session, kubeconfig=kubeconfig))
    assert "CreateCluster" not in resumed.writes and "CreateRole" in resumed.writes  # the DNS role
    assert "CreateNodegroup" in resumed.writes and "RequestCertificate" in resumed.writes
    assert "ChangeResourceRecordSets" in resumed.writes  # the validation CNAME, through the Route 53 provider
    assert result.writes == 5  # node group, OIDC provider, DNS role, its policy, certificate
    assert eks.list_nodegroups(clusterName="online-app")["nodegroups"] == ["online-app-default"]
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert sorted(r for r in roles if r.startswith("online-app")) == [
        "online-app-kumo-cluster",
        "online-app-kumo-dns",
        "online-app-kumo-node",
    ]

    session, second = counted_session()
    again = apply(ONLINE_APP, CloudOptions(session=session, kubeconfig=kubeconfig))
    assert second.writes == []
    assert second.calls  # it did read
    assert again.writes == 0
    assert {s.action for s in again.steps} == {"unchanged", "lookup"}
    assert again.outputs.as_dict() | {"context": None, "kubeconfig": None} == result.outputs.as_dict() | {
        "context": None,
        "kubeconfig": None,
    }
    _assert_policies(seeded.zone_id)


def _assert_seeded(seeded: Seeded) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["online-app"]}])["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [seeded.vpc_id]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [seeded.vpc_id]}])["Subnets"]
    by_id = {s["SubnetId"]: s for s in subnets}
    assert len(by_id) == 4
    for ids, tag in ((seeded.public_subnets, ELB_TAG), (seeded.private_subnets, INTERNAL_ELB_TAG)):
        assert len({by_id[i]["AvailabilityZone"] for i in ids}) == 2
        for i in ids:
            assert {"Key": tag, "Value": "1"} in by_id[i]["Tags"]
    zones = boto3.client("route53").list_hosted_zones_by_name(DNSName="example.com")["HostedZones"]
    assert [z["Id"].rsplit("/", 1)[-1] for z in zones if z["Name"] == "example.com."] == [seeded.zone_id]


def _assert_policies(zone_id: str | None) -> None:
    iam, eks, _ = _clients()
    issuer = eks.describe_cluster(name="online-app")["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer.removeprefix("https://")
    assert host.startswith(f"oidc.eks.{REGION}.amazonaws.com/id/")
    dns = iam.get_role(RoleName="online-app-kumo-dns")["Role"]
    assert dns["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{host}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:aud": "sts.amazonaws.com",
                        f"{host}:sub": "system:serviceaccount:kumo-system:kumo-dns",
                    }
                },
            }
        ],
    }
    policy = iam.get_role_policy(RoleName="online-app-kumo-dns", PolicyName="online-app-kumo-dns-route53")
    assert policy["PolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ChangeRecordsInTheZone",
                "Effect": "Allow",
                "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                "Resource": [f"arn:aws:route53:::hostedzone/{zone_id}"],
            },
            {
                "Sid": "FindTheZone",
                "Effect": "Allow",
                "Action": ["route53:ListHostedZones", "route53:ListHostedZonesByName"],
                "Resource": ["*"],
            },
        ],
    }
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [f"arn:aws:iam::123456789012:oidc-provider/{host}"]
    oidc = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=providers[0]["Arn"])
    assert oidc["ClientIDList"] == ["sts.amazonaws.com"]
    cluster_role = iam.get_role(RoleName="online-app-kumo-cluster")["Role"]
    assert cluster_role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    attached = iam.list_attached_role_policies(RoleName="online-app-kumo-node")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == [
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
    ]
    for name in ("online-app-kumo-cluster", "online-app-kumo-node", "online-app-kumo-dns"):
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
        assert tags == {"kumo.dev/app": "online-app", "kumo.dev/managed-by": "kumo"}
