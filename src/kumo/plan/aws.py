"""The AWS resources of the seed system, as the plan shows them and the cloud layer creates them.

The IAM documents are built here once, so the plan shows exactly what will be created:
- the DNS controller's trust policy checks both ``:aud`` and ``:sub`` (the seed checked only
  ``aud``, so any service account in the cluster could assume the role);
- its Route 53 permissions are scoped to the zone's ARN (the seed used ``hostedzone/*``); only
  ``ListHostedZones*``, which has no resource-level permissions, stays on ``*``.
"""

from __future__ import annotations

from typing import Any

from kumo.plan.model import KNOWN_AFTER_APPLY, CloudResource
from kumo.render import ACCOUNT_ID_PLACEHOLDER, dns_role_name
from kumo.render.addons.dns_controller import NAME as DNS_SERVICE_ACCOUNT
from kumo.spec import Spec

STS_AUDIENCE = "sts.amazonaws.com"
CLUSTER_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
]


def oidc_issuer_host(region: str) -> str:
    """The issuer without ``https://``, as IAM condition keys spell it."""
    return f"oidc.eks.{region}.amazonaws.com/id/{KNOWN_AFTER_APPLY}"


def irsa_trust_policy(
    account_id: str, issuer_host: str, namespace: str, service_account: str
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account_id}:oidc-provider/{issuer_host}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer_host}:aud": STS_AUDIENCE,
                        f"{issuer_host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    }
                },
            }
        ],
    }


def route53_policy(zone_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ChangeRecordsInTheZone",
                "Effect": "Allow",
                "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                "Resource": [zone_arn],
            },
            {
                "Sid": "FindTheZone",
                "Effect": "Allow",
                "Action": ["route53:ListHostedZones", "route53:ListHostedZonesByName"],
                "Resource": ["*"],
            },
        ],
    }


def service_trust_policy(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def aws_resources(spec: Spec, account_id: str | None = None) -> list[CloudResource]:
    region = spec.target.region or ""
    account = account_id or spec.target.account_id or ACCOUNT_ID_PLACEHOLDER
    cluster = spec.cluster
    cluster_name = cluster.name if cluster is not None else spec.app
    resources: list[CloudResource] = []
    zone_id = KNOWN_AFTER_APPLY

    if spec.dns is not None and spec.dns.provider == "route53":
        resources.append(
            CloudResource(
                type="AWS::Route53::HostedZone",
                name=spec.dns.zone,
                action="lookup",
                properties={"name": spec.dns.zone, "private": spec.dns.zone_type == "private", "id": zone_id},
                summary=f"{spec.dns.zone_type} zone {spec.dns.zone}",
            )
        )

    issuer_host = oidc_issuer_host(region)
    if cluster is not None:
        network = cluster.network
        if network.private_subnets or network.public_subnets:
            subnets: dict[str, Any] = {"private": network.private_subnets, "public": network.public_subnets}
            resources.append(
                CloudResource(
                    type="AWS::EC2::Subnet",
                    name="subnets",
                    action="lookup",
                    properties=subnets,
                    summary=f"{len(network.private_subnets)} private, {len(network.public_subnets)} public",
                )
            )
        else:
            tags = network.vpc_tags or {"Name": cluster.name}
            by: dict[str, Any] = {"vpcId": network.vpc_id} if network.vpc_id else {"tags": tags}
            shown = {"vpcId": network.vpc_id} if network.vpc_id else tags
            resources.append(
                CloudResource(
                    type="AWS::EC2::VPC",
                    name=network.vpc_id or "vpc",
                    action="lookup",
                    properties={**by, "subnets": "private for nodes, public for load balancers"},
                    summary="by " + ", ".join(f"{k}={v}" for k, v in shown.items()),
                )
            )
        cluster_role = f"{cluster.name}-kumo-cluster"
        node_role = f"{cluster.name}-kumo-node"
        nodes = cluster.nodes
        resources += [
            CloudResource(
                type="AWS::IAM::Role",
                name=cluster_role,
                action="create",
                properties={
                    "assumeRolePolicy": service_trust_policy("eks.amazonaws.com"),
                    "managedPolicies": CLUSTER_POLICIES,
                },
                summary="EKS control plane role",
            ),
            CloudResource(
                type="AWS::EKS::Cluster",
                name=cluster.name,
                action="create",
                properties={
                    "version": cluster.version,
                    "roleName": cluster_role,
                    "subnets": "private + public (public ones let internet-facing load balancers in)",
                    "endpoint": KNOWN_AFTER_APPLY,
                    "oidcIssuer": f"https://{issuer_host}",
                },
                depends_on=[cluster_role],
                summary=f"Kubernetes {cluster.version}",
            ),
            CloudResource(
                type="AWS::IAM::Role",
                name=node_role,
                action="create",
                properties={
                    "assumeRolePolicy": service_trust_policy("ec2.amazonaws.com"),
                    "managedPolicies": NODE_POLICIES,
                },
                summary="worker node role",
            ),
            CloudResource(
                type="AWS::EKS::Nodegroup",
                name=f"{cluster.name}-default",
                action="create",
                properties={
                    "clusterName": cluster.name,
                    "instanceTypes": [nodes.instance_type],
                    "scaling": {"min": nodes.min, "max": nodes.max, "desired": nodes.desired},
                    "subnets": "private",
                    "nodeRole": node_role,
                },
                depends_on=[cluster.name, node_role],
                summary=f"{nodes.instance_type} min {nodes.min} / max {nodes.max} / desired {nodes.desired}",
            ),
            CloudResource(
                type="AWS::IAM::OIDCProvider",
                name=f"{cluster.name}-oidc",
                action="create",
                properties={"url": f"https://{issuer_host}", "clientIds": [STS_AUDIENCE]},
                depends_on=[cluster.name],
                summary="IRSA: lets service accounts assume IAM roles",
            ),
        ]

    if spec.dns is not None and spec.dns.provider == "route53" and spec.dns.controller.enabled:
        namespace = spec.dns.controller.namespace
        role = dns_role_name(cluster_name)
        zone_arn = f"arn:aws:route53:::hostedzone/{zone_id}"
        resources += [
            CloudResource(
                type="AWS::IAM::Role",
                name=role,
                action="create",
                properties={
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "assumeRolePolicy": irsa_trust_policy(
                        account, issuer_host, namespace, DNS_SERVICE_ACCOUNT
                    ),
                },
                depends_on=[f"{cluster_name}-oidc"] if cluster is not None else [],
                summary=f"DNS controller (IRSA), trusts only {namespace}/{DNS_SERVICE_ACCOUNT}, aud + sub",
                details=[
                    f"trust: {issuer_host}:aud = {STS_AUDIENCE}",
                    f"trust: {issuer_host}:sub = system:serviceaccount:{namespace}:{DNS_SERVICE_ACCOUNT}",
                ],
            ),
            CloudResource(
                type="AWS::IAM::RolePolicy",
                name=f"{role}-route53",
                action="create",
                properties={"roleName": role, "policyDocument": route53_policy(zone_arn)},
                depends_on=[role, spec.dns.zone],
                summary=f"route53 changes only in hostedzone/<id of {spec.dns.zone}>",
                details=[
                    f"allow route53:ChangeResourceRecordSets, route53:ListResourceRecordSets on {zone_arn}",
                    "allow route53:ListHostedZones, route53:ListHostedZonesByName on * (no resource form)",
                ],
            ),
        ]

    for service in spec.services:
        endpoint = service.endpoint
        if endpoint is None or endpoint.tls != "auto":
            continue
        zone_name = spec.dns.zone if spec.dns else "the zone"
        deps = [spec.dns.zone] if spec.dns is not None and spec.dns.provider == "route53" else []
        resources.append(
            CloudResource(
                type="AWS::CertificateManager::Certificate",
                name=endpoint.hostname,
                action="create",
                properties={
                    "domainName": endpoint.hostname,
                    "validationMethod": "DNS",
                    "validationRecord": f"CNAME {KNOWN_AFTER_APPLY} in {zone_name}",
                    "region": region,
                    "arn": KNOWN_AFTER_APPLY,
                },
                depends_on=deps,
                summary=f"ACM, DNS-validated, for the {service.name} load balancer",
            )
        )
    return resources
