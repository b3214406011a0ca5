"""The controller's state, in three parts that can each be read and tested alone (as external-dns
keeps its source cache, its registry's record cache and its plan apart):

- ``DesiredIndex``: the endpoints each object asks for, indexed by DNS name;
- ``RecordCache``: the provider's records by name, from a full read plus kumo's own successful
  changes;
- ``RetrySchedule``: failed names, when each is retried (capped exponential backoff), and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kumo.dns.endpoint import RECORD_TXT, RESOURCE_LABEL, Endpoint, EndpointKey, targets_key

ObjKey = tuple[str, str, str]  # kind, namespace, name


def endpoints_equal(a: list[Endpoint], b: list[Endpoint]) -> bool:
    def sig(eps: list[Endpoint]) -> list[tuple[Any, ...]]:
        return sorted(
            (
                e.key,
                targets_key(e.targets),
                e.record_ttl,
                tuple(sorted(e.provider_specific.items())),
                e.labels.get(RESOURCE_LABEL, ""),
            )
            for e in eps
        )

    return sig(a) == sig(b)


class DesiredIndex:
    """Desired endpoints per object, and per name (the plan works name by name)."""

    def __init__(self) -> None:
        self.objects: dict[ObjKey, list[Endpoint]] = {}
        self.by_name: dict[str, dict[ObjKey, list[Endpoint]]] = defaultdict(dict)
        self.count = 0  # endpoints, kept incrementally (counting 10,000s on each reconcile would dominate it)

    def get(self, key: ObjKey) -> list[Endpoint]:
        return self.objects.get(key, [])

    def set(self, key: ObjKey, endpoints: list[Endpoint]) -> set[str]:
        """Replace an object's endpoints; returns the names whose desired records changed."""
        old = self.objects.get(key, [])
        if endpoints_equal(old, endpoints):
            return set()
        names = {e.dns_name for e in old} | {e.dns_name for e in endpoints}
        self.count += len(endpoints) - len(old)
        if endpoints:
            self.objects[key] = endpoints
        else:
            self.objects.pop(key, None)
        for name in names:
            eps = [e for e in endpoints if e.dns_name == name]
            if eps:
                self.by_name[name][key] = eps
            else:
                self.by_name.get(name, {}).pop(key, None)
                if name in self.by_name and not self.by_name[name]:
                    del self.by_name[name]
        return names

    def at(self, name: str) -> list[Endpoint]:
        """Copies of every endpoint wanted at ``name``."""
        return [e.copy() for eps in self.by_name.get(name, {}).values() for e in eps]

    def owners(self, name: str) -> Iterable[ObjKey]:
        return self.by_name.get(name, {}).keys()


class RecordCache:
    """The provider's records by name; never re-read except by ``replace`` (a full read)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[EndpointKey, Endpoint]] = defaultdict(dict)
        self.loaded = False
        self.count = 0  # non-TXT records

    def replace(self, records: Iterable[Endpoint]) -> None:
        fresh: dict[str, dict[EndpointKey, Endpoint]] = defaultdict(dict)
        count = 0
        for ep in records:
            fresh[ep.dns_name][ep.key] = ep
            count += ep.record_type != RECORD_TXT
        self.records = fresh
        self.count = count
        self.loaded = True

    def lookup(self, name: str) -> Iterable[Endpoint]:
        recs = self.records.get(name)
        return recs.values() if recs else ()

    def forget(self, ep: Endpoint) -> None:
        if self.records.get(ep.dns_name, {}).pop(ep.key, None) is not None and ep.record_type != RECORD_TXT:
            self.count -= 1

    def store(self, ep: Endpoint) -> None:
        stored = ep.copy()
        stored.labels = {}
        if stored.key not in self.records.get(stored.dns_name, {}) and stored.record_type != RECORD_TXT:
            self.count += 1
        self.records[stored.dns_name][stored.key] = stored

    def size(self) -> int:
        return sum(len(r) for r in self.records.values())


@dataclass
class RetrySchedule:
    """Failed names: when each is due again (capped exponential backoff) and the last reason."""

    base: float = 1.0
    cap: float = 300.0
    due_at: dict[str, float] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, name: str, message: str, now: float) -> None:
        attempt = self.attempts.get(name, 0)
        self.attempts[name] = attempt + 1
        self.due_at[name] = now + min(self.cap, self.base * 2**attempt)
        self.failures[name] = message

    def due(self, now: float) -> set[str]:
        return {n for n, at in self.due_at.items() if at <= now}

    def take(self, names: Iterable[str]) -> None:
        """These names are being worked on now: no longer scheduled (their failure stays until success)."""
        for name in names:
            self.due_at.pop(name, None)

    def succeeded(self, name: str) -> None:
        if name not in self.due_at:
            self.failures.pop(name, None)
            self.attempts.pop(name, None)

    def next_due(self) -> float | None:
        return min(self.due_at.values()) if self.due_at else None

    def __bool__(self) -> bool:
        return bool(self.due_at)
