"""What a render needs besides the spec: the environment, and facts only the cloud layer knows.

Some values exist only after the cloud layer has run (the AWS account id, the ARN of an ACM
certificate that ``tls: auto`` asks for). Until then render writes a placeholder of the form
``${kumo:...}``: deterministic, easy to find, and never a valid ARN, so nothing half-made can be
applied by accident. ``find_placeholders`` lists what is left; the deploy step must refuse to apply
objects that still hold any, and the cloud layer passes ``CloudFacts`` to fill them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kumo.spec import Spec

ACCOUNT_ID_PLACEHOLDER = "${kumo:aws-account-id}"
_PLACEHOLDER = re.compile(r"\$\{kumo:[^}]+\}")
DEFAULT_ENV = "default"


def acm_certificate_placeholder(hostname: str) -> str:
    return f"${{kumo:acm-certificate-arn:{hostname}}}"


def gcp_certificate_map_name(app: str, service: str) -> str:
    """The Certificate Manager map the gcp cloud layer creates for a Gateway with ``tls: auto``."""
    return f"{app}-{service}-kumo"


@dataclass(frozen=True)
class CloudFacts:
    """Values known only after provisioning; each one replaces a placeholder."""

    account_id: str | None = None
    certificate_arns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderContext:
    spec: Spec
    env: str | None = None
    facts: CloudFacts = field(default_factory=CloudFacts)

    @property
    def namespace(self) -> str:
        return self.spec.default_namespace

    @property
    def instance(self) -> str:
        """The release name: the app, or app-env for an environment."""
        return self.spec.app if self.env is None else f"{self.spec.app}-{self.env}"

    @property
    def env_label(self) -> str:
        return self.env or DEFAULT_ENV

    @property
    def cluster_name(self) -> str:
        return self.spec.cluster.name if self.spec.cluster is not None else self.spec.app

    @property
    def account_id(self) -> str:
        return self.facts.account_id or self.spec.target.account_id or ACCOUNT_ID_PLACEHOLDER

    def certificate_arn(self, hostname: str) -> str:
        return self.facts.certificate_arns.get(hostname) or acm_certificate_placeholder(hostname)


def dns_role_name(cluster: str) -> str:
    """The IAM role the aws cloud layer creates for the DNS controller (IRSA)."""
    return f"{cluster}-kumo-dns"


def dns_role_arn(account_id: str, cluster: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{dns_role_name(cluster)}"


def find_placeholders(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every ``${kumo:...}`` left in the objects, in order of first appearance."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.update(dict.fromkeys(_PLACEHOLDER.findall(node)))
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for obj in objects:
        walk(obj)
    return list(found)
