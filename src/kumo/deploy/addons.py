"""The cluster's add-ons (the DNS controller): applied when what kumo renders for them changed.

Every add-on Deployment carries a hash of all the add-on manifests (``kumo.dev/addons-hash``).
`kumo up` reads the add-on Deployments, together with any external-dns another tool installed, in
one list. When every add-on Deployment is live, carries the hash of what this run renders and is
ready, the add-ons are what this run would apply, and ready, so they are left alone: no dry-run,
no apply, no wait. Otherwise they are dry-run, applied and waited for, as on a first install.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field

from kumo.deploy.objects import Obj, Ref
from kumo.kube import KubeClient, readiness
from kumo.kube.errors import ApiError

HASH_ANNOTATION = "kumo.dev/addons-hash"
NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
EXTERNAL_DNS = "external-dns"


def addons_hash(addons: list[Obj]) -> str:
    """A digest of the add-on manifests (the stamp itself left out)."""
    plain = []
    for obj in addons:
        clean = copy.deepcopy(obj)
        annotations = (clean.get("metadata") or {}).get("annotations") or {}
        annotations.pop(HASH_ANNOTATION, None)
        plain.append(clean)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def stamp_addons(addons: list[Obj]) -> list[Obj]:
    """The add-ons with the hash of all of them on each Deployment (what `up` applies and `diff` compares)."""
    digest = addons_hash(addons)
    stamped = []
    for obj in addons:
        if obj.get("kind") == "Deployment":
            obj = copy.deepcopy(obj)
            obj["metadata"].setdefault("annotations", {})[HASH_ANNOTATION] = digest
        stamped.append(obj)
    return stamped


def with_live_stamp(obj: Obj, live: Obj) -> Obj:
    """``obj`` carrying the live object's stamp: `kumo diff` compares the add-ons' content, not the
    stamp (which differs wherever the cloud step has not filled a value in yet)."""
    stamp = ((live.get("metadata") or {}).get("annotations") or {}).get(HASH_ANNOTATION)
    if obj.get("kind") != "Deployment" or stamp is None:
        return obj
    obj = copy.deepcopy(obj)
    obj["metadata"].setdefault("annotations", {})[HASH_ANNOTATION] = stamp
    return obj


@dataclass
class AddonsState:
    #: external-dns Deployments another tool installed (Helm chart or manifests), as ns/name.
    foreign: list[str] = field(default_factory=list)
    #: Every add-on Deployment is live, stamped with this run's hash, and ready.
    current: bool = False
    #: What is wrong with the live add-ons when they are not current (for the progress line).
    reason: str = ""


async def addons_state(client: KubeClient, addons: list[Obj]) -> AddonsState:
    """One list, cluster-wide: the add-on Deployments and any other external-dns (a GET per add-on
    Deployment when listing cluster-wide is not allowed; foreign ones are then not reported)."""
    deployments = [o for o in addons if o.get("kind") == "Deployment"]
    if not deployments:
        return AddonsState(reason="no add-on Deployment")
    names = sorted(
        {EXTERNAL_DNS} | {str((o["metadata"].get("labels") or {}).get(NAME_LABEL)) for o in deployments}
    )
    live: dict[Ref, Obj] = {}
    state = AddonsState()
    try:
        found = await client.list(
            "apps/v1", "Deployment", None, label_selector=f"{NAME_LABEL} in ({','.join(names)})"
        )
    except ApiError:  # not allowed to look cluster-wide
        for obj in deployments:
            ref = Ref.of(obj)
            try:
                got = await client.get(ref.api_version, ref.kind, ref.name, ref.namespace or None)
            except ApiError:
                got = None
            if got is not None:
                live[ref] = got
    else:
        for obj in found:
            labels = obj["metadata"].get("labels") or {}
            if labels.get(NAME_LABEL) == EXTERNAL_DNS and labels.get(MANAGED_BY_LABEL) != "kumo":
                state.foreign.append(f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}")
            live[Ref.of(obj)] = obj
    for obj in deployments:
        ref = Ref.of(obj)
        wanted = (obj["metadata"].get("annotations") or {}).get(HASH_ANNOTATION)
        got = live.get(ref)
        if got is None:
            state.reason = f"{ref} is not installed"
            return state
        if ((got["metadata"].get("annotations") or {}).get(HASH_ANNOTATION)) != wanted:
            state.reason = f"{ref} differs from what this run renders"
            return state
        status, message = readiness.status(got)
        if status != readiness.CURRENT:
            state.reason = f"{ref} is not ready ({message})"
            return state
    state.current = True
    return state
