"""`kumo cloud destroy` removes what kumo tagged and nothing else; `kumo cloud token` is a real EKS token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from pathlib import Path

import boto3

from kumo.cloud.aws import CloudOptions, apply
from kumo.sandbox.awsseed import seed_aws
from tests.integration.cloud.conftest import ONLINE_APP, Moto, kumo

REGION = "ap-northeast-1"


def test_destroy_removes_only_what_kumo_tagged_and_handles_the_clusters_load_balancers(
    aws: Moto, tmp_path: Path
) -> None:
    seeded = seed_aws(ONLINE_APP)
    iam = boto3.client("iam", region_name=REGION)
    eks = boto3.client("eks", region_name=REGION)
    acm = boto3.client("acm", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    other_role = iam.create_role(RoleName="someone-elses-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    eks.create_cluster(
        name="someone-elses-cluster",
        roleArn=other_role,
        resourcesVpcConfig={"subnetIds": seeded.private_subnets},
    )
    other_cert = acm.request_certificate(DomainName="other.example.com", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    apply(ONLINE_APP, CloudOptions(kubeconfig=str(tmp_path / "kubeconfig")))
    for env in ("staging", "pr-7"):  # preview environments: their own certificates, the same cluster
        apply(ONLINE_APP, CloudOptions(env=env, kubeconfig=str(tmp_path / "kubeconfig")))
    only_staging = kumo("cloud", "destroy", str(ONLINE_APP), "--env", "staging", "--yes", "--output", "json")
    assert only_staging.returncode == 0, only_staging.stderr
    assert json.loads(only_staging.stdout)["deleted"] == [
        "AWS::CertificateManager::Certificate staging.nginx.example.com"
    ]
    assert "online-app" in eks.list_clusters()["clusters"]
    # what EKS does on a real account: an instance profile for the node role
    iam.create_instance_profile(InstanceProfileName="eks-online-app-nodes")
    iam.add_role_to_instance_profile(
        InstanceProfileName="eks-online-app-nodes", RoleName="online-app-kumo-node"
    )

    # a Service's load balancer, as the in-tree controller and the AWS Load Balancer Controller tag them
    made_by_cluster = elbv2.create_load_balancer(
        Name="k8s-online-nginx",
        Subnets=seeded.public_subnets,
        Tags=[{"Key": "kubernetes.io/cluster/online-app", "Value": "owned"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    unrelated = elbv2.create_load_balancer(Name="unrelated", Subnets=seeded.public_subnets)["LoadBalancers"][
        0
    ]["LoadBalancerArn"]

    refused = kumo("cloud", "destroy", str(ONLINE_APP), "--yes")
    assert refused.returncode == 2, refused.stderr
    assert "k8s-online-nginx" in refused.stderr and "--delete-load-balancers" in refused.stderr
    assert "online-app" in eks.list_clusters()["clusters"]  # nothing deleted

    unconfirmed = kumo("cloud", "destroy", str(ONLINE_APP), "--delete-load-balancers")
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr, unconfirmed.stderr

    done = kumo("cloud", "destroy", str(ONLINE_APP), "--yes", "--delete-load-balancers", "--output", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["loadBalancers"] == ["k8s-online-nginx"]
    assert set(result["deleted"]) == {
        "AWS::CertificateManager::Certificate nginx.example.com",
        "AWS::IAM::Role online-app-kumo-dns",
        "AWS::IAM::OIDCProvider online-app-oidc",
        "AWS::EKS::Nodegroup online-app-default",
        "AWS::IAM::Role online-app-kumo-node",
        "AWS::EKS::Cluster online-app",
        "AWS::IAM::Role online-app-kumo-cluster",
        "AWS::CertificateManager::Certificate pr-7.nginx.example.com",  # every certificate of the app
    }

    assert eks.list_clusters()["clusters"] == ["someone-elses-cluster"]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["someone-elses-role"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    certificates = [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
    assert certificates == [other_cert]
    arns = [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
    assert made_by_cluster not in arns and unrelated in arns
    ec2 = boto3.client("ec2", region_name=REGION)
    assert ec2.describe_vpcs(VpcIds=[seeded.vpc_id])["Vpcs"]
    assert boto3.client("route53").get_hosted_zone(Id=seeded.zone_id or "")

    again = kumo("cloud", "destroy", str(ONLINE_APP), "--yes")
    assert again.returncode == 0 and "nothing of online-app to delete" in again.stdout, again.stderr


def test_token_is_a_presigned_get_caller_identity_for_the_cluster(aws: Moto) -> None:
    out = kumo("cloud", "token", "--cluster", "online-app", "--region", REGION)
    assert out.returncode == 0, out.stderr
    credential = json.loads(out.stdout)
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert credential["status"]["expirationTimestamp"].endswith("Z")
    token = credential["status"]["token"]
    assert token.startswith("k8s-aws-v1.")
    encoded = token.removeprefix("k8s-aws-v1.")
    assert "=" not in encoded
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.parse_qs(parsed.query)
    assert query["Action"] == ["GetCallerIdentity"] and query["Version"] == ["2011-06-15"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["60"]
    assert f"/{REGION}/sts/aws4_request" in query["X-Amz-Credential"][0]
    assert query["X-Amz-SignedHeaders"][0].split(";") == ["host", "x-k8s-aws-id"]
    # what STS checks when EKS replays the URL with the cluster header: the SigV4 signature
    assert _signature_valid(url, {"x-k8s-aws-id": "online-app"}, secret="testing")
    assert not _signature_valid(url, {"x-k8s-aws-id": "another-cluster"}, secret="testing")


def _signature_valid(url: str, headers: dict[str, str], secret: str) -> bool:
    """Recompute the SigV4 query signature (as STS does) and compare."""
    parsed = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    signature = dict(pairs)["X-Amz-Signature"]
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(p for p in pairs if p[0] != "X-Amz-Signature")
    )
    all_headers = {"host": parsed.netloc, **{k.lower(): v for k, v in headers.items()}}
    signed = dict(pairs)["X-Amz-SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{all_headers[name].strip()}\n" for name in signed)
    amz_date = dict(pairs)["X-Amz-Date"]
    scope = dict(pairs)["X-Amz-Credential"].split("/", 1)[1]
    day, region, service, _ = scope.split("/")
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    for payload in (hashlib.sha256(b"").hexdigest(), "UNSIGNED-PAYLOAD"):
        canonical = "\n".join(
            ["GET", parsed.path or "/", query, canonical_headers, ";".join(signed), payload]
        )
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        if hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == signature:
            return True
    return False
