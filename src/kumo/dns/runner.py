"""Running the controller against a cluster: informers, leader election, the loop, /metrics and /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.health import HealthServer
from kumo.dns.providers.base import Provider
from kumo.dns.serving import mark_serving
from kumo.dns.sources import SOURCES, slim_context
from kumo.dns.sources.common import slim
from kumo.dns.zoneconfig import ZoneOwners, parse_configmap
from kumo.errors import ClusterError
from kumo.kube import Informer, KubeClient, LeaseLock, connect, default_identity, record_event
from kumo.kube.timefmt import now
from kumo.sourcekinds import Watch

log = logging.getLogger("kumo.dns.runner")


@dataclass
class RunOptions:
    sources: list[str] = field(default_factory=lambda: ["service"])
    config: ControllerConfig = field(default_factory=ControllerConfig)
    kubeconfig: str | None = None
    context: str | None = None
    interval: float = 60.0
    resync_period: float = 3600.0
    min_event_interval: float = 0.2
    once: bool = False
    leader_elect: bool = False
    lease_name: str = "kumo-dns-controller"
    lease_namespace: str = "default"
    lease_duration: int = 15
    identity: str = field(default_factory=default_identity)
    metrics_address: str | None = None
    #: (namespace, name) of the ConfigMap every release registers its zone in (kumo.dns.zoneconfig)
    zones_configmap: tuple[str, str] | None = None
    sync_timeout: float = 60.0
    #: The local provider in a cluster: this Pod (POD_NAME, in lease_namespace) is labelled as the
    #: one serving DNS while it leads, for the Service in front (see kumo.dns.serving).
    serving_pod: str | None = None


class DnsRunner:
    def __init__(self, provider: Provider, options: RunOptions, client: KubeClient | None = None) -> None:
        self.provider = provider
        self.options = options
        self.client = client
        self._own_client = client is None
        self.controller = Controller(provider, options.config, events=self._event)
        self.controller.metrics.dropped_packets.source = provider.dropped_packets
        self.controller.is_leader = not options.leader_elect
        self.informers: list[Informer] = []
        self.lock: LeaseLock | None = None
        self.health: HealthServer | None = None
        self._need_resync = True
        self._last_resync = 0.0
        self._last_drift_check = time.monotonic()
        self._tasks: list[asyncio.Task[Any]] = []
        self.started = asyncio.Event()
        self._marked_serving: bool | None = None  # what the Pod's serving label says, when known

    async def _event(self, obj: dict[str, Any], reason: str, message: str, type_: str) -> None:
        if self.client is not None and not self.options.config.dry_run:
            await record_event(self.client, obj, reason, message, type=type_, component="kumo-dns")

    def _slim(self, obj: dict[str, Any]) -> dict[str, Any]:
        return slim(obj, self.options.config.source)

    async def _connect(self) -> KubeClient:
        if self.client is None:
            self.client = await connect(self.options.kubeconfig, self.options.context)
        return self.client

    def _make_informers(self, client: KubeClient) -> None:
        if self.options.zones_configmap is not None:
            self._watch_zones(client, *self.options.zones_configmap)
        cfg = self.options.config.source
        selector = cfg.label_filter.selector()
        context: list[Watch] = []
        for name in self.options.sources:
            source = SOURCES[name]
            api_version, kind = source.api_version, source.kind
            informer = Informer(client, api_version, kind, cfg.namespace, selector, transform=self._slim)

            def handler(
                event: str, obj: dict[str, Any], old: dict[str, Any] | None, kind: str = kind
            ) -> None:
                self.controller.on_object(kind, event, obj)

            informer.add_handler(handler)
            self.informers.append(informer)
            context.extend(w for w in source.context(cfg) if w not in context)
        for watch in context:
            # read in --namespace (Gateways: everywhere, routes name them across namespaces), without
            # the label filter, which selects the objects that ask for names
            namespace = None if watch.cluster_scoped or watch.kind == "Gateway" else cfg.namespace
            informer = Informer(
                client,
                watch.api_version,
                watch.kind,
                namespace,
                watch.label_selector,
                transform=self._slim_context(watch.kind),
            )

            def on_context(
                event: str, obj: dict[str, Any], old: dict[str, Any] | None, kind: str = watch.kind
            ) -> None:
                self.controller.on_object(kind, event, obj)

            informer.add_handler(on_context)
            self.informers.append(informer)

    def _slim_context(self, kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        if kind == "Gateway":
            return self._slim
        prefix = self.options.config.source.annotation_prefix
        return lambda obj: slim_context(kind, obj, prefix)

    def _watch_zones(self, client: KubeClient, namespace: str, name: str) -> None:
        """Serve the zones the releases register, from the watch: no restart when one is added."""
        self.controller.set_zones(ZoneOwners())  # nothing is served until a release registers
        zones = Informer(client, "v1", "ConfigMap", namespace)

        def on_change(event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            if (obj.get("metadata") or {}).get("name") != name:
                return
            self.controller.set_zones(parse_configmap(None if event == "DELETED" else obj))

        zones.add_handler(on_change)
        self.informers.append(zones)

    async def run(self) -> int:
        """Run until cancelled (or one pass with ``once``). Returns an exit code."""
        client = await self._connect()
        try:
            self._make_informers(client)
            for informer in self.informers:
                self._tasks.append(asyncio.create_task(informer.run()))
            for informer in self.informers:
                await informer.wait_synced(self.options.sync_timeout)
            if self.options.once:
                return await self._once()
            if self.options.metrics_address:
                self.health = HealthServer(self.controller, self.options.metrics_address)
                await self.health.start()
            if self.options.leader_elect:
                self.lock = LeaseLock(
                    client,
                    self.options.lease_name,
                    self.options.lease_namespace,
                    self.options.identity,
                    self.options.lease_duration,
                )
                self._tasks.append(asyncio.create_task(self._lead()))
            else:
                await self._mark_serving()  # the only replica leads from the start
            self.started.set()
            await self._loop()
            return 0
        finally:
            await self.stop()

    async def _once(self) -> int:
        ctrl = self.controller
        await ctrl.resync()
        for _ in range(10):
            if not ctrl.dirty:
                break
            await ctrl.reconcile()
        if ctrl.failures:
            for name, message in sorted(ctrl.failures.items()):
                log.error("%s: %s", name, message)
            return 1
        return 0

    async def _loop(self) -> None:
        ctrl = self.controller
        while True:
            if ctrl.is_leader or self.options.config.dry_run:
                now = time.monotonic()
                if not self._need_resync and now - self._last_drift_check >= self.options.interval:
                    self._last_drift_check = now
                    self._need_resync = await self._drifted()
                if self._need_resync or now - self._last_resync >= self.options.resync_period:
                    try:
                        await ctrl.resync()
                        self._need_resync = False
                        self._last_resync = now
                    except Exception as exc:
                        log.warning("reading the provider failed: %s", exc)
                        ctrl.last_error = str(exc)
                        if ctrl.failing_since is None:
                            ctrl.failing_since = ctrl.clock()
                        await asyncio.sleep(min(self.options.interval, 5.0))
                        continue
                if ctrl.has_work():
                    try:
                        await ctrl.reconcile()
                    except Exception as exc:  # never crash-loop: log, account, retry later
                        log.exception("reconcile failed")
                        ctrl.last_error = str(exc)
                        if ctrl.failing_since is None:
                            ctrl.failing_since = ctrl.clock()
                    if ctrl.dirty:
                        continue
            await self._wait()

    async def _drifted(self) -> bool:
        """The provider's cheap drift probe (Route 53: GetHostedZone record counts), each --interval."""
        try:
            return bool(await self.controller.provider.drifted())
        except Exception as exc:
            log.warning("checking the zone for changes made outside kumo failed: %s", exc)
            return False
        finally:
            self.controller.count_calls()

    async def _wait(self) -> None:
        ctrl = self.controller
        timeout = self.options.interval
        due = ctrl.next_wakeup()
        if due is not None:
            timeout = max(0.0, min(timeout, due - ctrl.clock()))
        if self.options.resync_period:
            timeout = min(
                timeout, max(0.0, self._last_resync + self.options.resync_period - time.monotonic())
            )
        ctrl.wake.clear()
        writer = ctrl.is_leader or self.options.config.dry_run
        if ctrl.dirty and writer:
            await asyncio.sleep(0)
            return
        if not writer:
            # a standby wakes only for timers and leadership changes, not for each event it caches
            timeout = self.options.interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctrl.wake.wait(), timeout)
        if self.options.min_event_interval:
            # gather the burst of events one change usually causes into one provider call
            await asyncio.sleep(self.options.min_event_interval)

    async def _lead(self) -> None:
        assert self.lock is not None
        period = max(0.2, self.options.lease_duration / 3)
        # as client-go's renewDeadline (10s of a 15s lease): a leader that cannot renew steps down
        # well before its Lease expires and a standby may take it
        renew_deadline = self.options.lease_duration * 2 / 3
        last_ok = 0.0
        while True:
            pause = period
            try:
                # bounded: a hung call must not keep this process leading past its deadline
                held = await asyncio.wait_for(self.lock.try_acquire(), period)
                if held:
                    last_ok = time.monotonic()
            except Exception as exc:
                log.warning("leader election: %s", exc)
                held = self.controller.is_leader and time.monotonic() - last_ok < renew_deadline
            if held and not self.controller.is_leader:
                log.info("%s became the leader", self.options.identity)
                self.controller.is_leader = True
                self._need_resync = True  # the previous leader changed the zone since we last read it
                self.controller.wake.set()
            elif not held and self.controller.is_leader:
                log.info("%s lost the lease; standing by", self.options.identity)
                self.controller.is_leader = False
            self.controller.metrics.is_leader.set(1 if self.controller.is_leader else 0)
            await self._mark_serving()
            if self.controller.is_leader:
                pause = max(0.02, min(period, last_ok + renew_deadline - time.monotonic()))
            else:
                with contextlib.suppress(Exception):
                    pause = await asyncio.wait_for(self._until_expiry(period), period)
            await asyncio.sleep(pause)

    async def _mark_serving(self) -> None:
        """Keep this Pod's serving label in step with leadership; a failure is retried next period."""
        pod = self.options.serving_pod
        if pod is None or self.client is None or self._marked_serving == self.controller.is_leader:
            return
        try:
            await asyncio.wait_for(
                mark_serving(self.client, self.options.lease_namespace, pod, self.controller.is_leader),
                self.options.lease_duration / 3,
            )
            self._marked_serving = self.controller.is_leader
        except Exception as exc:
            log.warning(
                "labelling pod %s as %sserving DNS: %s", pod, "" if self.controller.is_leader else "not ", exc
            )

    async def _until_expiry(self, period: float) -> float:
        """How long a standby waits before trying again: the period, or less when the Lease expires sooner.

        A dead leader's Lease is taken right when it expires, not up to a period later.
        """
        assert self.lock is not None
        holder = await self.lock.holder_of()
        expires = holder.expires_at if holder is not None else None
        if expires is None:
            return 0.02 if holder is None else period  # released: another try at once (not a spin)
        remaining = (expires - now()).total_seconds()
        return min(period, max(0.02, remaining + 0.02))

    async def stop(self, release: bool = True) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.lock is not None and release and self.lock.held:
            with contextlib.suppress(Exception):
                await self.lock.release()
        if self.health is not None:
            await self.health.stop()
            self.health = None
        if self._own_client and self.client is not None:
            await self.client.close()
            self.client = None


async def run_controller(provider: Provider, options: RunOptions) -> int:
    runner = DnsRunner(provider, options)
    try:
        return await runner.run()
    except ClusterError:
        raise
    finally:
        await provider.close()
