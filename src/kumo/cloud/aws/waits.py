"""Long waits with a timeout and a progress line that says elapsed time against what is usual.

Real EKS takes 10-15 minutes to create a cluster; moto is instant. Each poll is one read call, so
Ctrl-C at any moment leaves nothing that a second ``apply`` cannot carry on from.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kumo.cloud.aws.context import Ctx
from kumo.errors import ProviderError


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def wait_for(
    ctx: Ctx,
    what: str,
    read: Callable[[], str],
    done: set[str],
    failed: set[str],
    usual: str,
    timeout: float,
) -> str:
    """Poll ``read`` until it returns a state in ``done``; raise on ``failed`` or on the timeout."""
    start = time.monotonic()
    interval = min(1.0, ctx.waits.poll)
    last = ""
    printed = start
    while True:
        state = read()
        elapsed = time.monotonic() - start
        if state in done:
            if elapsed >= 1:
                ctx.reporter.line(f"    {what}: {state} after {duration(elapsed)} (usually {usual})")
            return state
        if state in failed:
            raise ProviderError(f"{what} is {state}", "See the AWS console for the reason.")
        if elapsed > timeout:
            raise ProviderError(
                f"{what} is still {state} after {duration(elapsed)} (timeout {duration(timeout)})",
                "Run `kumo cloud apply` again to keep waiting; it carries on where it stopped.",
            )
        if state != last or time.monotonic() - printed >= 30:
            ctx.reporter.line(f"    {what}: {state}, {duration(elapsed)} elapsed (usually {usual})")
            last, printed = state, time.monotonic()
        (ctx.sleep or time.sleep)(interval)
        interval = min(interval * 2, ctx.waits.poll)
