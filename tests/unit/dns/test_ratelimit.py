from __future__ import annotations

import itertools

from kumo.dns.providers.ratelimit import TokenBucket, backoff_delay


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_token_bucket_spaces_calls_at_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(5.0, burst=1, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(11):
        await bucket.acquire()
        stamps.append(t.now)
    assert stamps[0] == 0.0
    assert abs(stamps[-1] - 2.0) < 1e-9  # 10 more calls at 5/s take 2 simulated seconds
    assert all(b - a >= 0.2 - 1e-9 for a, b in itertools.pairwise(stamps))


async def test_burst_then_rate_and_disabled() -> None:
    t = FakeTime()
    bucket = TokenBucket(2.0, burst=4, clock=t.clock, sleep=t.sleep)
    for _ in range(4):
        await bucket.acquire()
    assert t.now == 0.0
    await bucket.acquire()
    assert abs(t.now - 0.5) < 1e-9
    off = TokenBucket(0, clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        await off.acquire()
    assert abs(t.now - 0.5) < 1e-9


def test_backoff_is_capped_jitter() -> None:
    for attempt in range(20):
        assert 0 <= backoff_delay(attempt, base=0.2, cap=10) <= 10
