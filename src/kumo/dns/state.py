"""The controller's state, in three parts that can each be read and tested alone (as external-dns
keeps its source cache, its registry's record cache and its plan apart):

- ``DesiredIndex``: the endpoints each object asks for, indexed by DNS name;
- ``RecordCache``: the provider's records by name, from a full read plus kumo's own successful
  changes;
- ``RetrySchedule``: failed names, when each is retried (capped exponential backoff), and why.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kumo.dns.endpoint import RECORD_TXT, RESOURCE_LABEL, Endpoint, targets_key

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
        for e in endpoints:  # one string per name, shared with the record cache's key
            e.dns_name = sys.intern(e.dns_name)
        for name in names:
            # an object with one name (the usual case) shares its list instead of a copy per name
            eps = endpoints if len(names) == 1 else [e for e in endpoints if e.dns_name == name]
            if eps:
                self.by_name[sys.intern(name)][key] = eps
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


# One provider record without its name: type, set identifier, targets, TTL, provider-specific and
# label pairs. Plain tuples, not Endpoints: an Endpoint is an object plus two dicts (about 600 bytes
# for an ALIAS record), a row about 200, and every row with the same provider-specific properties
# shares one tuple of them.
Row = tuple[str, str, tuple[str, ...], int, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


class RecordCache:
    """The provider's records by name; never re-read except by ``replace`` (a full read).

    It is the only copy of the zone kumo keeps (providers keep none, except Route 53's few raw
    record sets it could not rebuild for a DELETE), so it is stored compactly: per name a tuple of
    rows. ``lookup`` builds fresh Endpoints from them, so no caller can change the cache by changing
    what it got.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Row, ...]] = {}
        self._shared: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
        self.loaded = False
        self.count = 0  # non-TXT records

    def _row(self, ep: Endpoint, labels: bool) -> Row:
        ps = tuple(sorted(ep.provider_specific.items()))
        return (
            sys.intern(ep.record_type),
            sys.intern(ep.set_identifier),
            tuple(ep.targets),
            ep.record_ttl,
            self._shared.setdefault(ps, ps),
            tuple(sorted(ep.labels.items())) if labels else (),
        )

    def replace(self, records: Iterable[Endpoint]) -> None:
        """A full read: the provider's records as they are (their labels, if any, included)."""
        self._rows = {}
        self.count = 0
        for ep in records:
            self._put(ep.dns_name, self._row(ep, labels=True))
        self.loaded = True

    async def replace_pages(self, pages: AsyncIterable[Iterable[Endpoint]]) -> None:
        """A full read, a page at a time (only a page of Endpoints is alive at once, not the whole
        zone); the old rows serve lookups until the last page is in, then the new ones replace them."""
        fresh = RecordCache()
        fresh._shared = self._shared
        async for page in pages:
            for ep in page:
                fresh._put(ep.dns_name, fresh._row(ep, labels=True))
        self._rows, self.count, self.loaded = fresh._rows, fresh.count, True

    def _put(self, name: str, row: Row) -> None:
        rows = self._rows.get(name, ())
        kept = tuple(r for r in rows if r[:2] != row[:2])
        self.count += (len(kept) == len(rows)) * (row[0] != RECORD_TXT)
        self._rows[sys.intern(name)] = (*kept, row)

    def lookup(self, name: str) -> list[Endpoint]:
        return [_endpoint(name, row) for row in self._rows.get(name, ())]

    def names(self) -> Iterable[str]:
        return self._rows.keys()

    def endpoints(self) -> Iterator[Endpoint]:
        """Every cached record, as fresh Endpoints."""
        for name, rows in self._rows.items():
            for row in rows:
                yield _endpoint(name, row)

    def forget(self, ep: Endpoint) -> None:
        rows = self._rows.get(ep.dns_name)
        if not rows:
            return
        kept = tuple(r for r in rows if r[:2] != (ep.record_type, ep.set_identifier))
        if len(kept) == len(rows):
            return
        self.count -= ep.record_type != RECORD_TXT
        if kept:
            self._rows[ep.dns_name] = kept
        else:
            del self._rows[ep.dns_name]

    def store(self, ep: Endpoint) -> None:
        """A record kumo wrote; its labels are the registry's (in its TXT), not the record's."""
        self._put(ep.dns_name, self._row(ep, labels=False))

    def size(self) -> int:
        return sum(len(r) for r in self._rows.values())


def _endpoint(name: str, row: Row) -> Endpoint:
    rtype, set_identifier, targets, ttl, ps, labels = row
    return Endpoint(name, targets, rtype, ttl, set_identifier, dict(labels), dict(ps))


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
