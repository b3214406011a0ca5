"""Informer: a list+watch cache of one kind, with change handlers, in the manner of client-go.

It lists, then watches from the list's resourceVersion. A clean end of the watch stream resumes
from the last seen version; 410 Gone or a broken connection relists (with backoff) and turns the
difference between the old cache and the new list into ADDED/MODIFIED/DELETED events, so
handlers never miss a change even across reconnects.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from kumo.errors import ClusterError
from kumo.kube.client import KubeClient, Obj
from kumo.kube.errors import ApiError, Gone

log = logging.getLogger(__name__)

Handler = Callable[[str, Obj, Obj | None], Awaitable[None] | None]
Key = tuple[str, str]

#: Page size of a transformed informer's list: whole objects are held one page at a time.
LIST_PAGE = 500

#: Event type of the periodic resync: every cached object is handed to the handlers again.
RESYNC = "RESYNC"

#: The annotation on the BOOKMARK that ends a streaming list's initial events.
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def key_of(obj: Obj) -> Key:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


class Informer:
    def __init__(
        self,
        client: KubeClient,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        resync_seconds: float | None = None,
        watch_timeout_seconds: int = 300,
        max_backoff_seconds: float = 10.0,
        transform: Callable[[Obj], Obj] | None = None,
        stream_list: bool = False,
    ) -> None:
        self.client = client
        #: Sync first by a streaming list (one request instead of a list and a watch) where the
        #: server serves them; otherwise, and after any break, list then watch.
        self.stream_list = stream_list
        self.api_version = api_version
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_seconds = resync_seconds
        self.watch_timeout_seconds = watch_timeout_seconds
        self.max_backoff_seconds = max_backoff_seconds
        #: applied to each object before it is cached and handed to handlers, as client-go's
        #: SetTransform: a cache of 10,000s of objects keeps only the fields its users read
        self.transform = transform
        self.resource_version = ""
        #: How many times the informer listed (the first list included).
        self.list_count = 0
        self.last_error: Exception | None = None
        self._cache: dict[Key, Obj] = {}
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()

    def add_handler(self, handler: Handler) -> None:
        """``handler(event_type, obj, old)``; may be sync or async. Exceptions are logged, not raised."""
        self._handlers.append(handler)

    def items(self) -> list[Obj]:
        return list(self._cache.values())

    def get(self, namespace: str | None, name: str) -> Obj | None:
        return self._cache.get((namespace or "", name))

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait for the first complete list. With ``timeout``, raise ClusterError when it passes."""
        if timeout is None:
            await self._synced.wait()
            return
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            detail = f": {self.last_error}" if self.last_error else ""
            raise ClusterError(f"could not list {self.kind} within {timeout:g}s{detail}") from None

    async def run(self) -> None:
        """List and watch until cancelled."""
        resync_task = asyncio.create_task(self._resync_loop()) if self.resync_seconds else None
        failures = 0
        stream = self.stream_list
        try:
            while True:
                try:
                    if stream and self.client.streaming_lists is not False:
                        stream = False
                        if await self._stream():
                            failures = 0
                            await self._watch_until_broken()
                    await self._relist()
                    failures = 0
                    await self._watch_until_broken()
                except asyncio.CancelledError:
                    raise
                except Gone:
                    log.debug("%s watch expired; relisting", self.kind)
                    continue
                except Exception as exc:  # the API may be down; keep trying with backoff
                    self.last_error = exc
                    failures += 1
                    delay = min(self.max_backoff_seconds, 0.2 * 2 ** min(failures, 8)) * (
                        0.5 + random.random() / 2
                    )
                    # One warning per outage, not one per retry: the API may be down for minutes.
                    log.log(
                        logging.WARNING if failures == 1 else logging.DEBUG,
                        "%s informer: %s; retrying in %.1fs",
                        self.kind,
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)
        finally:
            if resync_task is not None:
                resync_task.cancel()

    async def _relist(self) -> None:
        items = await self.client.list(
            self.api_version,
            self.kind,
            self.namespace,
            self.label_selector,
            self.field_selector,
            limit=LIST_PAGE if self.transform is not None else None,
            transform=self.transform,
        )
        self.list_count += 1
        self.resource_version = items.resource_version
        await self._replace({key_of(item): item for item in items})

    async def _stream(self) -> bool:
        """Sync by a streaming list, then go on watching the same stream until it ends. False when
        the server does not serve streaming lists (the caller lists instead); raises as a watch does."""
        fresh: dict[Key, Obj] = {}
        synced = False
        try:
            async for event_type, obj in self._watch(send_initial_events=True):
                if synced:
                    await self._on_event(event_type, obj)
                elif event_type == "BOOKMARK":
                    annotations = (obj.get("metadata") or {}).get("annotations") or {}
                    if annotations.get(INITIAL_EVENTS_END) == "true":
                        self.client.streaming_lists = synced = True
                        self.list_count += 1
                        await self._replace(fresh)
                else:
                    if self.transform is not None:
                        obj = self.transform(obj)
                    if event_type == "DELETED":
                        fresh.pop(key_of(obj), None)
                    else:
                        fresh[key_of(obj)] = obj
        except ApiError as exc:
            # An older server (or one without the WatchList feature) refuses the parameters.
            if synced or isinstance(exc, Gone) or exc.code not in (400, 422):
                raise
            self.client.streaming_lists = False
            return False
        if not synced:  # the stream ended without the end-of-initial-events mark: not served
            self.client.streaming_lists = False
        return synced

    async def _replace(self, fresh: dict[Key, Obj]) -> None:
        """Make ``fresh`` the cache; hand the differences to the handlers as events."""
        old_cache = self._cache
        self._cache = fresh
        for key, obj in fresh.items():
            previous = old_cache.get(key)
            if previous is None:
                await self._dispatch("ADDED", obj, None)
            elif _version(previous) != _version(obj):
                await self._dispatch("MODIFIED", obj, previous)
        for key, obj in old_cache.items():
            if key not in fresh:
                await self._dispatch("DELETED", obj, obj)
        self.last_error = None
        self._synced.set()

    async def _watch_until_broken(self) -> None:
        """Watch, resuming after each clean end of stream; returns never, raises when a relist is needed."""
        while True:
            async for event_type, obj in self._watch(resource_version=self.resource_version or None):
                await self._on_event(event_type, obj)

    async def _watch(
        self, resource_version: str | None = None, *, send_initial_events: bool = False
    ) -> AsyncIterator[tuple[str, Obj]]:
        """This informer's watch; each event's resourceVersion becomes the one a later watch
        resumes from."""
        async for event_type, obj in self.client.watch(
            self.api_version,
            self.kind,
            self.namespace,
            self.label_selector,
            self.field_selector,
            resource_version,
            timeout_seconds=self.watch_timeout_seconds,
            send_initial_events=send_initial_events,
        ):
            version = _version(obj)
            if version:
                self.resource_version = version
            yield event_type, obj

    async def _on_event(self, event_type: str, obj: Obj) -> None:
        if event_type == "BOOKMARK":
            return
        if self.transform is not None:
            obj = self.transform(obj)
        key = key_of(obj)
        old = self._cache.get(key)
        if event_type == "DELETED":
            self._cache.pop(key, None)
            await self._dispatch("DELETED", obj, old)
        elif event_type in ("ADDED", "MODIFIED"):
            self._cache[key] = obj
            await self._dispatch("ADDED" if old is None else "MODIFIED", obj, old)

    async def _resync_loop(self) -> None:
        assert self.resync_seconds
        while True:
            await asyncio.sleep(self.resync_seconds)
            if self.synced:
                for obj in list(self._cache.values()):
                    await self._dispatch(RESYNC, obj, obj)

    async def _dispatch(self, event_type: str, obj: Obj, old: Obj | None) -> None:
        for handler in self._handlers:
            try:
                result: Any = handler(event_type, obj, old)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("%s informer handler failed on %s %s", self.kind, event_type, key_of(obj))


def _version(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
