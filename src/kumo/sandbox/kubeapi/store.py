"""The object store: objects, the resourceVersion counter, the event log and watchers.

It knows nothing of HTTP. Everything runs on one asyncio event loop thread, so there are no locks:
every write is a synchronous method that commits, appends to the event log (a ring buffer that
watches replay from) and hands the event to watchers (per-watcher asyncio queues) and in-process
listeners (the garbage collector, the simulation).

Stored objects are never mutated; a write builds a new dict. The HTTP layer serialises stored
dicts directly; in-process callers get copies (:meth:`Store.get`, :meth:`Store.list`).

What happens around storage lives beside it: :mod:`admission` (checks, pruning, defaults,
validation, called on every write), :mod:`crds` (serving a written CRD), :mod:`namespaces`
(Terminating and finalisation), :mod:`conversion` (a kind served as a converted view of another's
storage: events.k8s.io Events), :mod:`scale` and :mod:`eviction` (subresources the HTTP layer
calls).
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import builtins
import functools
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import orjson

from kumo.kube.listtypes import builtin_schema
from kumo.sandbox.kubeapi import crds, errors, namespaces
from kumo.sandbox.kubeapi.admission import Admission
from kumo.sandbox.kubeapi.apply import schema_of, server_side_apply, track_update
from kumo.sandbox.kubeapi.catalog import Catalog, ResourceType
from kumo.sandbox.kubeapi.conversion import VIEWS, View
from kumo.sandbox.kubeapi.defaults import Allocator
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.objects import fast_copy, now_rfc3339
from kumo.sandbox.kubeapi.patch import json_patch, merge_patch, strategic_merge

StoreKey = tuple[str, str]
ObjKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped
Predicate = Callable[[Mapping[str, Any]], bool]

_GEN_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class Event:
    rv: int
    key: StoreKey
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]
    old: dict[str, Any] | None
    _line: bytes | None = None

    def line(self) -> bytes:
        if self._line is None:
            self._line = orjson.dumps({"type": self.type, "object": self.obj}) + b"\n"
        return self._line


@dataclass(frozen=True)
class _Logged:
    """An event as the replay window keeps it: serialised, so that the window's objects (tens of
    thousands of dicts and lists) are bytes that the cyclic garbage collector does not walk; its
    full collections took about a second of each 50-app rollout."""

    rv: int
    key: StoreKey
    type: str
    blob: bytes

    @classmethod
    def of(cls, ev: Event) -> _Logged:
        return cls(ev.rv, ev.key, ev.type, orjson.dumps((ev.obj, ev.old)))

    def event(self) -> Event:
        obj, old = orjson.loads(self.blob)
        return Event(self.rv, self.key, self.type, obj, old)


@dataclass(eq=False)
class Watcher:
    key: StoreKey
    namespace: str | None
    pred: Predicate | None
    queue: asyncio.Queue[tuple[str, dict[str, Any], bytes | None]] = field(default_factory=asyncio.Queue)
    #: objects are sent converted (a watch through another API's view of this storage)
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def _match(self, obj: Mapping[str, Any] | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and (obj.get("metadata") or {}).get("namespace") != self.namespace:
            return False
        return self.pred is None or self.pred(obj)

    def offer(self, ev: Event) -> None:
        for typ, obj, line in self._deliveries(ev):
            if self.convert is not None:
                # the stored form's pre-serialised line is not this watcher's
                obj, line = self.convert(obj), None
            self.queue.put_nowait((typ, obj, line))

    def _deliveries(self, ev: Event) -> list[tuple[str, dict[str, Any], bytes | None]]:
        """What this watcher sees of an event: a change into or out of its selection is an ADDED
        or DELETED of its own."""
        now_match = self._match(ev.obj)
        if ev.type in ("ADDED", "DELETED"):
            return [(ev.type, ev.obj, ev.line())] if now_match else []
        was_match = self._match(ev.old) if self.pred is not None else now_match
        if now_match and was_match:
            return [("MODIFIED", ev.obj, ev.line())]
        if now_match:
            return [("ADDED", ev.obj, None)]
        if was_match:
            return [("DELETED", ev.obj, None)]
        return []


Listener = Callable[[Event], None]


class Store:
    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        seed: int | None = None,
        window: int = 20000,
        validator: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog or Catalog()
        self._objects: dict[StoreKey, dict[ObjKey, dict[str, Any]]] = {}
        self._rv = 0
        self._log: deque[_Logged] = deque(maxlen=window)
        self._watchers: dict[StoreKey, set[Watcher]] = {}
        self._listeners: list[Listener] = []
        self._virtual: dict[StoreKey, Callable[[str | None], list[dict[str, Any]]]] = {}
        self._owners: dict[str, set[tuple[StoreKey, ObjKey]]] = {}
        #: the seed of ids and names (``None``: random), which controllers may share
        self.seed = seed
        self.rng = random.Random(seed)
        self._seeded = seed is not None
        self._name_rngs: dict[str, random.Random] = {}
        self.alloc = Allocator(self.rng)
        self.clock = clock
        self.started = clock()
        self.admission = Admission(self, validator)
        ns_rt = self.catalog.lookup("", "v1", "namespaces")
        assert ns_rt is not None
        for ns in INITIAL_NAMESPACES:
            self.create(ns_rt, None, {"metadata": {"name": ns}}, manager=None)

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def compacted_rv(self) -> int:
        """Events at or below this resourceVersion are no longer replayable."""
        if self._log.maxlen is not None and len(self._log) >= self._log.maxlen:
            return self._log[0].rv - 1
        return 0

    def control_plane(self) -> AbstractContextManager[None]:
        """Writes made inside are the control plane's own controllers' (see
        :meth:`Admission.control_plane`)."""
        return self.admission.control_plane()

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def register_virtual(
        self, rt: ResourceType, provider: Callable[[str | None], list[dict[str, Any]]]
    ) -> None:
        self._virtual[rt.store_key] = provider

    def new_uid(self) -> str:
        if self._seeded:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return str(uuid.uuid4())

    def random_suffix(self, prefix: str, n: int = 5) -> str:
        """A generated name's suffix. Seeded, each prefix draws from its own sequence: the names of
        one ReplicaSet's Pods must not depend on how many ids other threads drew meanwhile."""
        rng = self.rng
        if self._seeded:
            rng = self._name_rngs.setdefault(prefix, random.Random(f"{self.seed}/{prefix}"))
        return "".join(rng.choice(_GEN_ALPHABET) for _ in range(n))

    def now(self) -> str:
        return now_rfc3339(self.clock())

    def _bucket(self, rt: ResourceType) -> dict[ObjKey, dict[str, Any]]:
        return self._objects.setdefault(rt.store_key, {})

    def commit(self, rt: ResourceType, typ: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Store ``obj`` as the next version (or remove it, for DELETED) and tell watchers and
        listeners. No admission: writes from outside go through create/update/patch/delete; this
        is for the control plane's own bookkeeping (CRD status, namespace finalisation)."""
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        okey = (meta.get("namespace", ""), meta["name"])
        bucket = self._bucket(rt)
        if typ == "DELETED":
            bucket.pop(okey, None)
            if rt.kind == "Service" and not rt.group:
                self.alloc.release(obj)
        else:
            bucket[okey] = obj
        self._index_owners(rt, okey, old, obj if typ != "DELETED" else None)
        ev = Event(self._rv, rt.store_key, typ, obj, old)
        self._log.append(_Logged.of(ev))
        for w in list(self._watchers.get(rt.store_key, ())):
            w.offer(ev)
        for fn in list(self._listeners):
            fn(ev)

    def _index_owners(
        self, rt: ResourceType, okey: ObjKey, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        for src, add in ((old, False), (new, True)):
            if src is None:
                continue
            for ref in (src.get("metadata") or {}).get("ownerReferences") or []:
                uid = ref.get("uid") if isinstance(ref, dict) else None
                if not uid:
                    continue
                if add:
                    self._owners.setdefault(uid, set()).add((rt.store_key, okey))
                elif uid in self._owners:
                    deps = self._owners[uid]
                    deps.discard((rt.store_key, okey))
                    if not deps:
                        del self._owners[uid]

    def dependents(self, uid: str) -> list[tuple[ResourceType, dict[str, Any]]]:
        out = []
        for skey, okey in list(self._owners.get(uid, ())):
            obj = self._objects.get(skey, {}).get(okey)
            rt = self.rt_for_key(skey, obj)
            if obj is not None and rt is not None:
                out.append((rt, obj))
        return out

    def rt_for_key(self, skey: StoreKey, obj: Mapping[str, Any] | None) -> ResourceType | None:
        """The resource type an object is stored under (its own apiVersion's, when served)."""
        for rt in self.catalog.types():
            if (
                rt.store_key == skey
                and not rt.virtual
                and (obj is None or obj.get("apiVersion") == rt.api_version)
            ):
                return rt
        for rt in self.catalog.types():
            if rt.store_key == skey and not rt.virtual:
                return rt
        return None

    def find_by_uid(self, uid: str) -> tuple[ResourceType, dict[str, Any]] | None:
        for skey, bucket in self._objects.items():
            for obj in bucket.values():
                if obj["metadata"].get("uid") == uid:
                    rt = self.rt_for_key(skey, obj)
                    if rt is not None:
                        return rt, obj
        return None

    def _view(self, rt: ResourceType) -> tuple[View, ResourceType] | None:
        """The conversion and storage of a kind served as a view of another (events.k8s.io)."""
        view = VIEWS.get(rt.store_key)
        if view is None:
            return None
        storage = self.catalog.lookup(*view.storage)
        assert storage is not None
        return view, storage

    def resource(self, api_version: str, kind: str) -> ResourceType:
        rt = self.catalog.by_kind(api_version, kind)
        if rt is None:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({kind})")
        return rt

    # --- reads ------------------------------------------------------------------------------

    def get_ref(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        if (seen := self._view(rt)) is not None:
            return seen[0].from_storage(self.get_ref(seen[1], namespace, name))
        if rt.virtual:
            for item in self._virtual_items(rt, namespace):
                if item["metadata"]["name"] == name:
                    return item
            raise errors.not_found(rt, name)
        obj = self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))
        if obj is None:
            raise errors.not_found(rt, name)
        return obj

    def lookup_ref(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (do not mutate) or ``None``; stored kinds only."""
        if (seen := self._view(rt)) is not None:
            found = self.lookup_ref(seen[1], namespace, name)
            return None if found is None else seen[0].from_storage(found)
        return self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = fast_copy(self.get_ref(rt, namespace, name))
        return obj

    def try_get(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.get(rt, namespace, name)
        except ApiError:
            return None

    def _virtual_items(self, rt: ResourceType, namespace: str | None) -> list[dict[str, Any]]:
        provider = self._virtual.get(rt.store_key)
        return provider(namespace) if provider else []

    def list_refs(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        pred: Predicate | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str, str | None, int | None]:
        """Items (stored dicts, do not mutate), list resourceVersion, continue token, remaining."""
        if (seen := self._view(rt)) is not None:
            view, storage = seen
            stored, rv, token, left = self.list_refs(
                storage, namespace, _viewed(pred, view), limit, continue_token
            )
            return [view.from_storage(o) for o in stored], rv, token, left
        if rt.virtual:
            found = [o for o in self._virtual_items(rt, namespace) if pred is None or pred(o)]
            return found, str(self._rv), None, None
        bucket = self._bucket(rt)
        start: ObjKey | None = None
        list_rv = self._rv
        if continue_token:
            try:
                tok = orjson.loads(base64.urlsafe_b64decode(continue_token.encode()))
                start = (str(tok["start"][0]), str(tok["start"][1]))
                list_rv = int(tok["rv"])
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise errors.bad_request(f"continue key is not valid: {exc}") from exc
            if list_rv < self.compacted_rv:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                )
        keys = sorted(bucket) if namespace is None else sorted(k for k in bucket if k[0] == namespace)
        if start is not None:
            keys = keys[bisect.bisect_right(keys, start) :]
        items: list[dict[str, Any]] = []
        next_token = None
        remaining: int | None = None
        for i, k in enumerate(keys):
            obj = bucket[k]
            if pred is not None and not pred(obj):
                continue
            if limit and len(items) >= limit:
                # the real server reports the count only when no selector filters it
                remaining = len(keys) - i if pred is None else None
                # the token must resume after the last returned item
                last = items[-1]["metadata"]
                next_token = base64.urlsafe_b64encode(
                    orjson.dumps({"rv": list_rv, "start": [last.get("namespace", ""), last["name"]]})
                ).decode()
                break
            items.append(obj)
        return items, str(list_rv), next_token, remaining

    def list(
        self, rt: ResourceType, namespace: str | None = None, pred: Predicate | None = None
    ) -> list[dict[str, Any]]:
        items, _, _, _ = self.list_refs(rt, namespace, pred)
        out: list[dict[str, Any]] = fast_copy(items)
        return out

    def iter_all(self) -> Iterable[tuple[StoreKey, dict[str, Any]]]:
        for skey, bucket in list(self._objects.items()):
            for obj in list(bucket.values()):
                yield skey, obj

    # --- watch ------------------------------------------------------------------------------

    def watch(
        self,
        rt: ResourceType,
        namespace: str | None,
        pred: Predicate | None,
        since: str | None,
        send_initial: bool | None = None,
    ) -> tuple[Watcher, builtins.list[tuple[str, dict[str, Any], bytes | None]]]:
        """Register a watcher; return it with the backlog to send first.

        ``since`` empty or "0" (or ``send_initial``) starts with ADDED for every current object;
        a number replays later events, or raises 410 Gone when it is older than the window.
        """
        if (seen := self._view(rt)) is not None:
            view, storage = seen
            w, stored = self.watch(storage, namespace, _viewed(pred, view), since, send_initial)
            w.convert = view.from_storage
            return w, [(typ, view.from_storage(obj), None) for typ, obj, _line in stored]
        w = Watcher(rt.store_key, namespace, pred)
        backlog: builtins.list[tuple[str, dict[str, Any], bytes | None]] = []
        if since in (None, "", "0") or send_initial:
            items, _, _, _ = self.list_refs(rt, namespace, pred)
            backlog = [("ADDED", o, None) for o in items]
        else:
            try:
                since_rv = int(str(since))
            except ValueError as exc:
                raise errors.bad_request(f"invalid resource version: {since}") from exc
            if since_rv < self.compacted_rv:
                raise errors.gone(f"too old resource version: {since_rv} ({self.compacted_rv + 1})")
            replay = Watcher(rt.store_key, namespace, pred)
            for ev in self._log:
                if ev.rv > since_rv and ev.key == rt.store_key:
                    replay.offer(ev.event())
            while not replay.queue.empty():
                backlog.append(replay.queue.get_nowait())
        self._watchers.setdefault(rt.store_key, set()).add(w)
        return w, backlog

    def close_watchers(self) -> None:
        """End every open watch (the server is shutting down)."""
        for watchers in self._watchers.values():
            for w in watchers:
                w.queue.put_nowait(("CLOSE", {}, None))

    def unwatch(self, w: Watcher) -> None:
        self._watchers.get(w.key, set()).discard(w)

    # --- writes -----------------------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        namespace: str | None,
        body: Any,
        manager: str | None = None,
        dry_run: bool = False,
        _applied: bool = False,
    ) -> dict[str, Any]:
        if rt.virtual or "create" not in rt.verbs:
            raise errors.method_not_allowed()
        body = self.admission.check_body(rt, body)
        if (seen := self._view(rt)) is not None:
            view, storage = seen
            return view.from_storage(self.create(storage, namespace, view.to_storage(body), manager, dry_run))
        obj: dict[str, Any] = fast_copy(body)
        meta = obj.get("metadata") or {}
        obj["metadata"] = meta
        body_ns = meta.get("namespace")
        if rt.namespaced and body_ns and namespace and body_ns != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        ns = self.admission.check_namespace(rt, namespace or body_ns, True)
        name = meta.get("name")
        for key in ("name", "generateName"):
            if meta.get(key) is not None and not isinstance(meta[key], str):
                raise errors.invalid(
                    rt,
                    str(meta[key]),
                    [
                        {
                            "reason": "FieldValueTypeInvalid",
                            "message": f"Invalid value: {meta[key]!r}: metadata.{key} must be a string",
                            "field": f"metadata.{key}",
                        }
                    ],
                )
        if not name:
            gen = meta.get("generateName")
            if not gen:
                raise errors.invalid(
                    rt,
                    "",
                    [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                )
            for _ in range(20):
                name = f"{gen}{self.random_suffix(gen)}"
                if (ns, name) not in self._bucket(rt):
                    break
        name = str(name)
        self.admission.check_name(rt, name)
        if (ns, name) in self._bucket(rt):
            raise errors.already_exists(rt, name)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        for k in (
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(k, None)
        if not _applied:
            meta.pop("managedFields", None)
        meta["name"] = name
        if rt.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        meta["uid"] = self.new_uid()
        meta["creationTimestamp"] = self.now()
        if _has_spec(rt):
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if rt.has_status and rt.group not in ("", "apps", "batch"):
            obj.pop("status", None)
        self.admission.mutate(rt, obj, creating=True)
        self.admission.validate(rt, obj)
        if manager is not None and not _applied:
            track_update(None, obj, rt, manager, self.now())
        _check_storable(rt, obj)
        if dry_run:
            return obj
        self.commit(rt, "ADDED", obj, None)
        if rt.plural == "customresourcedefinitions":
            crds.established(self, obj)
        return fast_copy(obj)  # type: ignore[no-any-return]

    def _generation_changed(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        skip = {"metadata", "status", "apiVersion", "kind"}
        return any(old.get(k) != new.get(k) for k in set(old) | set(new) if k not in skip)

    def _write(
        self,
        rt: ResourceType,
        old: dict[str, Any],
        new: dict[str, Any],
        manager: str | None,
        subresource: str | None,
        dry_run: bool,
        tracked: bool = False,
    ) -> dict[str, Any]:
        """Common tail of update and patch: keep server fields, default, validate, commit."""
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
            new["metadata"] = meta
        old_meta = old["metadata"]
        if meta.get("name", old_meta["name"]) != old_meta["name"]:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({old_meta['name']})"
            )
        if subresource == "status":
            status = new.get("status")
            new = fast_copy(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
            meta = new["metadata"]
            if not tracked:
                meta["managedFields"] = old_meta.get("managedFields", [])
        elif subresource is None and rt.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        for k in (
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if k in old_meta:
                meta[k] = old_meta[k]
            else:
                meta.pop(k, None)
        if old_meta.get("deletionTimestamp"):
            # finalizers can be removed but not added once deletion started
            pass
        if not tracked and subresource != "status":
            meta["managedFields"] = old_meta.get("managedFields", [])
        self.admission.mutate(rt, new, creating=False)
        if self._generation_changed(old, new) and _has_spec(rt):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        self.admission.validate(rt, new, old)
        if manager is not None and not tracked:
            track_update(old, new, rt, manager, self.now(), subresource)
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        if _same(old, new):
            return fast_copy(old)  # type: ignore[no-any-return]
        _check_storable(rt, new)
        if dry_run:
            return new
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not meta.get("deletionGracePeriodSeconds")
            and rt.plural != "namespaces"
        ):
            self.commit(rt, "DELETED", new, old)
            return fast_copy(new)  # type: ignore[no-any-return]
        self.commit(rt, "MODIFIED", new, old)
        if rt.plural == "customresourcedefinitions":
            crds.established(self, new)
        return fast_copy(new)  # type: ignore[no-any-return]

    def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Any,
        manager: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if rt.virtual or "update" not in rt.verbs:
            raise errors.method_not_allowed()
        body = self.admission.check_body(rt, body)
        if (seen := self._view(rt)) is not None:
            view, storage = seen
            stored = self.update(
                storage, namespace, name, view.to_storage(body), manager, subresource, dry_run
            )
            return view.from_storage(stored)
        old = self.get_ref(rt, namespace, name)
        check_put(rt, old, body, name, namespace)
        new: dict[str, Any]
        if subresource == "status":
            # _write keeps only the status and reads the name: copying the rest would be waste
            new = {"metadata": body["metadata"]} if "metadata" in body else {}
            if "status" in body:
                new["status"] = fast_copy(body["status"])
        else:
            new = fast_copy(body)
        return self._write(rt, old, new, manager, subresource, dry_run)

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch_type: str,
        body: Any,
        manager: str | None = None,
        force: bool = False,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        if rt.virtual or "patch" not in rt.verbs:
            raise errors.method_not_allowed()
        seen = self._view(rt)
        if patch_type == "apply":
            if seen is not None:
                view, storage = seen
                body = view.to_storage(self.admission.check_body(rt, body))
                stored = self.patch(
                    storage, namespace, name, patch_type, body, manager, force, subresource, dry_run
                )
                return view.from_storage(stored)
            return self._apply(rt, namespace, name, body, manager or "", force, subresource, dry_run)
        old = self.get_ref(rt, namespace, name)
        new = patched(fast_copy(old), patch_type, body, schema_of(rt))
        check_fresh(rt, old, new, name)
        if seen is not None:
            # patched in the form the client sees, stored in the storage's form
            view, storage = seen
            stored = self.update(
                storage, namespace, name, view.to_storage(new), manager, subresource, dry_run
            )
            return view.from_storage(stored)
        return self._write(rt, old, new, manager, subresource, dry_run)

    def _apply(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Any,
        manager: str,
        force: bool,
        subresource: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        if not manager:
            raise errors.bad_request(
                "fieldManager must be set for apply requests (PATCH with application/apply-patch+yaml)"
            )
        body = self.admission.check_body(rt, body)
        meta = body.get("metadata") or {}
        if meta.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        if "apiVersion" not in body or "kind" not in body:
            raise errors.bad_request("apiVersion and kind must be set in an apply configuration")
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        old = self._bucket(rt).get((namespace or "" if rt.namespaced else "", name))
        want_rv = meta.get("resourceVersion")
        if old is None:
            if want_rv:
                raise errors.not_found(rt, name)
            merged = server_side_apply(
                None,
                {**body, "metadata": {**meta, "name": name}},
                rt,
                manager,
                force,
                self.now(),
                subresource,
            )
            return self.create(rt, namespace, merged, manager=manager, dry_run=dry_run, _applied=True)
        if want_rv and str(want_rv) != old["metadata"]["resourceVersion"]:
            raise errors.stale(rt, name)
        merged = server_side_apply(old, body, rt, manager, force, self.now(), subresource)
        return self._write(rt, old, merged, manager, subresource, dry_run, tracked=True)

    # --- delete -----------------------------------------------------------------------------

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        propagation: str | None = None,
        preconditions: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        grace_period: int | None = None,
    ) -> dict[str, Any]:
        """Delete an object. A Pod on a Node is deleted gracefully, as the API server does: it gets
        ``deletionTimestamp`` (now + grace) and ``deletionGracePeriodSeconds`` and stays, Terminating,
        until its kubelet (the simulation) deletes it again with a grace period of 0."""
        if rt.virtual or "delete" not in rt.verbs:
            raise errors.method_not_allowed()
        if (seen := self._view(rt)) is not None:
            view, storage = seen
            gone = self.delete(storage, namespace, name, propagation, preconditions, dry_run, grace_period)
            return view.from_storage(gone)
        old = self.get_ref(rt, namespace, name)
        meta = old["metadata"]
        pre = preconditions or {}
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise errors.conflict(
                rt,
                name,
                f"Precondition failed: UID in precondition: {pre['uid']}, "
                f"UID in object meta: {meta.get('uid')}",
            )
        if pre.get("resourceVersion") and str(pre["resourceVersion"]) != meta.get("resourceVersion"):
            raise errors.conflict(
                rt,
                name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                f"{meta.get('resourceVersion')}",
            )
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        grace = _pod_grace(rt, old, grace_period)
        if grace:
            current = meta.get("deletionGracePeriodSeconds")
            if meta.get("deletionTimestamp") and current is not None and int(current) <= grace:
                return fast_copy(old)  # type: ignore[no-any-return]
            new = fast_copy(old)
            new["metadata"]["deletionTimestamp"] = now_rfc3339(time.time() + grace)
            new["metadata"]["deletionGracePeriodSeconds"] = grace
            if finalizers:
                new["metadata"]["finalizers"] = finalizers
            if dry_run:
                return new  # type: ignore[no-any-return]
            self.commit(rt, "MODIFIED", new, old)
            return fast_copy(new)  # type: ignore[no-any-return]
        if dry_run:
            return fast_copy(old)  # type: ignore[no-any-return]
        if rt.plural == "namespaces" and rt.group == "":
            return namespaces.start_deletion(self, rt, old, finalizers)
        if finalizers:
            if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
                return fast_copy(old)  # type: ignore[no-any-return]
            new = fast_copy(old)
            new["metadata"].setdefault("deletionTimestamp", self.now())
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["metadata"]["finalizers"] = finalizers
            self.commit(rt, "MODIFIED", new, old)
            return fast_copy(new)  # type: ignore[no-any-return]
        gone_obj = fast_copy(old)
        self.commit(rt, "DELETED", gone_obj, old)
        if rt.plural == "customresourcedefinitions":
            crds.removed(self, name)
        return fast_copy(gone_obj)  # type: ignore[no-any-return]

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        pred: Predicate | None,
        propagation: str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[dict[str, Any]]:
        items, _, _, _ = self.list_refs(rt, namespace, pred)
        out = []
        for obj in list(items):
            meta = obj["metadata"]
            try:
                out.append(self.delete(rt, meta.get("namespace"), meta["name"], propagation, dry_run=dry_run))
            except ApiError:
                continue
        return out


def _viewed(pred: Predicate | None, view: View) -> Predicate | None:
    """A selector written for a view, applied to stored objects."""
    if pred is None:
        return None
    return lambda obj: pred(view.from_storage(dict(obj)))


def patched(base: dict[str, Any], patch_type: str, body: Any, schema: Any) -> dict[str, Any]:
    """``base`` with a JSON, merge or strategic merge patch applied (``schema`` gives the strategic
    merge its list keys; None merges lists without keys)."""
    if patch_type == "json":
        new = json_patch(base, body)
    else:
        if not isinstance(body, dict):
            raise errors.bad_request("patch body must be a JSON object")
        new = merge_patch(base, body) if patch_type == "merge" else strategic_merge(base, body, schema)
    if not isinstance(new, dict):
        raise errors.bad_request("patch did not produce an object")
    return new


def check_fresh(rt: ResourceType, old: Mapping[str, Any], body: Mapping[str, Any], name: str) -> None:
    """A write that names a resourceVersion other than the stored one is a conflict."""
    want_rv = (body.get("metadata") or {}).get("resourceVersion")
    if want_rv and str(want_rv) != old["metadata"]["resourceVersion"]:
        raise errors.stale(rt, name)


def check_put(
    rt: ResourceType, old: Mapping[str, Any], body: Mapping[str, Any], name: str, namespace: str | None
) -> None:
    """A PUT replaces the object it names: a stale resourceVersion is a conflict, and the body may
    not name another namespace than the request's path."""
    check_fresh(rt, old, body, name)
    meta = body.get("metadata") or {}
    if rt.namespaced and meta.get("namespace") and meta["namespace"] != (namespace or ""):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


def _check_storable(rt: ResourceType, obj: dict[str, Any]) -> None:
    """A write is all-or-nothing: an object that could not be served back (nested past orjson's
    254 levels once its managed fields are added) is refused here, before it is stored, rather than
    stored and then failing every GET, LIST and DELETE that meets it."""
    try:
        orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:
        meta = obj.get("metadata") or {}
        raise errors.invalid(
            rt,
            str(meta.get("name", "")),
            [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: the object cannot be stored: {exc}",
                    "field": "<root>",
                }
            ],
        ) from exc


def _pod_grace(rt: ResourceType, obj: Mapping[str, Any], requested: int | None) -> int:
    """Seconds of graceful termination a delete gives: only a Pod bound to a Node that has not
    finished gets any (its ``terminationGracePeriodSeconds`` unless the request names one)."""
    if rt.group != "" or rt.plural != "pods":
        return 0
    spec = obj.get("spec") or {}
    if not spec.get("nodeName") or (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return 0
    if requested is None:
        requested = spec.get("terminationGracePeriodSeconds", 30)
    try:
        return max(0, int(requested))
    except (TypeError, ValueError):
        return 0


@functools.cache
def _builtin_has_spec(api_version: str, kind: str) -> bool:
    node = builtin_schema(api_version, kind)
    return node is None or "spec" in (node.raw.get("properties") or {})


def _has_spec(rt: ResourceType) -> bool:
    """Whether writes track ``metadata.generation``: kinds with a spec do (custom resources
    always); ConfigMaps, Secrets, Events and the like have none, as on the API server."""
    return rt.schema is not None or _builtin_has_spec(rt.api_version, rt.kind)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal apart from managedFields timestamps, which a no-op write must not bump."""
    if a.keys() != b.keys():
        return False
    for k in a:
        if k == "metadata":
            am, bm = dict(a[k]), dict(b[k])
            amf, bmf = am.pop("managedFields", None), bm.pop("managedFields", None)
            if am != bm:
                return False
            if _strip_time(amf) != _strip_time(bmf):
                return False
        elif a[k] != b[k]:
            return False
    return True


def _strip_time(mf: Any) -> Any:
    if not isinstance(mf, list):
        return mf
    return [{k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e for e in mf]
