"""The offline plan: what ``kumo up`` would create, as data.

``Plan.to_dict()`` is the stable JSON that ``kumo plan --output json`` prints (see docs/plan.md):

    {"apiVersion": "kumo.dev/plan/v1", "app", "env", "target": {"cloud", "region"},
     "namespace", "cloud": [CloudResource...], "kubernetes": [KubeObject...],
     "dns": {"zone", "provider", "ownerId", "records": [DnsRecord...]}, "pending": [str...],
     "requires": [{"kind", "name", "why"}...]}

Values that exist only after apply are the string ``KNOWN_AFTER_APPLY`` (or contain it), and
``pending`` lists the ``${kumo:...}`` placeholders the rendered objects still hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PLAN_API_VERSION = "kumo.dev/plan/v1"
KNOWN_AFTER_APPLY = "<known after apply>"
LB_ADDRESS = "<load balancer address, known after apply>"

Action = Literal["create", "lookup"]


@dataclass(frozen=True)
class CloudResource:
    """One cloud resource. ``type`` is the CloudFormation type name, for familiarity."""

    type: str
    name: str
    action: Action
    properties: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    summary: str = ""
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Requirement:
    """Something the cluster or cloud must already have; kumo does not create it."""

    kind: str
    name: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "why": self.why}


@dataclass(frozen=True)
class KubeObject:
    api_version: str
    kind: str
    name: str
    namespace: str | None
    role: Literal["addon", "app"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "role": self.role,
        }


@dataclass(frozen=True)
class DnsRecord:
    """A record the DNS controller will keep. ``alias`` is a Route 53 ALIAS; ``owns`` (on a TXT)
    names the record it proves ownership of."""

    name: str
    type: str
    target: str
    ttl: int | None
    alias: bool = False
    source: str = ""
    owns: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "target": self.target,
            "ttl": self.ttl,
            "alias": self.alias,
            "source": self.source,
            "owns": self.owns,
        }


@dataclass(frozen=True)
class DnsPlan:
    zone: str
    provider: str
    owner_id: str
    records: list[DnsRecord]


@dataclass(frozen=True)
class Plan:
    app: str
    env: str | None
    cloud: str
    region: str | None
    namespace: str
    cloud_resources: list[CloudResource]
    objects: list[KubeObject]
    dns: DnsPlan | None
    pending: list[str]
    requires: list[Requirement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": PLAN_API_VERSION,
            "app": self.app,
            "env": self.env,
            "target": {"cloud": self.cloud, "region": self.region},
            "namespace": self.namespace,
            "cloud": [
                {
                    "type": r.type,
                    "name": r.name,
                    "action": r.action,
                    "summary": r.summary,
                    "details": list(r.details),
                    "properties": r.properties,
                    "dependsOn": r.depends_on,
                }
                for r in self.cloud_resources
            ],
            "kubernetes": [o.to_dict() for o in self.objects],
            "dns": None
            if self.dns is None
            else {
                "zone": self.dns.zone,
                "provider": self.dns.provider,
                "ownerId": self.dns.owner_id,
                "records": [r.to_dict() for r in self.dns.records],
            },
            "pending": list(self.pending),
            "requires": [r.to_dict() for r in self.requires],
        }
