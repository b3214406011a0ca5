"""The offline plan: AWS resources with tight IAM, the object tree, DNS records with TXT owners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kumo.plan import KNOWN_AFTER_APPLY, LB_ADDRESS, PLAN_API_VERSION, build_plan
from kumo.spec import load_spec

ROOT = Path(__file__).parents[3]
SEED = ROOT / "examples/online-app/kumo.yaml"
ISSUER = f"oidc.eks.ap-northeast-1.amazonaws.com/id/{KNOWN_AFTER_APPLY}"


def _resource(plan_dict: dict[str, Any], type_: str, name: str | None = None) -> dict[str, Any]:
    found = [r for r in plan_dict["cloud"] if r["type"] == type_ and (name is None or r["name"] == name)]
    assert len(found) == 1, [r["name"] for r in found]
    return found[0]


def test_seed_plan_lists_the_cloud_resources_in_dependency_order() -> None:
    plan = build_plan(load_spec(SEED))
    assert [(r.action, r.type, r.name) for r in plan.cloud_resources] == [
        ("lookup", "AWS::Route53::HostedZone", "example.com"),
        ("lookup", "AWS::EC2::VPC", "vpc"),
        ("create", "AWS::IAM::Role", "online-app-kumo-cluster"),
        ("create", "AWS::EKS::Cluster", "online-app"),
        ("create", "AWS::IAM::Role", "online-app-kumo-node"),
        ("create", "AWS::EKS::Nodegroup", "online-app-default"),
        ("create", "AWS::IAM::OIDCProvider", "online-app-oidc"),
        ("create", "AWS::IAM::Role", "online-app-kumo-dns"),
        ("create", "AWS::IAM::RolePolicy", "online-app-kumo-dns-route53"),
        ("create", "AWS::CertificateManager::Certificate", "nginx.example.com"),
    ]
    names = [r.name for r in plan.cloud_resources]
    for index, resource in enumerate(plan.cloud_resources):
        assert all(dep in names[:index] for dep in resource.depends_on), resource.name


def test_cluster_and_node_group_come_from_the_spec() -> None:
    plan = build_plan(load_spec(SEED)).to_dict()
    assert _resource(plan, "AWS::EKS::Cluster")["properties"]["version"] == "1.33"
    nodes = _resource(plan, "AWS::EKS::Nodegroup")["properties"]
    assert nodes["instanceTypes"] == ["t3.medium"]
    assert nodes["scaling"] == {"min": 1, "max": 1, "desired": 1}
    oidc = _resource(plan, "AWS::IAM::OIDCProvider")["properties"]
    assert oidc == {"url": f"https://{ISSUER}", "clientIds": ["sts.amazonaws.com"]}


def test_dns_role_trusts_only_the_controllers_service_account() -> None:
    plan = build_plan(load_spec(SEED)).to_dict()
    role = _resource(plan, "AWS::IAM::Role", "online-app-kumo-dns")["properties"]
    (statement,) = role["assumeRolePolicy"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::${{kumo:aws-account-id}}:oidc-provider/{ISSUER}"
    }
    # Both :aud and :sub: the seed checked only aud, so any service account could assume the role.
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:aud": "sts.amazonaws.com",
            f"{ISSUER}:sub": "system:serviceaccount:kumo-system:kumo-dns",
        }
    }


def test_route53_changes_are_scoped_to_the_zone_arn() -> None:
    plan = build_plan(load_spec(SEED)).to_dict()
    policy = _resource(plan, "AWS::IAM::RolePolicy")["properties"]["policyDocument"]
    change, find = policy["Statement"]
    assert "route53:ChangeResourceRecordSets" in change["Action"]
    assert change["Resource"] == [f"arn:aws:route53:::hostedzone/{KNOWN_AFTER_APPLY}"]
    assert "hostedzone/*" not in json.dumps(policy)
    assert find["Resource"] == ["*"]
    assert set(find["Action"]) == {"route53:ListHostedZones", "route53:ListHostedZonesByName"}


def test_acm_certificate_only_for_tls_auto() -> None:
    plan = build_plan(load_spec(ROOT / "examples/eks-alb/kumo.yaml"))
    certificates = [r.name for r in plan.cloud_resources if r.type == "AWS::CertificateManager::Certificate"]
    assert certificates == ["api.example.com"]  # www uses a given certificate ARN
    subnets = [r for r in plan.cloud_resources if r.type == "AWS::EC2::Subnet"]
    assert subnets[0].properties["private"] == ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]


def test_objects_are_listed_with_namespace_and_role() -> None:
    plan = build_plan(load_spec(SEED))
    app = [(o.kind, o.name, o.namespace) for o in plan.objects if o.role == "app"]
    assert app == [
        ("Namespace", "online-app", None),
        ("Deployment", "nginx", "online-app"),
        ("Service", "nginx", "online-app"),
        ("NetworkPolicy", "nginx", "online-app"),
    ]
    addons = {(o.kind, o.namespace) for o in plan.objects if o.role == "addon"}
    assert ("ClusterRole", None) in addons and ("Deployment", "kumo-system") in addons


def test_route53_records_are_alias_a_and_aaaa_each_with_its_txt() -> None:
    dns = build_plan(load_spec(SEED)).dns
    assert dns is not None and (dns.zone, dns.provider, dns.owner_id) == (
        "example.com",
        "route53",
        "my-hostedzone-identifier",
    )
    content = (
        '"heritage=external-dns,external-dns/owner=my-hostedzone-identifier,'
        'external-dns/resource=service/online-app/nginx"'
    )
    assert [(r.name, r.type, r.target, r.ttl, r.alias) for r in dns.records] == [
        ("nginx.example.com", "A", LB_ADDRESS, None, True),
        ("nginx.example.com", "AAAA", LB_ADDRESS, None, True),
        ("a-nginx.example.com", "TXT", content, 300, False),
        ("aaaa-nginx.example.com", "TXT", content, 300, False),
    ]
    assert LB_ADDRESS == "<load balancer address, known after apply>"


def test_other_providers_get_a_cname_or_an_a_record(tmp_path: Path) -> None:
    gke = build_plan(load_spec(ROOT / "examples/gke-app/kumo.yaml")).dns
    assert gke is not None
    store = [r for r in gke.records if r.name.endswith("shop.example.dev")]
    assert [(r.name, r.type, r.ttl) for r in store] == [
        ("shop.example.dev", "A", 120),
        ("a-shop.example.dev", "TXT", 300),
    ]
    assert "external-dns/resource=ingress/shop/storefront" in store[1].target
    api = [r for r in gke.records if r.type == "TXT" and "api" in r.name]
    assert "external-dns/resource=httproute/shop/api" in api[0].target

    text = SEED.read_text().replace(
        "provider: route53", "provider: rfc2136\n  rfc2136: {host: ns1.example.com}"
    )
    (tmp_path / "kumo.yaml").write_text(text)
    rfc = build_plan(load_spec(tmp_path / "kumo.yaml")).dns
    assert rfc is not None
    assert [(r.name, r.type) for r in rfc.records] == [
        ("nginx.example.com", "CNAME"),
        ("cname-nginx.example.com", "TXT"),
    ]


def test_environment_plan_uses_its_names() -> None:
    plan = build_plan(load_spec(SEED, env="staging"), "staging")
    assert plan.namespace == "online-app-staging"
    assert plan.dns is not None and plan.dns.records[0].name == "staging.nginx.example.com"
    assert "service/online-app-staging/nginx" in plan.dns.records[2].target


def test_json_structure_is_stable() -> None:
    data = build_plan(load_spec(SEED)).to_dict()
    assert list(data) == [
        "apiVersion",
        "app",
        "env",
        "target",
        "namespace",
        "cloud",
        "kubernetes",
        "dns",
        "pending",
        "requires",
    ]
    assert data["requires"] == []  # the seed's in-tree ELB needs no extra controller
    assert data["apiVersion"] == PLAN_API_VERSION == "kumo.dev/plan/v1"
    assert data["target"] == {"cloud": "aws", "region": "ap-northeast-1"}
    assert set(data["cloud"][0]) == {
        "type",
        "name",
        "action",
        "summary",
        "details",
        "properties",
        "dependsOn",
    }
    assert set(data["kubernetes"][0]) == {"apiVersion", "kind", "name", "namespace", "role"}
    assert set(data["dns"]) == {"zone", "provider", "ownerId", "records"}
    assert set(data["dns"]["records"][0]) == {"name", "type", "target", "ttl", "alias", "source", "owns"}
    assert data["pending"] == ["${kumo:aws-account-id}", "${kumo:acm-certificate-arn:nginx.example.com}"]
    json.dumps(data)  # plain JSON all the way down


def test_generic_plan_has_no_cloud_resources() -> None:
    plan = build_plan(load_spec(ROOT / "examples/hello-generic/kumo.yaml"))
    assert plan.cloud_resources == []
    assert plan.pending == []


def test_prerequisites_the_cluster_must_have() -> None:
    alb = build_plan(load_spec(ROOT / "examples/eks-alb/kumo.yaml"))
    assert [(r.kind, r.name) for r in alb.requires] == [
        ("Controller", "aws-load-balancer-controller"),
        ("IngressClass", "alb"),
    ]
    hello = build_plan(load_spec(ROOT / "examples/hello-generic/kumo.yaml"))
    assert [(r.kind, r.name) for r in hello.requires] == [("IngressClass", "nginx")]
    gke = build_plan(load_spec(ROOT / "examples/gke-app/kumo.yaml"))
    assert ("CertificateMap", "shop-api-kumo") in [(r.kind, r.name) for r in gke.requires]
    assert ("GatewayClass", "gke-l7-global-external-managed") in [(r.kind, r.name) for r in gke.requires]
    aks = build_plan(load_spec(ROOT / "examples/aks-app/kumo.yaml"))
    assert [(r.kind, r.name) for r in aks.requires][:2] == [
        ("IngressClass", "webapprouting.kubernetes.azure.com"),
        ("KeyVaultCertificate", "https://portal-kv.vault.azure.net/certificates/portal-tls"),
    ]
