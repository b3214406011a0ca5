"""An in-memory provider with the same strictness as a real one: creating an existing record or
changing a missing one fails that group."""

from __future__ import annotations

from kumo.dns.endpoint import Endpoint, EndpointKey
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes
from kumo.dns.providers.base import ApplyResult, Provider, group_changes


class InMemoryProvider(Provider):
    name = "inmemory"

    def __init__(self, zones: list[str] | None = None, domain_filter: DomainFilter | None = None) -> None:
        super().__init__()
        self.zones = [z.rstrip(".").lower() for z in (zones or [])]
        self._filter = domain_filter or DomainFilter()
        self.store: dict[EndpointKey, Endpoint] = {}

    def domain_filter(self) -> DomainFilter:
        if self.zones:
            return DomainFilter.of(self.zones)
        return self._filter

    def _in_zone(self, name: str) -> bool:
        return not self.zones or any(name == z or name.endswith("." + z) for z in self.zones)

    async def records(self) -> list[Endpoint]:
        self.calls += 1
        return [ep.copy() for ep in self.store.values()]

    def _check(self, changes: Changes) -> str | None:
        for ep in changes.create:
            if not self._in_zone(ep.dns_name):
                return f"{ep.dns_name}: not in a managed zone"
            if ep.key in self.store:
                return f"{ep}: already exists"
        for ep in [*changes.update_old, *changes.delete]:
            if ep.key not in self.store:
                return f"{ep}: does not exist"
        return None

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        self.calls += 1
        result = ApplyResult()
        for key, group in group_changes(changes).items():
            problem = self._check(group)
            if problem:
                result.failed[key] = problem
                continue
            for ep in group.delete:
                del self.store[ep.key]
            for old in group.update_old:
                del self.store[old.key]
            for ep in [*group.update_new, *group.create]:
                stored = ep.copy()
                stored.labels = {}
                self.store[stored.key] = stored
        return result
