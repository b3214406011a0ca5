"""Waiting for a release to become ready, with per-object progress and early failure detection.

Informers (list + watch) keep Deployments, ReplicaSets, Pods and Services of the namespace in
memory, so the wait costs a handful of requests however long it takes. A rollout is failed
early, without waiting out the timeout, when a Pod of its newest ReplicaSet is stuck in a way
that will not fix itself (image pull, crash loop, unschedulable) or when the Deployment reports
its progress deadline as exceeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kumo.deploy.objects import Obj, Ref
from kumo.errors import ClusterError
from kumo.kube import ApiError, ApiLost, Informer, KubeClient, readiness
from kumo.kube.timefmt import now, parse_time

#: Log lines of a crashing container shown in the failure report.
LOG_LINES = 10

#: Kinds whose readiness is waited for; anything else (ConfigMap, RBAC, ...) is ready once applied.
WAITABLE_KINDS = frozenset(
    {
        "Deployment",
        "Service",
        "StatefulSet",
        "DaemonSet",
        "Ingress",
        "Gateway",
        "Job",
        "PersistentVolumeClaim",
    }
)


@dataclass
class ObjectProgress:
    ref: Ref
    state: str
    message: str
    address: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**self.ref.as_dict(), "state": self.state, "message": self.message, "address": self.address}


@dataclass
class RolloutFailure:
    """Why a rollout failed: the object, the reason (e.g. ImagePullBackOff), a message, and Pod events."""

    ref: Ref
    reason: str
    message: str
    pod: str | None = None
    events: list[str] = field(default_factory=list)
    #: The crashing container's last log lines (CrashLoopBackOff), as ``container: line``.
    logs: list[str] = field(default_factory=list)

    def explain(self) -> str:
        lines = [f"{self.ref.short} failed: {self.reason}: {self.message}"]
        if self.pod:
            lines.append(f"  pod {self.pod}")
        lines.extend(f"  event: {event}" for event in self.events)
        lines.extend(f"  log: {line}" for line in self.logs)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": self.ref.as_dict(),
            "reason": self.reason,
            "message": self.message,
            "pod": self.pod,
            "events": self.events,
            "logs": self.logs,
        }


@dataclass
class WaitResult:
    ready: bool
    objects: list[ObjectProgress]
    failure: RolloutFailure | None = None
    timed_out: bool = False


ProgressCallback = Callable[[list[ObjectProgress]], Any]


def _is_waitable(ref: Ref) -> bool:
    return ref.kind in WAITABLE_KINDS


REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


def _revision(obj: Obj) -> str:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION, ""))


def newest_replicaset(deployment: Obj, replicasets: Iterable[Obj]) -> Obj | None:
    """The ReplicaSet of the Deployment's current revision.

    That is the one whose revision annotation equals the Deployment's, or None while no ReplicaSet
    seen yet has it: an informer's cache of ReplicaSets can lag the Deployment's, and after a
    rollback the highest revision seen may still be the broken one being left. Without the
    Deployment's annotation: the highest revision, then the newest.
    """
    uid = (deployment.get("metadata") or {}).get("uid")
    name = (deployment.get("metadata") or {}).get("name")
    owned = [
        rs
        for rs in replicasets
        if any(
            o.get("kind") == "Deployment" and (o.get("uid") == uid or (not uid and o.get("name") == name))
            for o in (rs.get("metadata") or {}).get("ownerReferences") or []
        )
    ]
    wanted = _revision(deployment)
    if wanted:
        owned = [rs for rs in owned if _revision(rs) == wanted]
    if not owned:
        return None

    def rank(rs: Obj) -> tuple[int, float]:
        revision = _revision(rs)
        created = parse_time((rs.get("metadata") or {}).get("creationTimestamp"))
        return (int(revision) if revision.isdigit() else 0, created.timestamp() if created else 0.0)

    return max(owned, key=rank)


def pods_of(replicaset: Obj, pods: Iterable[Obj]) -> list[Obj]:
    uid = (replicaset.get("metadata") or {}).get("uid")
    name = (replicaset.get("metadata") or {}).get("name")
    return [
        p
        for p in pods
        if any(
            o.get("kind") == "ReplicaSet" and (o.get("uid") == uid or (not uid and o.get("name") == name))
            for o in (p.get("metadata") or {}).get("ownerReferences") or []
        )
    ]


def _by_owner(objs: Iterable[Obj]) -> dict[Any, list[Obj]]:
    """Objects by the uid of each of their owners."""
    out: dict[Any, list[Obj]] = {}
    for obj in objs:
        for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
            out.setdefault(owner.get("uid"), []).append(obj)
    return out


def _unschedulable_for(pod: Obj) -> float:
    """Seconds the Pod has been Unschedulable (0 when it is not, or the time is unknown)."""
    scheduled = readiness.conditions(pod).get("PodScheduled") or {}
    if scheduled.get("reason") != "Unschedulable":
        return 0.0
    since = parse_time(scheduled.get("lastTransitionTime"))
    return max(0.0, (now() - since).total_seconds()) if since else 0.0


def deployment_failure(
    deployment: Obj,
    replicasets: Iterable[Obj],
    pods: Iterable[Obj],
    unschedulable_grace: float = 0.0,
) -> RolloutFailure | None:
    """A failure that waiting will not fix, if any, for this Deployment's current rollout.

    An Unschedulable Pod counts only after ``unschedulable_grace`` seconds, since a cluster
    autoscaler may be adding the node it needs.
    """
    ref = Ref.of(deployment)
    state, message = readiness.status(deployment)
    if state == readiness.FAILED:
        return RolloutFailure(ref, "ProgressDeadlineExceeded", message)
    generation = (deployment.get("metadata") or {}).get("generation")
    observed = (deployment.get("status") or {}).get("observedGeneration")
    if generation is not None and (observed is None or int(observed) < int(generation)):
        # The controller has not made the ReplicaSet for this spec yet; the newest one is older.
        return None
    current = newest_replicaset(deployment, replicasets)
    if current is None:
        return None
    for pod in pods_of(current, pods):
        problem = readiness.pod_problem(pod)
        if problem and problem[0] == "Unschedulable" and _unschedulable_for(pod) < unschedulable_grace:
            continue
        if problem:
            return RolloutFailure(ref, problem[0], problem[1], pod=(pod.get("metadata") or {}).get("name"))
    return None


def event_time(event: Obj) -> str:
    """When an event last happened, as the API wrote it (Time or MicroTime)."""
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def in_time_order(events: list[Obj]) -> list[Obj]:
    """Oldest first. Times are compared as times (a MicroTime and a Time of the same second do not
    sort as text would); within one second the resourceVersion, which only grows, orders them."""
    epoch = datetime.min.replace(tzinfo=UTC)

    def key(event: Obj) -> tuple[datetime, int]:
        version = str((event.get("metadata") or {}).get("resourceVersion") or "0")
        moment = parse_time(event_time(event)) or epoch
        return moment.replace(microsecond=0), int(version) if version.isdigit() else 0

    return sorted(events, key=key)


async def pod_events(client: KubeClient, namespace: str, pod: str, limit: int = 5) -> list[str]:
    """The most recent events about a Pod, oldest first, as ``Warning Failed: message`` lines."""
    events = await client.list("v1", "Event", namespace)
    mine = in_time_order([e for e in events if (e.get("involvedObject") or {}).get("name") == pod])
    return [f"{e.get('type', 'Normal')} {e.get('reason', '')}: {e.get('message', '')}" for e in mine[-limit:]]


async def crash_logs(client: KubeClient, namespace: str, pod: Obj, lines: int = LOG_LINES) -> list[str]:
    """The last log lines of each crashing container's previous run (what it printed before dying)."""
    found: list[str] = []
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") != "CrashLoopBackOff":
            continue
        name = str(status.get("name"))
        try:
            text = await client.pod_log(namespace, pod["metadata"]["name"], name, lines, previous=True)
        except ClusterError as exc:
            found.append(f"{name}: (no log: {exc.message})")
            continue
        found.extend(f"{name}: {line}" for line in text.splitlines()[-lines:])
    return found


class ReleaseWatcher:
    """Informer caches of one namespace: Deployments, ReplicaSets and Pods, plus each waited-for kind."""

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        kinds: Iterable[tuple[str, str]] = (),
        unschedulable_grace: float = 0.0,
        lost_after: float | None = None,
        track: Iterable[tuple[str, str]] = (),
    ) -> None:
        """``kinds``: those waited for (the waitable ones among them); ``track``: kinds only cached,
        for their objects' resourceVersions (dropped when the deployer may not list them)."""
        self.client = client
        self.lost_after = lost_after
        self.unschedulable_grace = unschedulable_grace
        self.namespace = namespace
        # Streaming lists: one request per kind where the server serves them, a list and a watch otherwise.
        self.deployments = Informer(client, "apps/v1", "Deployment", namespace, stream_list=True)
        self.replicasets = Informer(client, "apps/v1", "ReplicaSet", namespace, stream_list=True)
        self.pods = Informer(client, "v1", "Pod", namespace, stream_list=True)
        self._by_kind: dict[tuple[str, str], Informer] = {("apps/v1", "Deployment"): self.deployments}
        for api_version, kind in sorted(set(kinds)):
            if (api_version, kind) not in self._by_kind and kind in WAITABLE_KINDS:
                self._by_kind[(api_version, kind)] = Informer(
                    client, api_version, kind, namespace, stream_list=True
                )
        self._tracked_only: set[tuple[str, str]] = set()
        for key in sorted(set(track)):
            if key not in self._by_kind and key not in {("apps/v1", "ReplicaSet"), ("v1", "Pod")}:
                self._by_kind[key] = Informer(client, key[0], key[1], namespace, stream_list=True)
                self._tracked_only.add(key)
        #: resourceVersions each watched object has been seen at, and what this run applied (see expect)
        self._seen: dict[Ref, set[str]] = {}
        self._applied: dict[Ref, tuple[str, int, Obj]] = {}
        self.changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._dropped: list[asyncio.Task[None]] = []
        for informer in self._informers:
            informer.add_handler(self._on_change)

    @property
    def _informers(self) -> list[Informer]:
        extra = [i for key, i in self._by_kind.items() if key != ("apps/v1", "Deployment")]
        return [self.deployments, self.replicasets, self.pods, *extra]

    def _on_change(self, _type: str, obj: Obj, _old: Obj | None) -> None:
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version and (obj.get("apiVersion"), obj.get("kind")) in self._by_kind:
            self._seen.setdefault(Ref.of(obj), set()).add(str(version))
        self.changed.set()

    def watches(self, ref: Ref) -> bool:
        """Whether the caches hold objects of ``ref``'s kind (in this namespace)."""
        return (ref.api_version, ref.kind) in self._by_kind and ref.namespace == self.namespace

    def version(self, ref: Ref) -> str | None:
        """The resourceVersion of the cached object, None when it does not exist (as far as seen)."""
        informer = self._by_kind.get((ref.api_version, ref.kind))
        obj = informer.get(ref.namespace, ref.name) if informer else None
        version = (obj or {}).get("metadata", {}).get("resourceVersion")
        return str(version) if version else None

    def expect(self, applied: dict[Ref, Obj]) -> None:
        """Objects this run applied, with the API's answers. Watching started before the apply, so
        until the watch has delivered the version an apply wrote (or relisted since), the cache
        may still hold the object as it was before; until then the answer stands in for it (its
        spec is the new one, its status says whether the controller has seen that spec yet)."""
        for ref, answer in applied.items():
            informer = self._by_kind.get((ref.api_version, ref.kind))
            version = (answer.get("metadata") or {}).get("resourceVersion")
            if informer is not None and version:
                self._applied[ref] = (str(version), informer.list_count, answer)

    async def __aenter__(self) -> ReleaseWatcher:
        self._tasks = [asyncio.create_task(i.run()) for i in self._informers]
        try:
            deadline = time.monotonic() + 30
            for informer in list(self._informers):
                while not informer.synced:
                    if self._untrackable(informer):
                        break
                    self.check_api()
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        await informer.wait_synced(timeout=0)  # raises "could not list ..."
                    with contextlib.suppress(ClusterError):
                        await informer.wait_synced(timeout=min(1.0, remaining))
        except BaseException:
            await self.stop()
            raise
        return self

    def _untrackable(self, informer: Informer) -> bool:
        """A kind cached only for its versions that the deployer may not list: do without it."""
        key = (informer.api_version, informer.kind)
        error = informer.last_error
        if key not in self._tracked_only or not isinstance(error, ApiError) or error.code not in (403, 404):
            return False
        task = self._tasks.pop(self._informers.index(informer))
        task.cancel()
        self._dropped.append(task)
        del self._by_kind[key]
        self._tracked_only.discard(key)
        return True

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        tasks = self._tasks + self._dropped
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks, self._dropped = [], []

    def check_api(self) -> None:
        """Raise ApiLost once the API has not answered for ``lost_after`` seconds: waiting longer
        cannot succeed, and the release lock (renewed through the same API) has expired by then."""
        if self.lost_after is None:
            return
        silent = self.client.unanswered_for()
        if silent >= self.lost_after:
            raise ApiLost(
                f"lost the Kubernetes API at {self.client.server}: no answer for {silent:.0f} s "
                f"(the limit is {self.lost_after:g} s, the release lock's lease; last failure: "
                f"{self.client.last_failure})"
            )

    def cached(self, ref: Ref) -> Obj | None:
        informer = self._by_kind.get((ref.api_version, ref.kind))
        if informer is None:
            return None
        applied = self._applied.get(ref)
        if applied is not None:
            version, lists, answer = applied
            if version in self._seen.get(ref, ()) or informer.list_count > lists:
                del self._applied[ref]  # the watch has caught up with this run's apply
            else:
                return answer
        return informer.get(ref.namespace, ref.name)

    async def wait(
        self,
        refs: list[Ref],
        timeout: float,
        on_progress: ProgressCallback | None = None,
        fail_fast: bool = True,
    ) -> WaitResult:
        """Until every waitable ref is Current, one fails (with ``fail_fast``), or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        waitable = [r for r in refs if _is_waitable(r) and (r.api_version, r.kind) in self._by_kind]
        last_report: list[tuple[str, str, str | None]] | None = None
        while True:
            self.check_api()
            self.changed.clear()
            progress = [self._progress(ref) for ref in waitable]
            report = [(p.state, p.message, p.address) for p in progress]
            if on_progress is not None and report != last_report:
                on_progress(progress)
                last_report = report
            if fail_fast:
                failure = self._failure(waitable)
                if failure is not None:
                    if failure.pod:
                        failure.events = await pod_events(self.client, self.namespace, failure.pod)
                        pod = self.pods.get(self.namespace, failure.pod)
                        if pod is not None and failure.reason == "CrashLoopBackOff":
                            failure.logs = await crash_logs(self.client, self.namespace, pod)
                    return WaitResult(False, progress, failure)
            if all(p.state == readiness.CURRENT for p in progress):
                return WaitResult(True, progress)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                first = next(p for p in progress if p.state != readiness.CURRENT)
                failure = RolloutFailure(
                    first.ref, "Timeout", f"not ready after {timeout:g}s: {first.message}"
                )
                return WaitResult(False, progress, failure, timed_out=True)
            # Woken by any informer change; the periodic tick re-evaluates time-based states.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))

    def _progress(self, ref: Ref) -> ObjectProgress:
        obj = self.cached(ref)
        if obj is None:
            return ObjectProgress(ref, readiness.IN_PROGRESS, "not created yet")
        state, message = readiness.status(obj)
        return ObjectProgress(ref, state, message, readiness.lb_address(obj))

    def _failure(self, refs: list[Ref]) -> RolloutFailure | None:
        # Indexed by owner once per look: scanning every ReplicaSet and Pod for each Deployment on
        # every change was most of a 50-app rollout's client time.
        replicasets = _by_owner(self.replicasets.items())
        pods = _by_owner(self.pods.items())
        for ref in refs:
            if ref.kind != "Deployment":
                continue
            deployment = self.cached(ref)
            uid = ((deployment or {}).get("metadata") or {}).get("uid")
            if deployment is None or not uid:
                continue
            owned = replicasets.get(uid, [])
            owned_pods = [p for rs in owned for p in pods.get((rs.get("metadata") or {}).get("uid"), [])]
            failure = deployment_failure(deployment, owned, owned_pods, self.unschedulable_grace)
            if failure is not None:
                return failure
        return None
