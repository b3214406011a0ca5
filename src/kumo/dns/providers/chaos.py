"""A provider wrapper that fails at random: for fault-injection tests and the sandbox's chaos mode.

Whole calls fail with ``error_rate``; single change groups fail with ``group_error_rate`` (the rest of
the call still goes through, as with a real provider rejecting one record).
"""

from __future__ import annotations

import random

from kumo.dns.endpoint import Endpoint
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes
from kumo.dns.providers.base import ApplyResult, Provider, group_changes
from kumo.errors import ProviderError


class FlakyProvider(Provider):
    def __init__(
        self, inner: Provider, error_rate: float = 0.0, group_error_rate: float = 0.0, seed: int | None = None
    ) -> None:
        super().__init__()
        self.inner = inner
        self.name = f"flaky-{inner.name}"
        self.error_rate = error_rate
        self.group_error_rate = group_error_rate
        self.rng = random.Random(seed)
        self.injected = 0

    @property
    def calls(self) -> int:
        return self.inner.calls

    @calls.setter
    def calls(self, value: int) -> None:
        pass

    def _maybe_fail(self, what: str) -> None:
        if self.rng.random() < self.error_rate:
            self.injected += 1
            raise ProviderError(f"injected failure in {what}")

    async def records(self) -> list[Endpoint]:
        self._maybe_fail("records")
        return await self.inner.records()

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        self._maybe_fail("apply_changes")
        passed = Changes()
        result = ApplyResult()
        for key, group in group_changes(changes).items():
            if self.rng.random() < self.group_error_rate:
                self.injected += 1
                result.failed[key] = "injected failure of this group"
            else:
                passed.extend(group)
        if passed:
            result.merge(await self.inner.apply_changes(passed))
        return result

    def adjust_endpoints(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        return self.inner.adjust_endpoints(endpoints)

    async def adjust(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        return await self.inner.adjust(endpoints)

    def domain_filter(self) -> DomainFilter:
        return self.inner.domain_filter()

    async def close(self) -> None:
        await self.inner.close()
