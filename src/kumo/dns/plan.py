"""The plan: a pure function from (current, desired, policy, owner) to changes, as in external-dns.

Rules kept from external-dns (plan/plan.go):
- rows are (name, set identifier); candidates for one (name, type) are resolved per resource, the
  lexicographically smallest resource wins, and on update the resource that already owns the record;
- A/AAAA win over CNAME at the same name (a CNAME cannot share a name);
- updates and deletes only touch records owned by ``owner_id``;
- a new record type is created next to existing records only if every record at that name is owned;
- an update happens when targets, a configured TTL or provider-specific properties differ.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from kumo.dns.endpoint import (
    MANAGED_TYPES,
    OWNER_LABEL,
    RECORD_A,
    RECORD_AAAA,
    RECORD_CNAME,
    RESOURCE_LABEL,
    Endpoint,
)


class Policy(StrEnum):
    sync = "sync"
    upsert_only = "upsert-only"
    create_only = "create-only"


@dataclass
class Changes:
    create: list[Endpoint] = field(default_factory=list)
    update_old: list[Endpoint] = field(default_factory=list)
    update_new: list[Endpoint] = field(default_factory=list)
    delete: list[Endpoint] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.create or self.update_new or self.delete)

    def __len__(self) -> int:
        return len(self.create) + len(self.update_new) + len(self.delete)

    def extend(self, other: Changes) -> None:
        self.create.extend(other.create)
        self.update_old.extend(other.update_old)
        self.update_new.extend(other.update_new)
        self.delete.extend(other.delete)

    def names(self) -> set[str]:
        out: set[str] = set()
        for ep in [*self.create, *self.update_new, *self.update_old, *self.delete]:
            out.add(ep.dns_name)
        return out


def _resource(ep: Endpoint) -> str:
    return ep.labels.get(RESOURCE_LABEL, "")


def _resolve_create(candidates: list[Endpoint]) -> Endpoint:
    return min(candidates, key=lambda e: (_resource(e), e.targets))


def _resolve_update(current: Endpoint, candidates: list[Endpoint]) -> Endpoint:
    owner_resource = _resource(current)
    for cand in candidates:
        if owner_resource and _resource(cand) == owner_resource:
            return cand
    return _resolve_create(candidates)


def _ps_differs(desired: Endpoint, current: Endpoint) -> bool:
    want = desired.provider_specific
    have = current.provider_specific
    return any(have.get(k) != v for k, v in want.items()) or any(k not in want for k in have)


def needs_update(desired: Endpoint, current: Endpoint) -> bool:
    if not desired.same_targets(current):
        return True
    if desired.record_ttl and desired.record_ttl != current.record_ttl:
        return True
    return _ps_differs(desired, current)


def _inherit_owner(current: Endpoint, desired: Endpoint) -> Endpoint:
    out = desired.copy()
    if OWNER_LABEL in current.labels:
        out.labels[OWNER_LABEL] = current.labels[OWNER_LABEL]
    return out


def _owned(ep: Endpoint, owner_id: str) -> bool:
    return not owner_id or ep.labels.get(OWNER_LABEL) == owner_id


def _prefer_address_types(candidates: dict[str, list[Endpoint]]) -> dict[str, list[Endpoint]]:
    if RECORD_CNAME in candidates and (RECORD_A in candidates or RECORD_AAAA in candidates):
        return {t: c for t, c in candidates.items() if t != RECORD_CNAME}
    return candidates


def plan(
    current: list[Endpoint],
    desired: list[Endpoint],
    policy: Policy | str = Policy.sync,
    owner_id: str = "",
    managed_types: frozenset[str] = MANAGED_TYPES,
) -> Changes:
    """Changes that make ``current`` (labels attached by the registry) match ``desired``."""
    policy = Policy(policy)
    rows_current: dict[tuple[str, str], dict[str, Endpoint]] = defaultdict(dict)
    rows_desired: dict[tuple[str, str], dict[str, list[Endpoint]]] = defaultdict(lambda: defaultdict(list))
    for ep in current:
        if ep.record_type in managed_types:
            rows_current[(ep.dns_name, ep.set_identifier)][ep.record_type] = ep
    for ep in desired:
        if ep.record_type in managed_types:
            rows_desired[(ep.dns_name, ep.set_identifier)][ep.record_type].append(ep)

    changes = Changes()
    for row in sorted(set(rows_current) | set(rows_desired)):
        cur = rows_current.get(row, {})
        cands = _prefer_address_types(dict(rows_desired.get(row, {})))
        if not cur:
            for rtype in sorted(cands):
                changes.create.append(_resolve_create(cands[rtype]))
            continue
        creates: list[Endpoint] = []
        for rtype in sorted(set(cur) | set(cands)):
            have = cur.get(rtype)
            want = cands.get(rtype)
            if have is not None and not want:
                if _owned(have, owner_id):
                    changes.delete.append(have)
            elif have is not None and want:
                chosen = _resolve_update(have, want)
                if needs_update(chosen, have) and _owned(have, owner_id):
                    changes.update_new.append(_inherit_owner(have, chosen))
                    changes.update_old.append(have)
            elif want:
                creates.append(_resolve_create(want))
        if creates and all(_owned(ep, owner_id) for ep in cur.values()):
            changes.create.extend(creates)

    if policy is Policy.upsert_only:
        changes.delete = []
    elif policy is Policy.create_only:
        changes.delete, changes.update_new, changes.update_old = [], [], []
    return changes


__all__ = ["Changes", "Policy", "needs_update", "plan"]
