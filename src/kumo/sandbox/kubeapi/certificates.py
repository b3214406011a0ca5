"""CertificateSigningRequests as the API server's strategy treats them.

On create the requester's identity is written into the spec (``username``, ``uid``, ``groups``,
``extra``) whatever the body says, and any status is dropped; the ``approval`` subresource changes
only ``status.conditions`` (Approved or Denied, at most one of them), as ``kubectl certificate
approve|deny`` expects. Signing is a controller's job (see the simulation's csrsigning).
"""

from __future__ import annotations

from typing import Any

from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.objects import fast_copy
from kumo.sandbox.kubeapi.rbac import User


def prepare_create(body: Any, user: User) -> Any:
    """The body with the requester's identity in its spec and no status."""
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        return body  # validation reports what is missing
    spec = body["spec"]
    for key in ("username", "uid", "groups", "extra"):
        spec.pop(key, None)
    info = user.info()
    spec["username"] = info["username"]
    spec["groups"] = info["groups"]
    if "uid" in info:
        spec["uid"] = info["uid"]
    if "extra" in info:
        spec["extra"] = info["extra"]
    body.pop("status", None)
    return body


def approval(old: dict[str, Any], body: Any, now: str) -> dict[str, Any]:
    """The object an ``approval`` write leaves: the stored one with the body's conditions."""
    conditions = ((body or {}).get("status") or {}).get("conditions") if isinstance(body, dict) else None
    if not isinstance(conditions, list):
        conditions = []
    verdicts = {c.get("type") for c in conditions if isinstance(c, dict)} & {"Approved", "Denied"}
    if len(verdicts) > 1:
        raise ApiError(
            422,
            "Invalid",
            f'CertificateSigningRequest.certificates.k8s.io "{old["metadata"]["name"]}" is invalid: '
            'status.conditions: Invalid value: "Denied": '
            "Approved and Denied conditions are mutually exclusive",
        )
    before = {c.get("type"): c for c in (old.get("status") or {}).get("conditions") or []}
    out: dict[str, Any] = fast_copy(old)
    kept = []
    for c in conditions:
        if not isinstance(c, dict):
            continue
        c = dict(c)
        c.setdefault("status", "True")
        prior = before.get(c.get("type"))
        c.setdefault("lastUpdateTime", now)
        if prior and prior.get("status") == c["status"] and prior.get("lastTransitionTime"):
            c["lastTransitionTime"] = prior["lastTransitionTime"]
        else:
            c.setdefault("lastTransitionTime", now)
        kept.append(c)
    out.setdefault("status", {})["conditions"] = kept
    meta = (body or {}).get("metadata") if isinstance(body, dict) else None
    if isinstance(meta, dict) and meta.get("resourceVersion"):
        out["metadata"]["resourceVersion"] = meta["resourceVersion"]
    return out
