"""The offline plan: cloud resources, Kubernetes objects and DNS records that ``kumo up`` would create."""

from kumo.plan.aws import aws_resources, irsa_trust_policy, route53_policy
from kumo.plan.builder import build_plan
from kumo.plan.model import (
    KNOWN_AFTER_APPLY,
    LB_ADDRESS,
    PLAN_API_VERSION,
    CloudResource,
    DnsPlan,
    DnsRecord,
    KubeObject,
    Plan,
    Requirement,
)
from kumo.plan.records import expected_records
from kumo.plan.requirements import requirements

__all__ = [
    "KNOWN_AFTER_APPLY",
    "LB_ADDRESS",
    "PLAN_API_VERSION",
    "CloudResource",
    "DnsPlan",
    "DnsRecord",
    "KubeObject",
    "Plan",
    "Requirement",
    "aws_resources",
    "build_plan",
    "expected_records",
    "irsa_trust_policy",
    "requirements",
    "route53_policy",
]
