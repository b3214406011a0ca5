"""The provider interface: read records, apply changes, report which record groups failed."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from kumo.dns.endpoint import OWNED_RECORD_LABEL, Endpoint
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes


@dataclass
class ApplyResult:
    """Which change groups (a record name with its TXT records) failed, with the reason.

    Groups not listed were applied; the controller updates its cache from exactly those.
    """

    failed: dict[str, str] = field(default_factory=dict)

    def merge(self, other: ApplyResult) -> None:
        self.failed.update(other.failed)


def group_key(ep: Endpoint) -> str:
    """A record and its ownership TXT share a group: the owned record's name."""
    return ep.labels.get(OWNED_RECORD_LABEL) or ep.dns_name


def group_changes(changes: Changes) -> dict[str, Changes]:
    groups: dict[str, Changes] = {}
    for ep in changes.create:
        groups.setdefault(group_key(ep), Changes()).create.append(ep)
    for old, new in zip(changes.update_old, changes.update_new, strict=True):
        g = groups.setdefault(group_key(new), Changes())
        g.update_old.append(old)
        g.update_new.append(new)
    for ep in changes.delete:
        groups.setdefault(group_key(ep), Changes()).delete.append(ep)
    return groups


class Provider(abc.ABC):
    """A DNS provider. ``calls`` counts the API calls it made (for metrics and benchmarks)."""

    name: str = "provider"

    def __init__(self) -> None:
        self.calls = 0

    @abc.abstractmethod
    async def records(self) -> list[Endpoint]:
        """Every record in the zones this provider manages (TXT included)."""

    async def record_pages(self) -> AsyncIterator[list[Endpoint]]:
        """``records()`` a page at a time, so the controller can store each page compactly before the
        next one arrives instead of holding every record as an Endpoint at once (Route 53 pages its
        reads; the others return one page)."""
        yield await self.records()

    @abc.abstractmethod
    async def apply_changes(self, changes: Changes) -> ApplyResult:
        """Apply changes; a failure of one group never stops the others."""

    def adjust_endpoints(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        """Rewrite desired endpoints to the shape ``records()`` returns (e.g. ALIAS on Route 53)."""
        return endpoints

    async def adjust(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        """Async form of adjust_endpoints; remote providers (webhook) override this one."""
        return self.adjust_endpoints(endpoints)

    def domain_filter(self) -> DomainFilter:
        return DomainFilter()

    async def drifted(self) -> bool | None:
        """Whether the zone changed outside kumo since the last full read (cheaply, without re-reading
        it), or None when this provider has no cheap probe (a full re-read is the only check)."""
        return None

    async def prepare(self) -> None:
        """Learn what ``domain_filter`` needs (e.g. Route 53's zones) before serving it; most need nothing."""
        return None

    def dropped_packets(self) -> dict[str, int]:
        """Packets the provider's own server dropped unanswered, by reason (the local provider's
        DNS server); exported as ``kumo_dns_dropped_packets_total``."""
        return {}

    async def close(self) -> None:
        return None
