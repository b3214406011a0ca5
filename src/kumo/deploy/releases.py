"""Release history: one Secret per revision, holding the applied manifests and the spec.

Kept in the cluster (like Helm 3) so every machine and CI job sees the same history, and so
`kumo rollback` works without the kumo.yaml that produced an old revision. Manifests and spec
are gzip-compressed JSON; Secret data adds the base64.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from kumo.kube import KubeClient, Obj

SECRET_TYPE = "kumo.dev/release"
OWNER_LABEL = "kumo.dev/owner"
NAME_LABEL = "kumo.dev/release-name"
REVISION_LABEL = "kumo.dev/revision"
STATUS_LABEL = "kumo.dev/status"

Status = Literal["pending", "deployed", "failed", "superseded", "interrupted"]


@dataclass
class Revision:
    number: int
    status: str
    deployed_by: str
    deployed_at: str
    description: str = ""
    failure: str | None = None
    images: dict[str, str] = field(default_factory=dict)
    manifests: list[Obj] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    env: str | None = None
    #: The resourceVersion of each object once the revision was deployed and ready (see
    #: ``object_key``): an object still at it is untouched since, and applying it again is a no-op.
    versions: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "revision": self.number,
            "status": self.status,
            "deployedBy": self.deployed_by,
            "deployedAt": self.deployed_at,
            "description": self.description,
            "failure": self.failure,
            "images": self.images,
        }


def object_key(api_version: str, kind: str, namespace: str, name: str) -> str:
    """How ``Revision.versions`` names an object."""
    return f"{api_version}/{kind}/{namespace}/{name}"


def secret_name(release: str, number: int) -> str:
    return f"kumo.release.{release}.v{number}"


def _pack(value: Any) -> str:
    return base64.b64encode(gzip.compress(json.dumps(value, sort_keys=True).encode(), mtime=0)).decode()


def _unpack(text: str | None) -> Any:
    if not text:
        return None
    return json.loads(gzip.decompress(base64.b64decode(text)))


def encode(release: str, namespace: str, revision: Revision) -> Obj:
    info = {
        "status": revision.status,
        "deployedBy": revision.deployed_by,
        "deployedAt": revision.deployed_at,
        "description": revision.description,
        "failure": revision.failure,
        "images": revision.images,
        "env": revision.env,
        "versions": revision.versions,
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": secret_name(release, revision.number),
            "namespace": namespace,
            "labels": {
                OWNER_LABEL: "kumo",
                NAME_LABEL: release,
                REVISION_LABEL: str(revision.number),
                STATUS_LABEL: revision.status,
            },
        },
        "data": {
            "info": base64.b64encode(json.dumps(info).encode()).decode(),
            "manifests": _pack(revision.manifests),
            "spec": _pack(revision.spec),
        },
    }


def decode(secret: Obj) -> Revision:
    data = secret.get("data") or {}
    labels = (secret.get("metadata") or {}).get("labels") or {}
    info = json.loads(base64.b64decode(data.get("info") or "e30=")) if data.get("info") else {}
    return Revision(
        number=int(labels.get(REVISION_LABEL, 0)),
        status=str(info.get("status") or labels.get(STATUS_LABEL) or "unknown"),
        deployed_by=str(info.get("deployedBy") or ""),
        deployed_at=str(info.get("deployedAt") or ""),
        description=str(info.get("description") or ""),
        failure=info.get("failure"),
        images=dict(info.get("images") or {}),
        manifests=list(_unpack(data.get("manifests")) or []),
        spec=dict(_unpack(data.get("spec")) or {}),
        env=info.get("env"),
        versions={str(k): str(v) for k, v in (info.get("versions") or {}).items()},
    )


class ReleaseStore:
    """The revisions of one release, in one namespace."""

    def __init__(self, client: KubeClient, release: str, namespace: str) -> None:
        self.client = client
        self.release = release
        self.namespace = namespace

    async def revisions(self) -> list[Revision]:
        """All revisions, oldest first."""
        secrets = await self.client.list(
            "v1", "Secret", self.namespace, label_selector=f"{OWNER_LABEL}=kumo,{NAME_LABEL}={self.release}"
        )
        revisions = [decode(s) for s in secrets if s.get("type") == SECRET_TYPE]
        return sorted(revisions, key=lambda r: r.number)

    async def get(self, number: int) -> Revision | None:
        secret = await self.client.get("v1", "Secret", secret_name(self.release, number), self.namespace)
        return decode(secret) if secret else None

    async def save(self, revision: Revision) -> None:
        """Create or overwrite the record of ``revision``."""
        await self.client.apply(encode(self.release, self.namespace, revision), force=True)

    async def trim(self, max_history: int, revisions: list[Revision] | None = None) -> list[int]:
        """Delete the oldest records beyond ``max_history``; never the current deployed one.
        ``revisions``: all of them as the caller (holding the lock) knows them, oldest first."""
        if revisions is None:
            revisions = await self.revisions()
        deployed = [r.number for r in revisions if r.status == "deployed"]
        keep_current = deployed[-1] if deployed else None
        excess = len(revisions) - max_history
        removed: list[int] = []
        for revision in revisions:
            if excess <= 0:
                break
            if revision.number == keep_current:
                continue
            await self.client.delete(
                "v1", "Secret", secret_name(self.release, revision.number), self.namespace
            )
            removed.append(revision.number)
            excess -= 1
        return removed

    async def delete_all(self) -> None:
        for revision in await self.revisions():
            await self.client.delete(
                "v1", "Secret", secret_name(self.release, revision.number), self.namespace
            )
