"""The console's one read model: informer caches of the cluster, metrics history and DNS status.

Every page and API answer is computed from this memory, never from a request to the API server,
so the number of open browsers does not change what the API server sees: one list and one watch
per kind, one metrics read per interval, however many tabs are open. Changes are pushed to
subscribers (the SSE streams) as a version number and the releases they touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from kumo.deploy import RELEASE_LABEL, RELEASE_NAME_LABEL, RELEASE_OWNER_LABEL
from kumo.errors import KumoError
from kumo.kube import ApiError, Informer, KubeClient, NotFound, Obj

log = logging.getLogger(__name__)

ReleaseKey = tuple[str, str]  # (namespace, release)

#: (apiVersion, kind, label selector) of what the console watches, always cluster-wide.
WATCHED: list[tuple[str, str, str | None]] = [
    ("apps/v1", "Deployment", None),
    ("apps/v1", "ReplicaSet", None),
    ("v1", "Pod", None),
    ("v1", "Service", None),
    ("networking.k8s.io/v1", "Ingress", None),
    ("v1", "Event", None),
    ("v1", "Node", None),
    # Release history only: the console never sees any other Secret.
    ("v1", "Secret", f"{RELEASE_OWNER_LABEL}=kumo"),
]
#: Watched only when the cluster serves them (CRDs).
OPTIONAL: list[tuple[str, str, str | None]] = [
    ("cert-manager.io/v1", "Certificate", None),
    ("gateway.networking.k8s.io/v1", "Gateway", None),
]

#: The DNS controller's metrics port, where it serves /status.json.
DNS_METRICS_PORT = 7979

#: Samples of CPU and memory kept per Pod (with the default 15 s interval: the last 5 minutes).
HISTORY = 20


def parse_cpu(text: str) -> float:
    """Millicores from a CPU quantity (``250m``, ``1``, ``12345n``, ``5u``)."""
    units = {"n": 1e-6, "u": 1e-3, "m": 1.0}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text or 0) * 1000


_MEM = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def parse_memory(text: str) -> int:
    """Bytes from a memory quantity (``64Mi``, ``1G``, ``1000``)."""
    for suffix in ("Ki", "Mi", "Gi", "Ti", "k", "K", "M", "G", "T"):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * _MEM[suffix])
    return int(float(text or 0))


@dataclass
class DnsFetch:
    """The last answer of one DNS controller's /status.json."""

    url: str
    document: dict[str, Any] | None = None
    error: str | None = None
    fetched_at: str | None = None


@dataclass
class Usage:
    cpu: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    memory: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY))


_METADATA_KEYS = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "labels",
    "ownerReferences",
)
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


def _pick(obj: Obj | None, keys: tuple[str, ...]) -> Obj:
    return {k: obj[k] for k in keys if obj and k in obj}


def _containers(spec: Obj | None) -> list[Obj]:
    return [_pick(c, ("name", "image")) for c in (spec or {}).get("containers") or []]


def slim(obj: Obj) -> Obj:
    """What the console shows of an object, and nothing else: the caches hold thousands of Pods
    and Events, and managedFields, volumes or env would be most of their memory."""
    kind = obj.get("kind")
    metadata = obj.get("metadata") or {}
    meta = _pick(metadata, _METADATA_KEYS)
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k not in _DROPPED_ANNOTATIONS
    }
    if annotations and kind != "Pod":
        meta["annotations"] = annotations
    out: Obj = {"apiVersion": obj.get("apiVersion"), "kind": kind, "metadata": meta}
    spec = obj.get("spec") or {}
    if kind == "Pod":
        out["spec"] = {"nodeName": spec.get("nodeName"), "containers": _containers(spec)}
        status = obj.get("status") or {}
        out["status"] = _pick(status, ("phase", "reason", "message", "startTime", "podIP", "conditions"))
        for key in ("containerStatuses", "initContainerStatuses"):
            if key in status:
                out["status"][key] = [
                    _pick(c, ("name", "image", "restartCount", "ready", "state")) for c in status[key]
                ]
        return out
    if kind == "Event":
        out.update(
            _pick(obj, ("type", "reason", "message", "count", "lastTimestamp", "eventTime", "firstTimestamp"))
        )
        out["involvedObject"] = _pick(obj.get("involvedObject"), ("kind", "name", "namespace"))
        return out
    if kind in ("Deployment", "ReplicaSet"):
        template = spec.get("template") or {}
        out["spec"] = {
            **_pick(spec, ("replicas", "paused", "selector")),
            "template": {"spec": {"containers": _containers(template.get("spec"))}},
        }
        out["status"] = obj.get("status") or {}
        return out
    if kind == "Node":
        status = obj.get("status") or {}
        out["status"] = {
            **_pick(status, ("capacity", "allocatable")),
            "conditions": [_pick(c, ("type", "status")) for c in status.get("conditions") or []],
        }
        return out
    return {**obj, "metadata": {**meta, **({"annotations": annotations} if annotations else {})}}


def release_of(obj: Obj) -> ReleaseKey | None:
    """The release an object belongs to, from kumo's labels (release Secrets carry their own)."""
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    name = labels.get(RELEASE_LABEL) or labels.get(RELEASE_NAME_LABEL)
    if not name:
        return None
    return str(metadata.get("namespace") or ""), str(name)


class ReadModel:
    def __init__(
        self,
        client: KubeClient,
        *,
        dns_urls: list[str] | None = None,
        dns_pods: str | None = None,
        metrics_interval: float = 15.0,
        dns_interval: float = 5.0,
        coalesce: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.metrics_interval = metrics_interval
        self.dns_interval = dns_interval
        self.coalesce = coalesce
        self.clock = clock
        self.informers: dict[str, Informer] = {}
        self.dns: list[DnsFetch] = [DnsFetch(url) for url in dns_urls or []]
        #: In a cluster: the app.kubernetes.io/name of the DNS controller's Pods, found in the Pod cache.
        self.dns_pods = dns_pods
        self.pod_usage: dict[tuple[str, str], Usage] = {}
        self.node_usage: dict[str, tuple[float, int]] = {}
        self.metrics_available: bool | None = None
        #: Bumped on every published change; views cache their result per version.
        self.version = 0
        self._touched: set[ReleaseKey] = set()
        self._touched_all = False
        self._dirty = asyncio.Event()
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._view_cache: dict[Any, tuple[int, Any]] = {}
        # Indexes kept up to date on every informer event, so a view never scans the whole cluster:
        # the objects of each release by kind, a counter per release bumped on each of its changes
        # (views memoize per release on it), and Events by namespace.
        self.index: dict[ReleaseKey, dict[str, dict[tuple[str, str], Obj]]] = {}
        self.stamps: dict[ReleaseKey, int] = defaultdict(int)
        self.events_by_ns: dict[str, dict[str, Obj]] = defaultdict(dict)
        #: Bumped when a DNS controller's document changes.
        self.dns_version = 0
        #: Per-release memo of the views (keyed and validated by the views themselves).
        self.memo: dict[Any, Any] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        kinds = list(WATCHED)
        for api_version, kind, selector in OPTIONAL:
            with contextlib.suppress(NotFound, KumoError):
                await self.client.resource(api_version, kind)
                kinds.append((api_version, kind, selector))
        for api_version, kind, selector in kinds:
            informer = Informer(self.client, api_version, kind, label_selector=selector, transform=slim)
            informer.add_handler(self._on_change)
            self.informers[kind] = informer
            self._tasks.append(asyncio.create_task(informer.run(), name=f"console-{kind}"))
        self._tasks.append(asyncio.create_task(self._publish_loop(), name="console-publish"))
        self._tasks.append(asyncio.create_task(self._metrics_loop(), name="console-metrics"))
        if self.dns or self.dns_pods:
            self._tasks.append(asyncio.create_task(self._dns_loop(), name="console-dns"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    @property
    def synced(self) -> bool:
        return bool(self.informers) and all(i.synced for i in self.informers.values())

    async def wait_synced(self, timeout: float) -> None:
        await asyncio.gather(*(i.wait_synced(timeout) for i in self.informers.values()))

    # -- reading -------------------------------------------------------------------------------

    def items(self, kind: str) -> list[Obj]:
        informer = self.informers.get(kind)
        return informer.items() if informer else []

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``'s result, computed at most once per model version."""
        hit = self._view_cache.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        value = compute()
        self._view_cache[key] = (self.version, value)
        if len(self._view_cache) > 512:
            stale = [k for k, (v, _) in self._view_cache.items() if v != self.version]
            for k in stale:
                del self._view_cache[k]
        return value

    # -- changes -------------------------------------------------------------------------------

    def _on_change(self, event: str, obj: Obj, old: Obj | None) -> None:
        kind = str(obj.get("kind") or "")
        metadata = obj.get("metadata") or {}
        name = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        if kind == "Event":
            if event == "DELETED":
                self.events_by_ns[name[0]].pop(name[1], None)
            else:
                self.events_by_ns[name[0]][name[1]] = obj
        key = release_of(obj)
        old_key = release_of(old) if old is not None else None
        if old_key is not None and old_key != key:
            self.index.get(old_key, {}).get(kind, {}).pop(name, None)
            self.stamps[old_key] += 1
            self._touched.add(old_key)
        if key is not None:
            objects = self.index.setdefault(key, {}).setdefault(kind, {})
            if event == "DELETED":
                objects.pop(name, None)
            else:
                objects[name] = obj
            self.stamps[key] += 1
            self._touched.add(key)
        else:
            # Events, Nodes and objects outside a release: the pages that show them refresh.
            self._touched_all = True
        self._dirty.set()

    def touch_all(self) -> None:
        self._touched_all = True
        self._dirty.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._dirty.wait()
            # Coalesce a burst (a rollout is dozens of events) into one push.
            await asyncio.sleep(self.coalesce)
            self._dirty.clear()
            self.version += 1
            message = {
                "version": self.version,
                "all": self._touched_all,
                "releases": sorted(f"{ns}/{name}" for ns, name in self._touched),
            }
            self._touched = set()
            self._touched_all = False
            for queue in list(self._subscribers):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                    message = {**message, "all": True}
                queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=8)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- metrics.k8s.io (not watchable: read on a fixed interval, whatever the browsers do) -----

    async def _metrics_loop(self) -> None:
        while True:
            try:
                await self.read_metrics()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # metrics are a bonus; the console works without them
                log.warning("console: cannot read metrics.k8s.io: %s", exc)
            await asyncio.sleep(
                self.metrics_interval if self.metrics_available else self.metrics_interval * 4
            )

    async def read_metrics(self) -> None:
        try:
            pods = await self.client.list("metrics.k8s.io/v1beta1", "PodMetrics")
            nodes = await self.client.list("metrics.k8s.io/v1beta1", "NodeMetrics")
        except (NotFound, ApiError):
            self.metrics_available = False
            return
        self.metrics_available = True
        seen: set[tuple[str, str]] = set()
        for item in pods:
            metadata = item.get("metadata") or {}
            key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
            seen.add(key)
            cpu = sum(
                parse_cpu(str((c.get("usage") or {}).get("cpu", "0"))) for c in item.get("containers") or []
            )
            memory = sum(
                parse_memory(str((c.get("usage") or {}).get("memory", "0")))
                for c in item.get("containers") or []
            )
            usage = self.pod_usage.setdefault(key, Usage())
            usage.cpu.append(round(cpu, 3))
            usage.memory.append(memory)
        for key in list(self.pod_usage):
            if key not in seen:
                del self.pod_usage[key]
        self.node_usage = {
            str((n.get("metadata") or {}).get("name")): (
                parse_cpu(str((n.get("usage") or {}).get("cpu", "0"))),
                parse_memory(str((n.get("usage") or {}).get("memory", "0"))),
            )
            for n in nodes
        }
        self.touch_all()

    # -- DNS controller status ----------------------------------------------------------------

    async def _dns_loop(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as http:
            while True:
                await self.read_dns(http)
                await asyncio.sleep(self.dns_interval)

    def _find_dns_pods(self) -> None:
        """Point ``self.dns`` at the Running DNS controller Pods' metrics ports (kept across reads)."""
        urls = sorted(
            f"http://{(p.get('status') or {}).get('podIP')}:{DNS_METRICS_PORT}/status.json"
            for p in self.items("Pod")
            if ((p.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/name") == self.dns_pods
            and (p.get("status") or {}).get("phase") == "Running"
            and (p.get("status") or {}).get("podIP")
        )
        known = {f.url: f for f in self.dns}
        self.dns = [known.get(url) or DnsFetch(url) for url in urls]

    async def read_dns(self, http: httpx.AsyncClient) -> None:
        changed = False
        if self.dns_pods:
            urls = [f.url for f in self.dns]
            self._find_dns_pods()
            changed = urls != [f.url for f in self.dns]
        for fetch in self.dns:
            before = (fetch.document, fetch.error)
            try:
                response = await http.get(fetch.url)
                response.raise_for_status()
                document = response.json()
                if not isinstance(document, dict) or "names" not in document:
                    raise ValueError("not a kumo DNS controller status document")
                fetch.document, fetch.error = document, None
            except (httpx.HTTPError, ValueError) as exc:
                fetch.error = f"{type(exc).__name__}: {exc}"
            fetch.fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            changed = changed or before != (fetch.document, fetch.error)
        if changed:
            self.dns_version += 1
            self.touch_all()
