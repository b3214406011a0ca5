"""The controller core: incremental, cache-backed, one bad object or record never stops the others.

It is fed object events (from informers, see ``kumo.dns.runner``) and works with the parts in
``kumo.dns.state`` and a registry (``kumo.dns.registry``: TXT or noop, behind one protocol):
- ``DesiredIndex``: desired endpoints per object, indexed by name;
- ``RecordCache``: the provider's records per name, read once and then updated from kumo's own
  successful changes;
- ``RetrySchedule``: failed names and when each is retried.

An event recomputes the object's endpoints; only names whose endpoints changed become dirty, and
only dirty names are planned. When nothing changed the provider gets no call. A full resync (a fresh
read of the provider) repairs drift made outside kumo.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ctypes
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kumo.dns.endpoint import (
    MANAGED_TYPES,
    RECORD_TXT,
    Endpoint,
)
from kumo.dns.filters import DomainFilter
from kumo.dns.metrics import DnsMetrics
from kumo.dns.plan import Changes, Policy, plan
from kumo.dns.providers.base import ApplyResult, Provider, group_key
from kumo.dns.registry import NameMapper, NameView, NoopRegistry, Registry, TXTRegistry
from kumo.dns.sources import (
    BY_KIND,
    CONTEXT_KINDS,
    SourceConfig,
    SourceContext,
    endpoints_for,
    merge_service_endpoints,
)
from kumo.dns.state import DesiredIndex, ObjKey, RecordCache, RetrySchedule
from kumo.dns.zoneconfig import ZoneOwners

log = logging.getLogger("kumo.dns.controller")

EventSink = Callable[[dict[str, Any], str, str, str], Awaitable[None]]


@dataclass
class ControllerConfig:
    owner_id: str = "default"
    policy: Policy = Policy.sync
    registry: str = "txt"  # txt | noop
    txt_prefix: str = ""
    txt_suffix: str = ""
    txt_wildcard_replacement: str = ""
    txt_encrypt_enabled: bool = False
    txt_encrypt_aes_key: bytes = b""
    txt_owner_old: str = ""  # --migrate-from-txt-owner
    source: SourceConfig = field(default_factory=SourceConfig)
    domain_filter: DomainFilter = field(default_factory=DomainFilter)
    managed_types: frozenset[str] = MANAGED_TYPES
    dry_run: bool = False
    delete_grace_period: float = 0.0
    health_threshold: float = 300.0
    # planned per pass: the first sync of 10,000 Services in four passes, not one (the transient plan,
    # views and change sets of every name at once were its peak), at most one part-full batch a pass
    max_names_per_pass: int = 2500
    retry_base: float = 1.0
    retry_cap: float = 300.0


@dataclass
class _Grace:
    deadline: float
    endpoints: list[Endpoint]


def release_freed_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc's ``malloc_trim``) after a pass over
    thousands of names: glibc keeps them otherwise, and the pass's transient plan stays in the RSS.
    A no-op where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _log_change(action: str, ep: Endpoint) -> None:
    # One line per record an operator cares about; the ownership TXT beside it goes to debug.
    log.log(logging.DEBUG if ep.record_type == RECORD_TXT else logging.INFO, "%s %s", action, ep)


def obj_key(kind: str, obj: dict[str, Any]) -> ObjKey:
    meta = obj.get("metadata") or {}
    return kind, str(meta.get("namespace") or ""), str(meta.get("name") or "")


class Controller:
    def __init__(
        self,
        provider: Provider,
        config: ControllerConfig | None = None,
        *,
        events: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: DnsMetrics | None = None,
    ) -> None:
        self.provider = provider
        self.config = config or ControllerConfig()
        self.events = events
        self.clock = clock
        self.metrics = metrics or DnsMetrics()
        self.registry: Registry
        if self.config.registry == "txt":
            cfg = self.config
            mapper = NameMapper(cfg.txt_prefix, cfg.txt_suffix, cfg.txt_wildcard_replacement)
            self.registry = TXTRegistry(
                cfg.owner_id,
                mapper,
                aes_key=cfg.txt_encrypt_aes_key,
                encrypt=cfg.txt_encrypt_enabled,
                old_owner_id=cfg.txt_owner_old,
            )
        else:
            self.registry = NoopRegistry(self.config.managed_types)
        self.owner = self.registry.owner
        #: with --zones-configmap: the zones of every release and their owner ids (else None)
        self.zone_owners: ZoneOwners | None = None
        self._registries: dict[str, TXTRegistry] = {}
        self._retired = ZoneOwners()
        # desired side
        self.desired = DesiredIndex()
        self.grace: dict[ObjKey, _Grace] = {}
        self._problems: dict[ObjKey, tuple[str, ...]] = {}
        self._objs: dict[ObjKey, dict[str, Any]] = {}
        # the objects whose targets come from context kinds (routes, NodePort and headless Services):
        # a Pod or Node event looks at these only, not at every Service
        self._context_readers: set[ObjKey] = set()
        #: what sources read besides their objects: Gateways, Nodes, Pods, EndpointSlices
        self.context = SourceContext()
        # provider side
        self.cache = RecordCache()
        # work
        self.dirty: set[str] = set()
        self.retries = RetrySchedule(self.config.retry_base, self.config.retry_cap)
        self.wake = asyncio.Event()
        self.is_leader = True
        self.last_success: float | None = None
        self.failing_since: float | None = None
        self.last_error = ""
        self.applied_changes = 0
        self.planned: list[Changes] = []  # dry-run output
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._calls_counted = provider.calls

    # the parts' state under the names the runner, the status view and the tests read
    @property
    def provider_loaded(self) -> bool:
        return self.cache.loaded

    @provider_loaded.setter
    def provider_loaded(self, value: bool) -> None:
        self.cache.loaded = value

    @property
    def by_name(self) -> dict[str, dict[ObjKey, list[Endpoint]]]:
        return self.desired.by_name

    @property
    def failures(self) -> dict[str, str]:
        return self.retries.failures

    @property
    def retry_at(self) -> dict[str, float]:
        return self.retries.due_at

    # ------------------------------------------------------------------ desired side (object events)

    def on_object(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        """Handle an informer event; marks dirty only the names whose desired endpoints changed."""
        if kind in CONTEXT_KINDS:
            self._on_context(kind, event, obj)
            return
        key = obj_key(kind, obj)
        if event == "DELETED":
            self._objs.pop(key, None)
            self._context_readers.discard(key)
            self.grace.pop(key, None)
            self._problems.pop(key, None)
            self._set_desired(key, [])
            return
        self._objs[key] = obj
        try:
            source = BY_KIND.get(kind)
            if source is not None and source.reads_context(obj):
                self._context_readers.add(key)
            else:
                self._context_readers.discard(key)
            result = endpoints_for(kind, obj, self.config.source, self.context)
        except Exception as exc:  # a malformed object must not stop the others
            log.warning("%s %s/%s: cannot read: %s", kind, key[1], key[2], exc)
            self.metrics.source_errors.inc()
            self._report(key, obj, (f"kumo cannot read this object: {exc}",))
            return
        self._report(key, obj, tuple(result.problems))
        new = result.endpoints
        old = self.desired.get(key)
        grace = self.config.delete_grace_period
        if grace > 0 and old and self._lost_address(kind, obj, new, old):
            held = self.grace.get(key)
            if held is None:
                self.grace[key] = _Grace(self.clock() + grace, old)
                log.info(
                    "%s %s/%s lost its address; keeping its records for %.0fs", kind, key[1], key[2], grace
                )
            return
        self.grace.pop(key, None)
        self._set_desired(key, new)

    def _on_context(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        """A Gateway, Node, Pod or EndpointSlice changed: rebuild the objects whose targets it gives."""
        affects = self.context.update(kind, event, obj)
        if affects is None:
            return
        for key in list(self._context_readers):
            source_obj = self._objs[key]
            if affects(key[0], source_obj):
                self.on_object(key[0], "MODIFIED", source_obj)

    def _lost_address(self, kind: str, obj: dict[str, Any], new: list[Endpoint], old: list[Endpoint]) -> bool:
        """True when the object still asks for names it had, but has no address for them now."""
        new_names = {e.dns_name for e in new}
        lost = {e.dns_name for e in old} - new_names
        if not lost:
            return False
        # ask the source again as if the object had an address: the names it still requests
        probe = copy.deepcopy(obj)
        meta = probe.setdefault("metadata", {})
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            return False
        annotations[self.config.source.annotation_prefix + "target"] = "192.0.2.1"
        requested = {
            e.dns_name for e in endpoints_for(kind, probe, self.config.source, self.context).endpoints
        }
        return lost <= requested

    def _set_desired(self, key: ObjKey, endpoints: list[Endpoint]) -> None:
        self._mark(self.desired.set(key, endpoints))

    def _mark(self, names: Iterable[str]) -> None:
        before = len(self.dirty)
        self.dirty.update(names)
        if len(self.dirty) != before:
            self.metrics.dirty_names.set(len(self.dirty))
            self.wake.set()

    def _report(self, key: ObjKey, obj: dict[str, Any], problems: tuple[str, ...]) -> None:
        if self._problems.get(key, ()) == problems:
            return
        self._problems[key] = problems
        if not problems:
            return
        self.metrics.source_problems.inc(len(problems))
        for problem in problems:
            log.warning("%s %s/%s: %s", key[0], key[1], key[2], problem)
        if self.events is not None:
            body = {
                "apiVersion": obj.get("apiVersion") or _api_version(key[0]),
                "kind": key[0],
                **obj,
            }
            self._spawn(self.events(body, "InvalidDNSAnnotation", "; ".join(problems), "Warning"))

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:
                log.warning("recording an event failed: %s", exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ provider side

    async def resync(self) -> None:
        """Read the provider afresh and mark every relevant name dirty (repairs drift)."""
        try:
            await self.cache.replace_pages(self.provider.record_pages())
        finally:
            self.count_calls()
        self.metrics.resyncs.inc()
        release_freed_memory()
        if not self.retries:
            self.failing_since = None  # the provider answers again; pending retries decide the rest
        self._mark(self._relevant_names())
        self._update_gauges()

    def _relevant_names(self) -> set[str]:
        names = set(self.desired.by_name)
        for grace in self.grace.values():
            names.update(e.dns_name for e in grace.endpoints)
        for ep in self.cache.endpoints():
            claimed = self._claimed(ep)
            if claimed:
                names.add(claimed)
        return names

    def _claimed(self, ep: Endpoint) -> str | None:
        """The name whose ownership TXT ``ep`` is, when the owner it names is that name's owner."""
        if self.zone_owners is None or not isinstance(self.registry, TXTRegistry):
            return self.registry.claimed_name(ep)
        name, _ = self.registry.mapper.endpoint_name(ep.dns_name)
        return self._registry_for(self._owner_of(name)).claimed_name(ep) if name else None

    # -- zones of every release (kumo.dns.zoneconfig); without them, the flags' owner and filter

    def set_zones(self, zones: ZoneOwners) -> None:
        """Serve these zones, each with its owner id, from now on (picked up by watch, no restart)."""
        if zones == self.zone_owners:
            return
        # A zone whose release went away stays in scope for deletion only: its Services may have
        # been deleted a moment before the zone, and their records must not be left behind.
        before = dict(self.zone_owners.zones) if self.zone_owners is not None else {}
        retired = {**self._retired.zones, **{z: o for z, o in before.items() if z not in zones.zones}}
        self._retired = ZoneOwners({z: o for z, o in retired.items() if z not in zones.zones})
        log.info(
            "serving zones %s",
            ", ".join(f"{z} (owner {o})" for z, o in sorted(zones.zones.items())) or "(none yet)",
        )
        self.zone_owners = zones
        self._mark(self._relevant_names())
        self.wake.set()

    def _owner_of(self, name: str) -> str:
        if self.zone_owners is None or not self.owner:
            return self.owner
        return self.zone_owners.owner_of(name) or self._retired.owner_of(name) or ""

    def _in_zones(self, name: str) -> bool:
        return self.zone_owners is None or self.zone_owners.zone_of(name) is not None or self._retiring(name)

    def _retiring(self, name: str) -> bool:
        """In a zone no release registers any more: only its owned records are deleted."""
        return (
            self.zone_owners is not None
            and self.zone_owners.zone_of(name) is None
            and self._retired.zone_of(name) is not None
        )

    def _registry_for(self, owner: str) -> Registry:
        if not isinstance(self.registry, TXTRegistry) or owner == self.registry.owner_id:
            return self.registry
        found = self._registries.get(owner)
        if found is None:
            reg = self.registry
            found = TXTRegistry(owner, reg.mapper, aes_key=reg.aes_key, encrypt=reg.encrypt)
            self._registries[owner] = found
        return found

    def _view(self, name: str) -> NameView:
        return self._registry_for(self._owner_of(name)).view(name, self.cache.lookup)

    def desired_at(self, name: str) -> list[Endpoint]:
        """What every object (and every object in its grace period) asks for at ``name``, the
        Services' endpoints merged into one record set as external-dns's service source does."""
        out = self.desired.at(name)
        for grace in self.grace.values():
            out.extend(e.copy() for e in grace.endpoints if e.dns_name == name)
        return merge_service_endpoints(out)

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, names: set[str] | None = None) -> ApplyResult:
        """Plan and apply the dirty names (or ``names``). Safe to call at any time."""
        async with self._lock:
            return await self._reconcile(names)

    async def _reconcile(self, names: set[str] | None) -> ApplyResult:
        if not self.cache.loaded:
            await self.resync()
        now = self.clock()
        self._expire_grace(now)
        if names is None:
            due = self.retries.due(now)
            batch = set(list(self.dirty | due)[: self.config.max_names_per_pass])
        else:
            batch = set(names)
        if not batch:
            return ApplyResult()
        self.dirty -= batch
        self.retries.take(batch)
        self.metrics.dirty_names.set(len(self.dirty))
        self.metrics.reconciles.inc()
        started = time.perf_counter()
        provider_filter = self.provider.domain_filter()
        views: dict[str, NameView] = {}
        changes = Changes()
        by_owner: dict[str, Changes] = {}
        wanted: list[Endpoint] = []
        in_scope: list[str] = []
        for name in sorted(batch):
            if self.config.domain_filter.match(name) and provider_filter.match(name) and self._in_zones(name):
                in_scope.append(name)
                if not self._retiring(name):
                    wanted.extend(self.desired_at(name))
        try:
            adjusted = await self.provider.adjust(wanted)
        except Exception as exc:
            log.warning("adjusting endpoints failed: %s", exc)
            for name in in_scope:
                self._fail(name, f"adjusting endpoints failed: {exc}")
            self._account(set(), ApplyResult({n: str(exc) for n in in_scope}))
            return ApplyResult({n: str(exc) for n in in_scope})
        desired_by_name: dict[str, list[Endpoint]] = defaultdict(list)
        for ep in adjusted:
            desired_by_name[ep.dns_name].append(ep)
        del wanted, adjusted
        # a name's view and desired endpoints are dropped once planned unless it has changes (the TXT
        # registry needs the views of those; a migration from another owner id reads them all): a
        # pass that finds everything right holds one name's worth at a time, not the pass's
        keep_views = not isinstance(self.registry, TXTRegistry) or bool(self.registry.old_owner_id)
        for name in in_scope:
            try:
                view = self._view(name)
                planned = plan(
                    view.records,
                    desired_by_name.pop(name, []),
                    self.config.policy,
                    self._owner_of(name),
                    self.config.managed_types,
                )
                if planned or keep_views:
                    views[name] = view
                by_owner.setdefault(self._owner_of(name), Changes()).extend(planned)
            except Exception as exc:  # one bad name never stops the others
                log.exception("planning %s failed", name)
                self._fail(name, f"planning failed: {exc}")
        for owner, owned in by_owner.items():
            if not self.owner:
                changes.extend(owned)
                continue
            mine = {n: v for n, v in views.items() if self._owner_of(n) == owner}
            owned, dropped = self._registry_for(owner).with_txt(owned, mine)
            changes.extend(owned)
            for ep in dropped:
                log.warning("%s: another owner's TXT record claims this name; not creating it", ep)
                self.retries.failures[ep.dns_name] = "another owner's TXT record claims this name"
        result = ApplyResult()
        if changes:
            if self.config.dry_run:
                self.planned.append(changes)
                for action, eps in (
                    ("CREATE", changes.create),
                    ("UPDATE", changes.update_new),
                    ("DELETE", changes.delete),
                ):
                    for ep in eps:
                        log.info("dry-run %s %s", action, ep)
            elif not self.is_leader:
                # standbys plan but never write; the names stay dirty for when they lead
                self._mark(changes.names() & batch)
                return result
            else:
                result = await self._apply(changes)
        self._account(batch, result)
        if len(batch) >= 1000:
            release_freed_memory()
        self.metrics.sync_seconds.observe(time.perf_counter() - started)
        self._update_gauges()
        return result

    def count_calls(self) -> None:
        """Bring kumo_dns_provider_calls_total up to the provider's own count: every call, lists,
        zone reads and drift probes included, not only changes."""
        seen = self._calls_counted
        self._calls_counted = self.provider.calls
        if self.provider.calls > seen:
            self.metrics.provider_calls.labels(self.provider.name).inc(self.provider.calls - seen)

    async def _apply(self, changes: Changes) -> ApplyResult:
        try:
            result = await self.provider.apply_changes(changes)
        except Exception as exc:  # the provider's own safety net failed: treat every group as failed
            log.warning("provider error: %s", exc)
            result = ApplyResult(
                {group_key(ep): str(exc) for ep in [*changes.create, *changes.update_new, *changes.delete]}
            )
        self.count_calls()

        def ok(ep: Endpoint) -> bool:
            return group_key(ep) not in result.failed

        for ep in changes.delete:
            if ok(ep):
                self._forget(ep)
                self.metrics.changes.labels("delete").inc()
                _log_change("deleted", ep)
        for old, new in zip(changes.update_old, changes.update_new, strict=True):
            if ok(new):
                self._forget(old)
                self._store(new)
                self.metrics.changes.labels("update").inc()
                _log_change("updated", new)
        for ep in changes.create:
            if ok(ep):
                self._store(ep)
                self.metrics.changes.labels("create").inc()
                _log_change("created", ep)
        self.applied_changes += sum(
            1 for ep in [*changes.create, *changes.update_new, *changes.delete] if ok(ep)
        )
        for group, message in result.failed.items():
            self.metrics.failed_changes.inc()
            log.warning("%s: change rejected: %s", group, message)
            self._fail(group, message)
            self._event_for_failure(group, message)
        return result

    def _forget(self, ep: Endpoint) -> None:
        self.cache.forget(ep)

    def _store(self, ep: Endpoint) -> None:
        self.cache.store(ep)

    def _fail(self, name: str, message: str) -> None:
        self.retries.fail(name, message, self.clock())

    def _event_for_failure(self, name: str, message: str) -> None:
        if self.events is None:
            return
        for key in self.desired.owners(name):
            obj = self._objs.get(key)
            if obj is not None:
                body = {
                    "apiVersion": obj.get("apiVersion") or _api_version(key[0]),
                    "kind": key[0],
                    **obj,
                }
                self._spawn(self.events(body, "DNSChangeFailed", f"{name}: {message}", "Warning"))

    def _account(self, batch: set[str], result: ApplyResult) -> None:
        now = self.clock()
        for name in batch:
            if name not in result.failed:
                self.retries.succeeded(name)
        if result.failed:
            if self.failing_since is None:
                self.failing_since = now
            self.last_error = next(iter(result.failed.values()))
            self.metrics.registry_errors.inc()
        else:
            self.failing_since = None if not self.retries else self.failing_since
            self.last_success = now
            self.metrics.last_sync.set(time.time())

    def _expire_grace(self, now: float) -> None:
        for key, grace in list(self.grace.items()):
            if grace.deadline <= now:
                del self.grace[key]
                obj = self._objs.get(key)
                names = {e.dns_name for e in grace.endpoints}
                if obj is not None:
                    result = endpoints_for(key[0], obj, self.config.source, self.context)
                    self._set_desired(key, result.endpoints)
                self._mark(names)

    def _update_gauges(self) -> None:
        self.count_calls()
        self.metrics.source_endpoints.set(self.desired.count)
        self.metrics.registry_endpoints.set(self.cache.count)
        self.metrics.grace_records.set(len(self.grace))
        self.metrics.is_leader.set(1 if self.is_leader else 0)

    # ------------------------------------------------------------------ time

    def next_wakeup(self) -> float | None:
        """When timed work (a retry or a grace deadline) is next due, or None."""
        times = list(self.retries.due_at.values()) + [g.deadline for g in self.grace.values()]
        return min(times) if times else None

    def settled(self) -> bool:
        """Nothing to do and nothing in flight: no dirty name, no retry pending, no reconcile running."""
        return not self.dirty and not self.retries and not self._lock.locked()

    def has_work(self) -> bool:
        now = self.clock()
        due = self.next_wakeup()
        return bool(self.dirty) or (due is not None and due <= now)

    # ------------------------------------------------------------------ health

    def healthy(self) -> tuple[bool, str]:
        if (
            self.failing_since is not None
            and self.clock() - self.failing_since > self.config.health_threshold
        ):
            return False, f"syncs failing for {self.clock() - self.failing_since:.0f}s: {self.last_error}"
        return True, "ok"

    def status(self) -> dict[str, Any]:
        return {
            "leader": self.is_leader,
            "objects": len(self.desired.objects),
            "desired_names": len(self.desired.by_name),
            "records": self.cache.size(),
            "dirty": len(self.dirty),
            "failures": dict(self.retries.failures),
            "grace": len(self.grace),
            "provider_calls": self.provider.calls,
            "applied_changes": self.applied_changes,
        }


def _api_version(kind: str) -> str:
    source = BY_KIND.get(kind)
    return source.api_version if source is not None else "v1"
