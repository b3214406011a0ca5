"""The garbage collector and namespace controller, which the real control plane runs beside the API.

They are part of the API's semantics (ownerReferences, foreground/orphan deletion, namespace
deletion), not of the simulation, so they are always on. Both act only through :class:`Store`
writes, like the real controllers act through the API.
"""

from __future__ import annotations

import asyncio
from collections import deque

from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.namespaces import finalize_namespace
from kumo.sandbox.kubeapi.objects import fast_copy
from kumo.sandbox.kubeapi.store import Event, Store


class GarbageCollector:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: deque[Event] = deque()
        self._scheduled = False
        store.add_listener(self._on_event)

    def _on_event(self, ev: Event) -> None:
        self._pending.append(ev)
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._scheduled = True
        loop.call_soon(self.drain)

    def drain(self) -> None:
        """Process events until nothing is left to collect."""
        self._scheduled = False
        with self.store.control_plane():
            while self._pending:
                ev = self._pending.popleft()
                try:
                    self._handle(ev)
                except ApiError:
                    continue

    def _handle(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        uid = meta.get("uid", "")
        if ev.type == "DELETED":
            self._owner_gone(uid)
            for ref in meta.get("ownerReferences") or []:
                self._check_foreground(str(ref.get("uid", "")))
            if meta.get("namespace"):
                finalize_namespace(self.store, meta["namespace"])
            return
        if not meta.get("deletionTimestamp"):
            return
        if ev.key == ("", "namespaces"):
            self._empty_namespace(meta["name"])
            return
        finalizers = meta.get("finalizers") or []
        if "orphan" in finalizers:
            for rt, dep in self.store.dependents(uid):
                refs = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                self._set_refs(rt, dep, refs)
            self._drop_finalizer(ev, "orphan")
        elif "foregroundDeletion" in finalizers:
            for rt, dep in self.store.dependents(uid):
                if not dep["metadata"].get("deletionTimestamp"):
                    dm = dep["metadata"]
                    self.store.delete(rt, dm.get("namespace"), dm["name"], "Foreground")
            self._check_foreground(uid)

    def _set_refs(self, rt: ResourceType, dep: dict[str, object], refs: list[dict[str, object]]) -> None:
        new = fast_copy(dep)
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        dm = new["metadata"]
        self.store.update(rt, dm.get("namespace"), dm["name"], new)

    def _drop_finalizer(self, ev: Event, finalizer: str) -> None:
        rt = self.store.rt_for_key(ev.key, ev.obj)
        if rt is None:
            return
        meta = ev.obj["metadata"]
        current = self.store.try_get(rt, meta.get("namespace"), meta["name"])
        if current is None or current["metadata"].get("uid") != meta.get("uid"):
            return
        current["metadata"]["finalizers"] = [
            f for f in current["metadata"].get("finalizers") or [] if f != finalizer
        ]
        self.store.update(rt, meta.get("namespace"), meta["name"], current)

    def _owner_gone(self, uid: str) -> None:
        for rt, dep in self.store.dependents(uid):
            dm = dep["metadata"]
            refs = [r for r in dm.get("ownerReferences") or [] if r.get("uid") != uid]
            alive = [r for r in refs if self.store.find_by_uid(str(r.get("uid"))) is not None]
            if alive:
                self._set_refs(rt, dep, alive)
            elif not dm.get("deletionTimestamp"):
                self.store.delete(rt, dm.get("namespace"), dm["name"], "Background")

    def _check_foreground(self, uid: str) -> None:
        """An owner in foreground deletion goes once its dependents are gone."""
        if not uid:
            return
        found = self.store.find_by_uid(uid)
        if found is None:
            return
        rt, owner = found
        meta = owner["metadata"]
        if "foregroundDeletion" not in (meta.get("finalizers") or []) or not meta.get("deletionTimestamp"):
            return
        if self.store.dependents(uid):
            return
        self._drop_finalizer(Event(0, rt.store_key, "MODIFIED", owner, None), "foregroundDeletion")

    def _empty_namespace(self, name: str) -> None:
        for skey, obj in list(self.store.iter_all()):
            meta = obj["metadata"]
            if meta.get("namespace") != name or meta.get("deletionTimestamp"):
                continue
            rt = self.store.rt_for_key(skey, obj)
            if rt is not None:
                self.store.delete(rt, name, meta["name"], "Background")
        finalize_namespace(self.store, name)
