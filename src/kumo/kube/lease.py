"""LeaseLock: mutual exclusion through a coordination.k8s.io/v1 Lease, as client-go's leader election.

Every write carries the resourceVersion it read, so two contenders can never both win: the loser
gets 409 Conflict and reports False. A holder that stops renewing (crashed, killed) loses the lease
once ``renewTime + leaseDurationSeconds`` passes, so nobody ever has to unlock by hand.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from kumo.kube.client import KubeClient, Obj
from kumo.kube.errors import Conflict
from kumo.kube.timefmt import format_micro, now, parse_time

API_VERSION = "coordination.k8s.io/v1"


#: The pid that identities show when it is not this process's: a command run by kumo's resident
#: server (kumo.cli.server) shows its client's, the ``kumo`` process a person started and can find.
_shown_pid: int | None = None


def show_pid(pid: int) -> None:
    """Name ``pid`` instead of this process in identities (see ``default_identity``)."""
    global _shown_pid
    _shown_pid = pid


def default_identity() -> str:
    """``user@host/pid``: enough for a person to find the process that holds a lock."""
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}/{_shown_pid or os.getpid()}"


@dataclass(frozen=True)
class LeaseHolder:
    identity: str
    renew_time: datetime | None
    duration_seconds: int

    @property
    def expires_at(self) -> datetime | None:
        return self.renew_time + timedelta(seconds=self.duration_seconds) if self.renew_time else None

    @property
    def expired(self) -> bool:
        expiry = self.expires_at
        return expiry is None or expiry <= now()

    def __str__(self) -> str:
        return self.identity


class LeaseLock:
    def __init__(
        self,
        client: KubeClient,
        name: str,
        namespace: str,
        holder: str | None = None,
        duration_seconds: int = 15,
    ) -> None:
        self.client = client
        self.name = name
        self.namespace = namespace
        self.holder = holder or default_identity()
        self.duration_seconds = duration_seconds
        #: Set by try_acquire when it took over an expired lease from someone else.
        self.took_over_from: LeaseHolder | None = None
        self._lease: Obj | None = None

    @property
    def held(self) -> bool:
        return self._lease is not None

    async def holder_of(self) -> LeaseHolder | None:
        """The current holder (expired or not), or None when the lease is absent or released."""
        return lease_holder(await self._read())

    async def try_acquire(self) -> bool:
        """Take the lease when it is absent, released or expired; keep it when we hold it."""
        lease = await self._read()
        if lease is None:
            try:
                self._lease = await self.client.create(self._body(None, transitions=0))
            except Conflict:
                return False
            self.took_over_from = None
            return True
        current = lease_holder(lease)
        if current is not None and current.identity == self.holder:
            return await self._write(lease, transitions=_transitions(lease))
        if current is not None and not current.expired:
            return False
        if await self._write(lease, transitions=_transitions(lease) + 1, acquire=True):
            self.took_over_from = current
            return True
        return False

    async def renew(self) -> bool:
        """Extend our hold; False (and no longer held) when someone else has it now."""
        lease = await self._read()
        current = lease_holder(lease)
        if lease is None or current is None or current.identity != self.holder:
            self._lease = None
            return False
        return await self._write(lease, transitions=_transitions(lease))

    async def release(self) -> None:
        """Give the lease up at once, so the next contender need not wait for expiry.

        The write carries the version of our last write, so it needs no read first: a Conflict
        means the Lease changed since (a renewal whose answer was lost, or another holder), and
        only then is it read to see whether it is still ours."""
        held, self._lease = self._lease, None
        if held is not None:
            with contextlib.suppress(Conflict):
                await self.client.replace(_released(held))
                return
        lease = await self._read()
        current = lease_holder(lease)
        if lease is None or current is None or current.identity != self.holder:
            return
        with contextlib.suppress(Conflict):
            await self.client.replace(_released(lease))

    async def _read(self) -> Obj | None:
        return await self.client.get(API_VERSION, "Lease", self.name, self.namespace)

    async def _write(self, lease: Obj, transitions: int, acquire: bool = False) -> bool:
        body = self._body(lease, transitions, acquire)
        try:
            self._lease = await self.client.replace(body)
        except Conflict:
            self._lease = None
            return False
        return True

    def _body(self, lease: Obj | None, transitions: int, acquire: bool = True) -> Obj:
        stamp = format_micro(now())
        spec = dict((lease or {}).get("spec") or {})
        spec.update(
            holderIdentity=self.holder,
            leaseDurationSeconds=self.duration_seconds,
            renewTime=stamp,
            leaseTransitions=transitions,
        )
        if acquire or "acquireTime" not in spec:
            spec["acquireTime"] = stamp
        metadata: Obj = {"name": self.name, "namespace": self.namespace}
        if lease is not None:
            metadata = dict(lease.get("metadata") or {})
        return {"apiVersion": API_VERSION, "kind": "Lease", "metadata": metadata, "spec": spec}


def lease_holder(lease: Obj | None) -> LeaseHolder | None:
    """Who holds a Lease object, and until when; None when nobody does."""
    if lease is None:
        return None
    spec = lease.get("spec") or {}
    identity = spec.get("holderIdentity")
    if not identity:
        return None
    return LeaseHolder(
        identity=str(identity),
        renew_time=parse_time(spec.get("renewTime") or spec.get("acquireTime")),
        duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
    )


def _released(lease: Obj) -> Obj:
    spec = dict(lease.get("spec") or {})
    spec.pop("holderIdentity", None)
    spec["leaseDurationSeconds"] = 1
    spec["renewTime"] = format_micro(now())
    return {**lease, "spec": spec}


def _transitions(lease: Obj) -> int:
    return int((lease.get("spec") or {}).get("leaseTransitions") or 0)
