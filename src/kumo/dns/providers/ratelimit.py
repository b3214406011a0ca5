"""Client-side rate limiting and backoff, so kumo stays under a provider's account-wide quota
(Route 53 allows 5 requests/s per account, shared with every other tool in it)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """``rate`` tokens per second, up to ``burst`` saved. ``rate <= 0`` disables limiting."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self.waited = 0.0

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            delay = (1 - self._tokens) / self.rate
            self.waited += delay
            await self.sleep(delay)
            # the token we waited for is spent at once (re-reading the clock could loop on rounding)
            self._tokens = 0.0
            self._stamp = self.clock()


def backoff_delay(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Full-jitter exponential backoff (the AWS architecture blog's recommendation)."""
    return float(random.uniform(0, min(cap, base * (2**attempt))))
