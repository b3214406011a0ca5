"""The simulation loop: a work queue of (controller, namespace, name) keys plus timers.

Controllers act through the store's public in-process API (create/update/patch/delete), the same
operations a real controller would perform through the Kubernetes API. Reconciles are
level-triggered and idempotent, so a key can be queued any number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections import deque
from typing import Any, Protocol

from kumo.sandbox.kubeapi import ApiError, Event, ResourceType, Store
from kumo.sandbox.simulate.config import SimConfig

log = logging.getLogger(__name__)

WorkKey = tuple[str, str, str]  # (controller, namespace, name)


class Controller(Protocol):
    name: str

    def on_event(self, ev: Event) -> None: ...

    def reconcile(self, namespace: str, name: str) -> None: ...


class SimBase:
    """Shared services for controllers: typed resource handles, queueing, timers, events."""

    def __init__(self, store: Store, config: SimConfig) -> None:
        self.store = store
        self.config = config
        self.rng = random.Random(config.seed)
        self._queue: deque[WorkKey] = deque()
        self._queued: set[WorkKey] = set()
        self._wake: asyncio.Event | None = None
        #: pending timers only (each removes itself when it fires), so that stop() can cancel them
        self._timers: set[asyncio.TimerHandle] = set()
        self._event_seq = 0
        self._event_names: dict[tuple[str, str, str, str, str], str] = {}
        self.controllers: dict[str, Controller] = {}
        self.enabled = True

    def rt(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self.store.catalog.lookup(group, version, plural)
        assert rt is not None, plural
        return rt

    def enqueue(self, controller: str, namespace: str, name: str) -> None:
        key = (controller, namespace, name)
        if key in self._queued:
            return
        self._queued.add(key)
        self._queue.append(key)
        if self._wake is not None:
            self._wake.set()

    def later(self, delay: float, controller: str, namespace: str, name: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        def fire() -> None:
            self._timers.discard(handle)
            self.enqueue(controller, namespace, name)

        handle = loop.call_later(max(0.0, delay), fire)
        self._timers.add(handle)

    def stable_hex(self, *parts: str, n: int = 10) -> str:
        return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]

    def cloud(self) -> tuple[str, str]:
        """``(lb_mode, region)`` of the cluster, read from its Nodes as a cloud controller knows where
        it runs: a Node whose ``providerID`` is ``aws://...`` makes AWS load balancers in that Node's
        ``topology.kubernetes.io/region``; any other provider gets IP addresses. Without Nodes, or
        with ``lb_mode="generic"`` configured, the configuration decides."""
        cfg = self.config
        if cfg.lb_mode != "aws":
            return cfg.lb_mode, cfg.region
        nodes = self.store.list_refs(self.rt("", "v1", "nodes"), None)[0]
        for node in nodes:
            provider = str((node.get("spec") or {}).get("providerID") or "")
            if not provider:
                continue
            if not provider.startswith("aws://"):
                return "generic", cfg.region
            labels = node["metadata"].get("labels") or {}
            return "aws", str(labels.get("topology.kubernetes.io/region") or cfg.region)
        return cfg.lb_mode, cfg.region

    def now(self) -> str:
        return self.store.now()

    def record_event(
        self,
        involved: dict[str, Any],
        reason: str,
        message: str,
        typ: str = "Normal",
        component: str = "kubelet",
    ) -> None:
        """Emit a core/v1 Event like the component that would report it.

        Repeats (same object, reason, message and source) bump ``count`` and ``lastTimestamp`` of
        the first Event, as client-go's event correlator does, so a crash loop stays one Event."""
        meta = involved.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        events_rt = self.rt("", "v1", "events")
        key = (str(meta.get("uid")), reason, message, typ, component)
        known = self._event_names.get(key)
        if known is not None:
            current = self.store.try_get(events_rt, ns, known)
            if current is not None:
                current["count"] = int(current.get("count", 1)) + 1
                current["lastTimestamp"] = self.now()
                with contextlib.suppress(ApiError):
                    self.store.update(events_rt, ns, known, current, manager=component)
                return
        self._event_seq += 1
        name = f"{meta.get('name', 'x')}.{self.stable_hex(str(self.config.seed), str(self._event_seq), n=16)}"
        now = self.now()
        ev = {
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {
                "kind": involved.get("kind"),
                "apiVersion": involved.get("apiVersion"),
                "name": meta.get("name"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
                **({"namespace": meta["namespace"]} if meta.get("namespace") else {}),
            },
            "reason": reason,
            "message": message,
            "type": typ,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": "",
        }
        with contextlib.suppress(ApiError):
            self.store.create(events_rt, ns, ev, manager=component)
            if len(self._event_names) > 10000:
                self._event_names.clear()
            self._event_names[key] = name


class Simulator(SimBase):
    """Runs the simulated controllers on the store's event loop. ``start()``/``stop()`` switch it."""

    def __init__(self, store: Store, config: SimConfig | None = None) -> None:
        super().__init__(store, config or SimConfig())
        from kumo.sandbox.simulate.apps import (
            DeploymentController,
            ReplicaSetController,
            ReplicationControllerController,
        )
        from kumo.sandbox.simulate.autoscaling import HorizontalPodAutoscalerController
        from kumo.sandbox.simulate.certificates import CSRSigningController
        from kumo.sandbox.simulate.ingress import IngressController
        from kumo.sandbox.simulate.metrics import register_metrics
        from kumo.sandbox.simulate.namespaces import NamespaceController
        from kumo.sandbox.simulate.nodes import NodeController
        from kumo.sandbox.simulate.pods import PodController
        from kumo.sandbox.simulate.services import EndpointsController, LoadBalancerController
        from kumo.sandbox.simulate.system import SystemController
        from kumo.sandbox.simulate.workloads import DaemonSetController, StatefulSetController

        for ctl in (
            DeploymentController(self),
            ReplicaSetController(self),
            ReplicationControllerController(self),
            StatefulSetController(self),
            DaemonSetController(self),
            PodController(self),
            LoadBalancerController(self),
            EndpointsController(self),
            NodeController(self),
            IngressController(self),
            NamespaceController(self),
            SystemController(self),
            HorizontalPodAutoscalerController(self),
            CSRSigningController(self),
        ):
            self.controllers[ctl.name] = ctl
        self._task: asyncio.Task[None] | None = None
        register_metrics(self)

    def _on_event(self, ev: Event) -> None:
        if not self.enabled:
            return
        for ctl in self.controllers.values():
            ctl.on_event(ev)

    def start(self) -> None:
        self._wake = asyncio.Event()
        self.store.add_listener(self._on_event)
        with self.store.control_plane():
            self.controllers["node"].reconcile("", "")
            if self.config.system_pods:
                self.controllers["system"].reconcile("", "")
        for skey, obj in list(self.store.iter_all()):
            rt = self.store.rt_for_key(skey, obj)
            if rt is not None:
                self._on_event(Event(self.store.resource_version, skey, "ADDED", obj, None))
        # the initial state (nodes, namespace defaults) exists before the first request is served
        self.run_pending()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self.store.remove_listener(self._on_event)
        for t in self._timers:
            t.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def run_pending(self) -> None:
        """Process every queued key now, and those their reconciles queue (start-up and
        deterministic tests; the loop runs batches)."""
        with self.store.control_plane():
            while self._queue:
                self._reconcile(self._queue.popleft())

    def run_batch(self) -> None:
        """Process the keys queued now; those their reconciles queue wait for the next batch, so
        that requests are served between batches (a drain to empty kept clients waiting for a
        whole rollout's chain of reconciles, which the real control plane's separate processes
        never do)."""
        with self.store.control_plane():
            for _ in range(len(self._queue)):
                self._reconcile(self._queue.popleft())

    def _reconcile(self, key: WorkKey) -> None:
        self._queued.discard(key)
        ctl = self.controllers.get(key[0])
        if ctl is None:
            return
        try:
            ctl.reconcile(key[1], key[2])
        except ApiError as exc:
            # 403/404/409 are the ordinary races of controllers (a namespace going away, an
            # owner deleted meanwhile); anything else is worth a warning
            level = logging.DEBUG if exc.code in (403, 404, 409) else logging.WARNING
            log.log(level, "simulation: reconcile %s failed: %s", key, exc.message)
            self.later(0.2, *key)
        except Exception:
            log.exception("simulation error reconciling %s", key)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            # let the triggering request finish and batch bursts of events
            await asyncio.sleep(0.002)
            self.run_batch()
