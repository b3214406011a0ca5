"""What every reconciler shares: the spec and its file, the boto3 session, what is known live, tags.

There is no state file. kumo finds its resources again by name and by its two tags
(``kumo.dev/app=<app>``, ``kumo.dev/managed-by=kumo``); a resource with kumo's name but without
those tags is someone else's, and kumo refuses to touch it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import ClientError  # type: ignore[import-untyped, unused-ignore]

from kumo.errors import UsageError
from kumo.spec import Spec, locate

APP_TAG = "kumo.dev/app"
MANAGED_TAG = "kumo.dev/managed-by"
MANAGED_BY = "kumo"

Action = Literal["create", "update", "unchanged", "lookup", "delete"]
Loc = tuple[str | int, ...]


@dataclass
class Step:
    """One resource's row in ``kumo cloud plan``: what apply would do, and why."""

    type: str
    name: str
    action: Action
    why: str = ""
    changes: list[str] = field(default_factory=list)
    state: str | None = None
    id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "why": self.why,
            "changes": list(self.changes),
            "state": self.state,
            "id": self.id,
        }

    @property
    def writes(self) -> bool:
        return self.action in ("create", "update")


@dataclass
class Live:
    """Values read from (or created in) the account, filled as the reconcilers run in order."""

    account_id: str = ""
    zone_id: str | None = None
    vpc_id: str | None = None
    private_subnets: list[str] = field(default_factory=list)
    public_subnets: list[str] = field(default_factory=list)
    untagged_subnets: dict[str, str] = field(default_factory=dict)  # id -> the tag it needs
    roles: dict[str, str] = field(default_factory=dict)  # name -> ARN
    cluster_arn: str | None = None
    cluster_endpoint: str | None = None
    cluster_ca: str | None = None
    cluster_status: str | None = None
    oidc_issuer: str | None = None
    oidc_provider_arn: str | None = None
    certificates: dict[str, str] = field(default_factory=dict)  # hostname -> ARN

    @property
    def issuer_host(self) -> str | None:
        return self.oidc_issuer.removeprefix("https://") if self.oidc_issuer else None


class Reporter:
    """Where progress lines go; the CLI prints them, tests collect them."""

    def line(self, text: str) -> None:
        pass


@dataclass
class Waits:
    """Timeouts (seconds) for the long waits, and how often to poll."""

    cluster: float = 30 * 60
    nodegroup: float = 30 * 60
    certificate: float = 30 * 60
    delete: float = 30 * 60
    poll: float = 10.0


@dataclass
class Ctx:
    spec: Spec
    path: Path
    session: Any
    region: str
    reporter: Reporter = field(default_factory=Reporter)
    waits: Waits = field(default_factory=Waits)
    fix_subnet_tags: bool = False
    live: Live = field(default_factory=Live)
    _clients: dict[str, Any] = field(default_factory=dict)
    sleep: Callable[[float], None] | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    @property
    def cluster_name(self) -> str:
        return self.spec.cluster.name if self.spec.cluster is not None else self.spec.app

    @property
    def tags(self) -> dict[str, str]:
        return {APP_TAG: self.spec.app, MANAGED_TAG: MANAGED_BY}

    def owned(self, tags: dict[str, str] | None) -> bool:
        tags = tags or {}
        return tags.get(MANAGED_TAG) == MANAGED_BY and tags.get(APP_TAG) == self.spec.app

    def located(self, loc: Loc, message: str, hint: str | None = None) -> UsageError:
        """An exit-2 error that names the kumo.yaml line of the field at fault."""
        return UsageError(f"{locate(self.path, loc)}: {_dotted(loc)}: {message}", hint)

    def not_ours(self, what: str, name: str, loc: Loc) -> UsageError:
        return self.located(
            loc,
            f"{what} {name} already exists and kumo did not create it (it lacks the tags "
            f"{MANAGED_TAG}={MANAGED_BY}, {APP_TAG}={self.spec.app}); kumo never changes what it did not tag",
            "Delete or rename that resource, or choose another cluster.name.",
        )


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def canonical(document: Any) -> str:
    """A policy document in one spelling, so two equal documents compare equal."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
