"""The release lock: a Lease per release, held while kumo writes, renewed in the background.

There is no unlock command by design: a run that dies stops renewing, its lease expires after
``duration`` seconds, and the next run takes over and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from kumo.errors import ClusterError
from kumo.kube import KubeClient, LeaseHolder, LeaseLock

log = logging.getLogger(__name__)

DEFAULT_DURATION = 15


def lease_name(release: str) -> str:
    return f"kumo-release-{release}"


def _clock(holder: LeaseHolder) -> str:
    expiry = holder.expires_at
    return expiry.strftime("%H:%M:%S UTC") if expiry else "unknown"


class DeployLock:
    def __init__(
        self,
        client: KubeClient,
        release: str,
        namespace: str,
        *,
        duration_seconds: int = DEFAULT_DURATION,
        timeout_seconds: float = 120.0,
        on_message: Callable[[str], None] | None = None,
        holder: str | None = None,
    ) -> None:
        self.release_name = release
        self.lease = LeaseLock(client, lease_name(release), namespace, holder, duration_seconds)
        self.timeout_seconds = timeout_seconds
        self._say = on_message or (lambda _m: None)
        self._renewer: asyncio.Task[None] | None = None
        self.lost = False

    @property
    def holder(self) -> str:
        return self.lease.holder

    async def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        waiting_for: str | None = None
        poll = min(0.5, max(0.1, self.lease.duration_seconds / 6))
        while True:
            if await self.lease.try_acquire():
                previous = self.lease.took_over_from
                if previous is not None:
                    self._say(
                        f"took over the lock of release {self.release_name} from {previous.identity}, "
                        f"whose lease expired at {_clock(previous)} (that run stopped without finishing)"
                    )
                self._renewer = asyncio.create_task(self._renew_loop())
                return
            current = await self.lease.holder_of()
            if current is None:
                continue
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"release {self.release_name} is locked by {current.identity} "
                    "(another kumo run is deploying it; its lease expires at "
                    f"{_clock(current)} unless renewed); gave up after "
                    f"{self.timeout_seconds:g}s",
                    "Wait for that run to finish, or pass a longer --lock-timeout. "
                    f"A run that crashed releases the lock by itself within {self.lease.duration_seconds}s.",
                )
            if waiting_for != current.identity:
                waiting_for = current.identity
                self._say(
                    f"waiting for the lock of release {self.release_name}, held by {current.identity} "
                    f"(expires at {_clock(current)} unless renewed)"
                )
            await asyncio.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def check(self) -> None:
        """Raise before a write when the lease was lost (e.g. the process stalled past its expiry)."""
        if self.lost:
            raise ClusterError(
                f"lost the lock of release {self.release_name} (the lease was not renewed in time "
                "and another run took it); stopped before writing more"
            )

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        # When the API stopped answering, releasing would only wait out another timeout: the
        # lease expires by itself.
        if not self.lost and not self.lease.client.unanswered_for():
            with contextlib.suppress(ClusterError):
                await self.lease.release()

    async def _renew_loop(self) -> None:
        interval = max(0.2, self.lease.duration_seconds / 3)
        failures = 0
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.lease.renew():
                    self.lost = True
                    return
                failures = 0
            except ClusterError as exc:  # the API was briefly unreachable; the next renewal may work
                failures += 1  # one warning per outage, not one per attempt
                log.log(
                    logging.WARNING if failures == 1 else logging.DEBUG, "renewing the lock failed: %s", exc
                )
