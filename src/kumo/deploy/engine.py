"""The release engine: up, down, rollback and history, each under the release lock.

Everything that can be checked is checked before the first write (spec, render, context,
namespace access, a server-side dry-run of every object), so bad input changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from kumo.deploy.addons import addons_state, stamp_addons
from kumo.deploy.dnscheck import wait_resolves
from kumo.deploy.lock import DEFAULT_DURATION, DeployLock
from kumo.deploy.objects import FIELD_MANAGER, Obj, Ref, in_apply_order, in_delete_order, order_key
from kumo.deploy.releases import NAME_LABEL, OWNER_LABEL, ReleaseStore, Revision, object_key
from kumo.deploy.rendering import Rendered
from kumo.deploy.report import Reporter
from kumo.deploy.wait import ObjectProgress, ReleaseWatcher, RolloutFailure, WaitResult
from kumo.errors import ClusterError, KumoError, UsageError
from kumo.kube import KubeClient, LeaseHolder, connect, default_identity, lease_holder, record_event
from kumo.kube.errors import ApiError, ApiLost, NotFound, Unreachable
from kumo.kube.timefmt import format_time, now
from kumo.render import DNS_LEASE_NAME, ZONES_CONFIGMAP, zones_entry

APPLY_CONCURRENCY = 4
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


@dataclass
class DeployOptions:
    kubeconfig: str | None = None
    context: str | None = None
    atomic: bool = True
    timeout: float = 300.0
    lock_timeout: float = 120.0
    lock_duration: int = DEFAULT_DURATION
    max_history: int = 10
    wait: bool = True
    dns_timeout: float = 30.0
    dns_server: str | None = None
    #: Seconds a Pod may stay Unschedulable (an autoscaler adding a node) before the rollout fails.
    unschedulable_grace: float = 30.0
    #: `kumo down`: remove the add-ons (the DNS controller) when no release uses them any more.
    prune_addons: bool = False
    #: Who holds the release lock and is recorded as the deployer; default user@host/pid.
    identity: str | None = None


@dataclass
class UpResult:
    release: str
    namespace: str
    revision: int
    status: str
    urls: list[str] = field(default_factory=list)
    objects: list[ObjectProgress] = field(default_factory=list)
    applied: list[Ref] = field(default_factory=list)
    #: What each apply did, as kubectl says it: created, configured or unchanged.
    actions: dict[Ref, str] = field(default_factory=dict)
    pruned: list[Ref] = field(default_factory=list)
    dns: dict[str, list[str]] = field(default_factory=dict)
    failure: RolloutFailure | None = None
    rolled_back_to: int | None = None
    took_over_from: str | None = None
    api_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "namespace": self.namespace,
            "revision": self.revision,
            "status": self.status,
            "urls": self.urls,
            "objects": [o.as_dict() for o in self.objects],
            "applied": [{**r.as_dict(), "action": self.actions.get(r, "applied")} for r in self.applied],
            "pruned": [r.as_dict() for r in self.pruned],
            "dns": {host: {"resolves": bool(v), "answers": v} for host, v in self.dns.items()},
            "failure": self.failure.as_dict() if self.failure else None,
            "rolledBackTo": self.rolled_back_to,
            "tookOverFrom": self.took_over_from,
            "apiRequests": self.api_requests,
        }


class DeployFailed(KumoError):
    """The release did not become ready; ``result`` says what was left live."""

    def __init__(self, message: str, result: UpResult, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.result = result


async def open_client(rendered: Rendered, options: DeployOptions) -> KubeClient:
    return await connect(options.kubeconfig, options.context or rendered.spec.target.context)


def _images(objects: Iterable[Obj]) -> dict[str, str]:
    images: dict[str, str] = {}
    for obj in objects:
        if obj.get("kind") != "Deployment":
            continue
        for container in (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or []:
            images[f"{obj['metadata']['name']}/{container.get('name')}"] = str(container.get("image"))
    return images


async def preflight(client: KubeClient, objects: list[Obj]) -> dict[Ref, str]:
    """Check access and validity with a server-side dry run, without changing anything.

    Objects in a namespace that does not exist yet cannot be dry-run (the server would answer
    404), so for those only the Namespace itself is checked. Returns the resourceVersion of each
    object that exists (a dry run answers with the stored one), so that the apply can tell
    ``created``, ``configured`` and ``unchanged`` apart as kubectl does.
    """
    await check_kinds(client, objects)
    existing = await existing_namespaces(client, objects)
    return await dry_run_all(
        client, [o for o in objects if _namespace_of(o) in existing or not _namespace_of(o)]
    )


def _namespace_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


async def check_kinds(client: KubeClient, objects: list[Obj]) -> None:
    """Every kind is served (built-in kinds need no request; others one discovery per group/version)."""
    for obj in objects:
        try:
            await client.resource(str(obj["apiVersion"]), str(obj["kind"]))
        except NotFound as exc:
            raise ClusterError(
                f"{exc.message}, which {Ref.of(obj)} needs; nothing was changed",
                "Install what defines that kind (e.g. cert-manager), or edit kumo.yaml.",
            ) from None


async def existing_namespaces(client: KubeClient, objects: list[Obj]) -> set[str]:
    """The namespaces of ``objects`` that exist; one being deleted is an error."""
    existing: set[str] = set()
    for namespace in sorted({_namespace_of(o) for o in objects} - {""}):
        try:
            found = await client.get("v1", "Namespace", namespace)
        except ApiError as exc:
            raise ClusterError(
                f"{exc.message} (checking namespace {namespace}); nothing was changed", exc.hint
            ) from None
        if found is not None:
            if (found.get("metadata") or {}).get("deletionTimestamp"):
                raise ClusterError(
                    f"namespace {namespace} is being deleted; nothing was changed",
                    "Wait until it is gone (e.g. after `kumo down`), then run again.",
                )
            existing.add(namespace)
    return existing


async def dry_run_all(client: KubeClient, objects: list[Obj]) -> dict[Ref, str]:
    """Dry-run the apply of each object; the resourceVersion of each that exists. A refusal is a
    ClusterError saying nothing was changed."""
    limit = asyncio.Semaphore(APPLY_CONCURRENCY)
    versions: dict[Ref, str] = {}

    async def dry_run(obj: Obj) -> None:
        async with limit:
            try:
                answer = await client.apply(obj, FIELD_MANAGER, force=True, dry_run=True)
            except ApiError as exc:
                raise ClusterError(f"{Ref.of(obj)}: {exc.message}; nothing was changed", exc.hint) from None
        version = (answer.get("metadata") or {}).get("resourceVersion")
        if version:
            versions[Ref.of(obj)] = str(version)

    await _gather_all([dry_run(obj) for obj in objects])
    return versions


Prior = Callable[[Ref], "str | None"]


async def _apply_all(
    client: KubeClient,
    lock: DeployLock | None,
    objects: list[Obj],
    reporter: Reporter,
    result: UpResult | None,
    prior: Prior | dict[Ref, str] | None = None,
    untouched: set[Ref] | None = None,
) -> dict[Ref, Obj]:
    """Apply in dependency order; the API's answer for each. ``prior`` gives the resourceVersion
    each object had before (None: it did not exist), for the created/configured/unchanged report.
    ``untouched`` objects are reported unchanged without a request (see ``_untouched``)."""
    # Kinds apply in dependency order; objects of one kind go concurrently (bounded), which on a
    # real cluster turns N round trips into N/APPLY_CONCURRENCY.
    limit = asyncio.Semaphore(APPLY_CONCURRENCY)
    answers: dict[Ref, Obj] = {}
    before = prior.get if isinstance(prior, dict) else prior

    async def apply_one(obj: Obj) -> None:
        ref = Ref.of(obj)
        if untouched and ref in untouched:
            reporter.applied(ref, "unchanged")
            if result is not None:
                result.applied.append(ref)
                result.actions[ref] = "unchanged"
            return
        async with limit:
            if lock is not None:
                lock.check()
            had = before(ref) if before is not None else None
            answer = await client.apply(obj, FIELD_MANAGER, force=True)
        answers[ref] = answer
        action = "applied"
        if before is not None:
            version = (answer.get("metadata") or {}).get("resourceVersion")
            action = "created" if had is None else "unchanged" if str(version) == had else "configured"
        reporter.applied(ref, action)
        if result is not None:
            result.applied.append(ref)
            result.actions[ref] = action

    for _rank, group in itertools.groupby(in_apply_order(objects), key=lambda o: order_key(o)[:2]):
        await _gather_all([apply_one(obj) for obj in group])
    return answers


async def _gather_all(coros: list[Coroutine[Any, Any, None]]) -> None:
    """Run all; if any fails, let the others finish, then raise the first error."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for outcome in results:
        if isinstance(outcome, BaseException):
            raise outcome


async def _delete_all(client: KubeClient, objects: list[Obj], reporter: Reporter, action: str) -> list[Ref]:
    deleted: list[Ref] = []
    for obj in in_delete_order(objects):
        ref = Ref.of(obj)
        if await client.delete(ref.api_version, ref.kind, ref.name, ref.namespace or None):
            reporter.applied(ref, action)
            deleted.append(ref)
    return deleted


def _prunable(candidates: Iterable[Obj], keep: Iterable[Obj], namespace: str) -> list[Obj]:
    kept = {Ref.of(o) for o in keep}
    found: dict[Ref, Obj] = {}
    for obj in candidates:
        ref = Ref.of(obj)
        if ref in kept or (ref.kind == "Namespace" and ref.name == namespace):
            continue
        found.setdefault(ref, obj)
    return list(found.values())


async def _wait(
    client: KubeClient, namespace: str, objects: list[Obj], options: DeployOptions, reporter: Reporter
) -> WaitResult:
    refs = [Ref.of(o) for o in objects if (o.get("metadata") or {}).get("namespace") == namespace]
    kinds = {(r.api_version, r.kind) for r in refs}
    # Without any answer for the lease's duration the lock has expired too: stop, rather than wait
    # out --timeout against an API that is gone.
    lost_after = float(options.lock_duration)
    async with ReleaseWatcher(client, namespace, kinds, options.unschedulable_grace, lost_after) as watcher:
        return await watcher.wait(refs, options.timeout, reporter.progress)


async def _wait_addons(
    client: KubeClient, addons: list[Obj], options: DeployOptions, reporter: Reporter
) -> None:
    by_namespace: dict[str, list[Obj]] = {}
    for obj in addons:
        namespace = (obj.get("metadata") or {}).get("namespace")
        if namespace and obj.get("kind") == "Deployment":
            by_namespace.setdefault(namespace, []).append(obj)
    for namespace, objects in by_namespace.items():
        result = await _wait(client, namespace, objects, options, reporter)
        if not result.ready:
            detail = result.failure.explain() if result.failure else "not ready"
            raise ClusterError(f"the add-ons did not become ready: {detail}; the app was not changed")


def _stamp() -> str:
    return format_time(now())


async def up(rendered: Rendered, options: DeployOptions, reporter: Reporter | None = None) -> UpResult:
    """Apply the rendered release, prune, wait, and roll back on failure (when atomic).

    Before any write: the add-ons' state (one list), every kind served, the namespaces, and a
    server-side dry-run of the add-ons to install and of the release's cluster-scoped objects (its
    Namespace). The objects of a release whose namespace exists are dry-run under the release lock,
    still before the first write to any of them (see ``_to_dry_run``).
    """
    reporter = reporter or Reporter()
    client = await open_client(rendered, options)
    try:
        addons, why = await _addons_to_install(client, rendered, reporter)
        await check_kinds(client, addons + rendered.objects)
        existing = await existing_namespaces(client, addons + rendered.objects)
        fresh = rendered.namespace not in existing
        # Cluster-scoped objects (the release's Namespace) are dry-run before the lock too: a
        # deployer the namespace is closed to is refused before any write, the lock's included.
        checkable = [o for o in addons if not _namespace_of(o) or _namespace_of(o) in existing]
        checkable += [o for o in rendered.objects if not _namespace_of(o)]
        before = await dry_run_all(client, checkable)
        created = await _create_namespace(client, rendered) if fresh else {}
        async with _release_lock(client, rendered, options, reporter) as lock:
            result = await _up_locked(
                client,
                lock,
                rendered,
                _Plan(addons, why, before, {Ref.of(o) for o in checkable}, created, fresh),
                options,
                reporter,
            )
        result.api_requests = client.request_count
        return result
    finally:
        await client.close()


@dataclass
class _Plan:
    """What `up` settled before taking the lock."""

    #: The add-ons to apply (none when they are current, or another tool's external-dns runs).
    addons: list[Obj]
    #: Why they are applied (what is not current about them).
    why: str
    #: resourceVersions from the dry-runs so far, and which objects were dry-run.
    before: dict[Ref, str]
    checked: set[Ref]
    #: The release's Namespace, when this run created it, with the API's answer.
    created: dict[Ref, Obj]
    #: The release's namespace did not exist: nothing in it could be dry-run.
    fresh: bool


async def _addons_to_install(
    client: KubeClient, rendered: Rendered, reporter: Reporter
) -> tuple[list[Obj], str]:
    if not rendered.addons:
        return [], ""
    addons = stamp_addons(rendered.addons)
    state = await addons_state(client, addons)
    if state.foreign:
        reporter.message(
            f"external-dns is already installed by another tool ({', '.join(state.foreign)}); kumo "
            "leaves it alone and does not install its DNS controller next to it"
        )
        return [], ""
    if state.current:
        return [], ""
    return addons, state.reason


async def _create_namespace(client: KubeClient, rendered: Rendered) -> dict[Ref, Obj]:
    """Create the release's namespace (before the lock, whose Lease lives in it); the release's own
    Namespace object when it renders one, with the answer."""
    own = [
        o
        for o in rendered.objects
        if o.get("kind") == "Namespace" and o["metadata"]["name"] == rendered.namespace
    ]
    if own:
        return {Ref.of(own[0]): await client.apply(own[0], FIELD_MANAGER, force=True)}
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": rendered.namespace}})
    return {}


def _to_dry_run(rendered: Rendered, previous: Revision | None, watcher: ReleaseWatcher | None) -> list[Obj]:
    """The release's objects to dry-run before applying: each one that is new or differs from the
    last deployed revision (the server has not accepted it yet), and each one whose earlier
    resourceVersion the watch caches do not hold (the dry-run answers it, for the report).

    An object exactly as the last deployed revision applied it was accepted by this server then;
    its apply can only restore drift. Everything not yet accepted is still checked before the
    first write, so bad input changes nothing.
    """
    deployed = {Ref.of(o): o for o in previous.manifests} if previous else {}
    return [
        o
        for o in rendered.objects
        if watcher is None or not watcher.watches(Ref.of(o)) or deployed.get(Ref.of(o)) != o
    ]


async def _mark_interrupted(store: ReleaseStore, history: list[Revision], reporter: Reporter) -> None:
    for revision in history:
        if revision.status == "pending":
            revision.status = "interrupted"
            revision.failure = "the kumo run that was deploying it stopped before finishing"
            await store.save(revision)
            reporter.message(
                f"revision {revision.number} was left unfinished by an earlier run; marked interrupted"
            )


async def _up_locked(
    client: KubeClient,
    lock: DeployLock,
    rendered: Rendered,
    plan: _Plan,
    options: DeployOptions,
    reporter: Reporter,
) -> UpResult:
    store = ReleaseStore(client, rendered.release, rendered.namespace)
    watching = contextlib.AsyncExitStack()
    async with watching:
        watcher: ReleaseWatcher | None = None
        if options.wait:
            # Watching starts before the apply, so the wait needs no list of its own and the caches
            # hold each object's earlier resourceVersion (for the report) without a dry-run.
            watcher = ReleaseWatcher(
                client,
                rendered.namespace,
                _waited_kinds(rendered.namespace, rendered.objects),
                options.unschedulable_grace,
                float(options.lock_duration),
                # Every kind of the release is cached: an object still at the version the last
                # deployed revision left it at needs no request at all (see _untouched).
                track=_waited_kinds(rendered.namespace, rendered.objects),
            )
            history, _ = await asyncio.gather(store.revisions(), watching.enter_async_context(watcher))
        else:
            history = await store.revisions()
        await _mark_interrupted(store, history, reporter)
        previous = next((r for r in reversed(history) if r.status == "deployed"), None)
        before, checked = dict(plan.before), set(plan.checked)
        if not plan.fresh:
            to_check = [o for o in _to_dry_run(rendered, previous, watcher) if Ref.of(o) not in checked]
            before.update(await dry_run_all(client, to_check))
            checked |= {Ref.of(o) for o in to_check}

        untouched = _untouched(rendered, previous, watcher)

        def prior(ref: Ref) -> str | None:
            if ref in checked or watcher is None or not watcher.watches(ref):
                return before.get(ref)
            return watcher.version(ref)

        number = history[-1].number + 1 if history else 1
        result = UpResult(rendered.release, rendered.namespace, number, "pending", urls=list(rendered.urls))
        if lock.lease.took_over_from is not None:
            result.took_over_from = lock.lease.took_over_from.identity
        revision = Revision(
            number=number,
            status="pending",
            deployed_by=lock.holder,
            deployed_at=_stamp(),
            description="kumo up",
            images=_images(rendered.objects),
            manifests=rendered.objects,
            spec=rendered.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            env=rendered.env,
        )
        await store.save(revision)
        phase = "before any of its objects were applied"
        try:
            await _register_zone(client, rendered)
            if plan.addons:
                reporter.message(f"installing add-ons ({plan.why})" if plan.why else "installing add-ons")
                phase = "while the add-ons were applied (the app was not changed)"
                await _apply_all(client, lock, plan.addons, reporter, None, before)
                if options.wait:
                    await _wait_addons(client, plan.addons, options, reporter)
            reporter.message(
                f"applying revision {number} of {rendered.release} to namespace {rendered.namespace}"
            )
            phase = "part-way through applying its objects"
            for ref in plan.created:
                reporter.applied(ref, "created")
                result.applied.append(ref)
                result.actions[ref] = "created"
            rest = [o for o in rendered.objects if Ref.of(o) not in plan.created]
            answers = await _apply_all(client, lock, rest, reporter, result, prior, untouched)
            answers.update(plan.created)
            since = previous.number if previous else 0
            candidates = [o for r in history if r.number >= since for o in r.manifests]
            phase = "after applying its objects, while pruning the previous revision's leftovers"
            result.pruned = await _delete_all(
                client, _prunable(candidates, rendered.objects, rendered.namespace), reporter, "pruned"
            )
            if watcher is None:
                await _finish_success(store, history, revision, options, result)
                return result
            phase = "after applying its objects, before the rollout was confirmed"
            watcher.expect(answers)
            refs = [Ref.of(o) for o in rendered.objects if _namespace_of(o) == rendered.namespace]
            waited = await watcher.wait(refs, options.timeout, reporter.progress)
            if waited.ready:
                revision.versions = _versions(rendered.objects, watcher)
        except Unreachable as exc:
            raise _left_pending(exc, rendered, revision, previous, phase, options) from None
    result.objects = waited.objects
    if waited.ready:
        await _finish_success(store, history, revision, options, result)
        await _check_dns(client, rendered, options, reporter, result)
        return result
    assert waited.failure is not None
    return await _fail(
        client, lock, store, revision, previous, rendered.objects, waited.failure, options, reporter, result
    )


def _untouched(rendered: Rendered, previous: Revision | None, watcher: ReleaseWatcher | None) -> set[Ref]:
    """Objects exactly as the last deployed revision applied them and, as the watch caches show,
    still at the resourceVersion they had once it was ready: nobody has written them since, so
    applying them again would change nothing (any write, drift included, changes the version)."""
    if previous is None or watcher is None or not previous.versions:
        return set()
    deployed = {Ref.of(o): o for o in previous.manifests}
    found: set[Ref] = set()
    for obj in rendered.objects:
        ref = Ref.of(obj)
        if not watcher.watches(ref) or deployed.get(ref) != obj:
            continue
        version = watcher.version(ref)
        if version is not None and previous.versions.get(_key(ref)) == version:
            found.add(ref)
    return found


def _versions(objects: list[Obj], watcher: ReleaseWatcher) -> dict[str, str]:
    versions: dict[str, str] = {}
    for obj in objects:
        ref = Ref.of(obj)
        version = watcher.version(ref) if watcher.watches(ref) else None
        if version is not None:
            versions[_key(ref)] = version
    return versions


def _key(ref: Ref) -> str:
    return object_key(ref.api_version, ref.kind, ref.namespace, ref.name)


def _waited_kinds(namespace: str, objects: list[Obj]) -> set[tuple[str, str]]:
    return {(str(o["apiVersion"]), str(o["kind"])) for o in objects if _namespace_of(o) == namespace}


def _left_pending(
    exc: Unreachable,
    rendered: Rendered,
    revision: Revision,
    previous: Revision | None,
    phase: str,
    options: DeployOptions,
) -> ClusterError:
    """The API went away mid-run: say so, and in what state the release is left (its revision stays
    ``pending`` in the cluster, since nothing more can be written)."""
    message = exc.message if isinstance(exc, ApiLost) else f"lost the Kubernetes API: {exc.message}"
    back = (
        f"`kumo rollback {previous.number}` returns to revision {previous.number}"
        if previous
        else ("`kumo down` removes it")
    )
    return ClusterError(
        f"{message}\nrelease {rendered.release} revision {revision.number} is left pending, {phase}; "
        "nothing was rolled back.",
        f"When the API answers again, `kumo up` marks revision {revision.number} interrupted and deploys "
        f"again, or {back}. The release lock expires by itself within {options.lock_duration} s.",
    )


def _zones_manager(rendered: Rendered) -> str:
    # One field manager per release: server-side apply keeps every release's key apart.
    return f"kumo-release.{rendered.namespace}.{rendered.release}"


async def _register_zone(client: KubeClient, rendered: Rendered) -> None:
    """Add this release's zone and owner id to the zones ConfigMap the shared DNS controller
    watches; other releases' keys are other managers' fields, so they stay as they are."""
    dns = rendered.spec.dns
    if dns is None:
        return
    namespace = dns.controller.namespace
    key, value = zones_entry(rendered.spec, rendered.namespace, rendered.release)
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ZONES_CONFIGMAP,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kumo"},
        },
        "data": {key: value},
    }
    try:
        await client.apply(configmap, _zones_manager(rendered), force=True)
    except NotFound:  # its namespace does not exist yet (no add-on installed there so far)
        await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        await client.apply(configmap, _zones_manager(rendered), force=True)


async def _unregister_zone(client: KubeClient, rendered: Rendered) -> list[str]:
    """Remove this release's zone; returns the releases (keys) that still use the DNS controller."""
    dns = rendered.spec.dns
    if dns is None:
        return []
    key, _ = zones_entry(rendered.spec, rendered.namespace, rendered.release)
    namespace = dns.controller.namespace
    try:
        found = await client.get("v1", "ConfigMap", ZONES_CONFIGMAP, namespace)
    except ApiError:
        return []
    if found is None:
        return []
    if key in (found.get("data") or {}):
        found = await client.patch("v1", "ConfigMap", ZONES_CONFIGMAP, {"data": {key: None}}, namespace)
    return sorted(found.get("data") or {})


async def _release_addons(
    client: KubeClient, rendered: Rendered, options: DeployOptions, reporter: Reporter
) -> list[Ref]:
    """Unregister the release's zone; the add-ons go only with --prune-addons, and only when no
    other release still uses them (the DNS controller must outlive the apps to remove their names)."""
    dns = rendered.spec.dns
    if dns is None:
        return []
    others = await _unregister_zone(client, rendered)
    if not rendered.addons:
        return []
    where = f"{dns.controller.namespace}"
    if others:
        if options.prune_addons:
            reporter.message(f"keeping the DNS controller in {where}: {', '.join(others)} still use it")
        return []
    if not options.prune_addons:
        reporter.message(
            f"this was the last kumo release using the DNS controller in {where}; "
            "`kumo down --prune-addons` removes it"
        )
        return []
    reporter.message(f"removing the DNS controller in {where}: no kumo release uses it any more")
    zones_meta = {"name": ZONES_CONFIGMAP, "namespace": where}
    zones = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": zones_meta}
    # The namespace stays: it may hold other things, and a fresh `kumo up` uses it again.
    addons = [o for o in rendered.addons if o.get("kind") != "Namespace"] + [zones]
    return await _delete_all(client, addons, reporter, "deleted")


async def _finish_success(
    store: ReleaseStore, history: list[Revision], revision: Revision, options: DeployOptions, result: UpResult
) -> None:
    for old in history:
        if old.status == "deployed":
            old.status = "superseded"
            await store.save(old)
    revision.status = "deployed"
    await store.save(revision)
    result.status = "deployed"
    await store.trim(options.max_history, [*history, revision])


async def dns_controller_live(client: KubeClient, namespace: str) -> LeaseHolder | None:
    """The DNS controller's leader, when one holds its Lease and renews it; None otherwise."""
    try:
        lease = await client.get("coordination.k8s.io/v1", "Lease", DNS_LEASE_NAME, namespace)
    except ApiError:
        return None
    holder = lease_holder(lease)
    return holder if holder is not None and not holder.expired else None


async def _check_dns(
    client: KubeClient, rendered: Rendered, options: DeployOptions, reporter: Reporter, result: UpResult
) -> None:
    if options.dns_timeout <= 0 or not rendered.hostnames or rendered.spec.dns is None:
        return
    namespace = rendered.spec.dns.controller.namespace
    if await dns_controller_live(client, namespace) is None:
        # Waiting for a name that nobody will publish only delays the bad news.
        if rendered.spec.dns.controller.enabled:
            how = f"check its Pods: kubectl -n {namespace} logs deployment/{DNS_LEASE_NAME}"
        else:
            how = f"run one: kumo dns run -f {rendered.source or 'kumo.yaml'}"
        reporter.message(
            f"no DNS controller is running (its Lease {namespace}/{DNS_LEASE_NAME} is not held and "
            f"renewed), so {', '.join(rendered.hostnames)} will not resolve until one runs; not waiting; "
            f"{how}"
        )
        result.dns = {hostname: [] for hostname in rendered.hostnames}
        return
    for hostname in rendered.hostnames:
        reporter.message(f"waiting for {hostname} to resolve (up to {options.dns_timeout:g}s)")
        answers = await wait_resolves(hostname, options.dns_timeout, options.dns_server)
        result.dns[hostname] = answers
        if answers:
            reporter.message(f"{hostname} resolves to {', '.join(answers)}")
        else:
            reporter.message(
                f"{hostname} is not resolving yet; the DNS controller publishes it when it next syncs"
            )


async def _fail(
    client: KubeClient,
    lock: DeployLock,
    store: ReleaseStore,
    revision: Revision,
    previous: Revision | None,
    applied: list[Obj],
    failure: RolloutFailure,
    options: DeployOptions,
    reporter: Reporter,
    result: UpResult,
) -> UpResult:
    explanation = failure.explain()
    revision.status = "failed"
    revision.failure = explanation
    await store.save(revision)
    result.status = "failed"
    result.failure = failure
    name = f"release {result.release} revision {revision.number}"
    if options.atomic and previous is not None:
        note = f"revision {revision.number} failed ({failure.reason}); rolling back to {previous.number}"
    else:
        note = f"revision {revision.number} failed ({failure.reason}): {failure.message}"
    await _explain_on_object(client, failure, note)
    if not options.atomic:
        raise DeployFailed(
            f"{name} failed:\n{explanation}",
            result,
            "It was left as it is (--no-atomic). Fix kumo.yaml and run `kumo up`, or run `kumo rollback`.",
        )
    if previous is None:
        reporter.message(f"{name} failed; it is the first revision, so its objects are deleted")
        keep_namespace = [o for o in applied if o.get("kind") != "Namespace"]
        await _delete_all(client, keep_namespace, reporter, "deleted")
        raise DeployFailed(
            f"{name} failed and was removed (there was no earlier revision to roll back to):\n{explanation}",
            result,
        )
    reporter.message(f"{name} failed; rolling back to revision {previous.number}")
    rolled = await _rollback_to(
        client,
        lock,
        store,
        previous,
        applied,
        revision.number + 1,
        f"rollback to {previous.number} after revision {revision.number} failed",
        options,
        reporter,
    )
    result.rolled_back_to = previous.number
    result.objects = rolled.objects
    state = "is serving again" if rolled.ready else "did not become ready either"
    raise DeployFailed(
        f"{name} failed and was rolled back to revision {previous.number}, which {state}:\n{explanation}",
        result,
        "See `kumo history` and `kumo status`; fix kumo.yaml and run `kumo up` again.",
    )


async def _rollback_to(
    client: KubeClient,
    lock: DeployLock,
    store: ReleaseStore,
    target: Revision,
    live: list[Obj],
    number: int,
    description: str,
    options: DeployOptions,
    reporter: Reporter,
) -> WaitResult:
    """Make ``target``'s manifests live again as revision ``number``, pruning what only ``live`` had."""
    namespace = store.namespace
    record = Revision(
        number=number,
        status="pending",
        deployed_by=lock.holder,
        deployed_at=_stamp(),
        description=description,
        images=target.images,
        manifests=target.manifests,
        spec=target.spec,
        env=target.env,
    )
    await store.save(record)
    await _apply_all(client, lock, target.manifests, reporter, None)
    await _delete_all(client, _prunable(live, target.manifests, namespace), reporter, "pruned")
    waited = await _wait(client, namespace, target.manifests, options, reporter)
    history = await store.revisions()
    if waited.ready:
        for old in history:
            if old.status == "deployed" and old.number != number:
                old.status = "superseded"
                await store.save(old)
        record.status = "deployed"
    else:
        record.status = "failed"
        record.failure = waited.failure.explain() if waited.failure else "not ready"
    await store.save(record)
    await store.trim(options.max_history)
    return waited


@dataclass
class RollbackResult:
    release: str
    namespace: str
    revision: int
    target: int
    ready: bool
    objects: list[ObjectProgress]

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "namespace": self.namespace,
            "revision": self.revision,
            "rolledBackTo": self.target,
            "ready": self.ready,
            "objects": [o.as_dict() for o in self.objects],
        }


async def rollback(
    rendered: Rendered, target: int | None, options: DeployOptions, reporter: Reporter | None = None
) -> RollbackResult:
    """Make an earlier revision (default: the one before the current) live again, as a new revision."""
    reporter = reporter or Reporter()
    async with await open_client(rendered, options) as client:
        if await client.get("v1", "Namespace", rendered.namespace) is None:
            raise UsageError(
                f"release {rendered.release} is not installed (no namespace {rendered.namespace})"
            )
        async with _release_lock(client, rendered, options, reporter) as lock:
            store = ReleaseStore(client, rendered.release, rendered.namespace)
            history = await store.revisions()
            await _mark_interrupted(store, history, reporter)
            if not history:
                raise UsageError(f"release {rendered.release} has no history to roll back to")
            deployed = next((r for r in reversed(history) if r.status == "deployed"), history[0])
            latest = history[-1]
            if target is None:
                # After a failed or interrupted revision, "back" means to the last good one; otherwise
                # to the good one before the current.
                before = latest.number + 1 if latest.status != "deployed" else latest.number
                earlier = [r for r in history if r.number < before and r.status in ("deployed", "superseded")]
                if not earlier:
                    raise UsageError(
                        f"release {rendered.release} has no good revision before {latest.number}"
                    )
                chosen = earlier[-1]
            else:
                found = next((r for r in history if r.number == target), None)
                if found is None:
                    available = ", ".join(str(r.number) for r in history)
                    raise UsageError(
                        f"release {rendered.release} has no revision {target}; available: {available}"
                    )
                chosen = found
            live = [o for r in history if r.number >= deployed.number for o in r.manifests]
            number = history[-1].number + 1
            reporter.message(
                f"rolling {rendered.release} back to revision {chosen.number} as revision {number}"
            )
            waited = await _rollback_to(
                client, lock, store, chosen, live, number, f"rollback to {chosen.number}", options, reporter
            )
    result = RollbackResult(
        rendered.release, rendered.namespace, number, chosen.number, waited.ready, waited.objects
    )
    if not waited.ready:
        detail = waited.failure.explain() if waited.failure else "not ready"
        raise ClusterError(
            f"rollback of {rendered.release} to revision {chosen.number} did not become ready:\n{detail}"
        )
    return result


async def history(rendered: Rendered, options: DeployOptions) -> list[Revision]:
    async with await open_client(rendered, options) as client:
        return await ReleaseStore(client, rendered.release, rendered.namespace).revisions()


@dataclass
class DownResult:
    release: str
    namespace: str
    deleted: list[Ref]
    namespace_deleted: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "namespace": self.namespace,
            "deleted": [r.as_dict() for r in self.deleted],
            "namespaceDeleted": self.namespace_deleted,
        }


async def down(rendered: Rendered, options: DeployOptions, reporter: Reporter | None = None) -> DownResult:
    """Delete every object the release ever applied, its history, and its namespace when it created it."""
    reporter = reporter or Reporter()
    async with await open_client(rendered, options) as client:
        namespace = await client.get("v1", "Namespace", rendered.namespace)
        if namespace is None:
            reporter.message(
                f"release {rendered.release} is not installed (no namespace {rendered.namespace})"
            )
            return DownResult(rendered.release, rendered.namespace, [], False)
        async with _release_lock(client, rendered, options, reporter) as lock:
            store = ReleaseStore(client, rendered.release, rendered.namespace)
            revisions = await store.revisions()
            objects: dict[Ref, Obj] = {}
            for obj in [o for r in revisions for o in r.manifests] + rendered.objects:
                objects.setdefault(Ref.of(obj), obj)
            own_namespace = Ref("v1", "Namespace", "", rendered.namespace) in objects and (
                rendered.namespace not in PROTECTED_NAMESPACES
            )
            members = [o for ref, o in objects.items() if ref.kind != "Namespace"]
            deleted = await _delete_all(client, members, reporter, "deleted")
            await store.delete_all()
            deleted += await _release_addons(client, rendered, options, reporter)
            others = await _other_releases(client, rendered.namespace, rendered.release)
            if own_namespace and others:
                own_namespace = False
                reporter.message(
                    f"keeping namespace {rendered.namespace}: releases {', '.join(others)} still live in it"
                )
        if own_namespace:
            if await client.delete("v1", "Namespace", rendered.namespace):
                deleted.append(Ref("v1", "Namespace", "", rendered.namespace))
                reporter.applied(Ref("v1", "Namespace", "", rendered.namespace), "deleted")
            await _wait_gone(client, rendered.namespace, options.timeout, reporter)
        else:
            await client.delete("coordination.k8s.io/v1", "Lease", lock.lease.name, rendered.namespace)
    return DownResult(rendered.release, rendered.namespace, deleted, own_namespace)


@contextlib.asynccontextmanager
async def _release_lock(
    client: KubeClient, rendered: Rendered, options: DeployOptions, reporter: Reporter
) -> AsyncIterator[DeployLock]:
    """Hold the release's lock (waiting for another run's, up to ``options.lock_timeout``)."""
    lock = DeployLock(
        client,
        rendered.release,
        rendered.namespace,
        duration_seconds=options.lock_duration,
        timeout_seconds=options.lock_timeout,
        on_message=reporter.message,
        holder=options.identity or default_identity(),
    )
    await lock.acquire()
    try:
        yield lock
    finally:
        await lock.release()


async def _other_releases(client: KubeClient, namespace: str, release: str) -> list[str]:
    secrets = await client.list("v1", "Secret", namespace, label_selector=f"{OWNER_LABEL}=kumo")
    names = {str((s["metadata"].get("labels") or {}).get(NAME_LABEL)) for s in secrets}
    return sorted(n for n in names if n and n != release)


async def _explain_on_object(client: KubeClient, failure: RolloutFailure, text: str) -> None:
    """Leave the reason on the failed object, where `kubectl describe` and `kumo status` show it."""
    ref = failure.ref
    with contextlib.suppress(ClusterError):
        involved = await client.get(ref.api_version, ref.kind, ref.name, ref.namespace or None)
        if involved is not None:
            await record_event(
                client,
                involved,
                "KumoRollbackTriggered" if "roll" in text else "KumoRolloutFailed",
                text,
                type="Warning",
                component="kumo",
            )


async def _wait_gone(client: KubeClient, namespace: str, timeout: float, reporter: Reporter) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            if await client.get("v1", "Namespace", namespace) is None:
                return
        except NotFound:
            return
        await asyncio.sleep(0.2)
    # Not a success: something in the namespace (a finalizer nobody removes) keeps it, and with it
    # whatever that object holds.
    raise ClusterError(
        f"the release's objects were deleted, but namespace {namespace} is still terminating after "
        f"{timeout:g}s",
        f"Something in it holds a finalizer: `kubectl get all,secrets,configmaps -n {namespace}` and "
        f"`kubectl get namespace {namespace} -o yaml` show what; run `kumo down` again once it is gone.",
    )
