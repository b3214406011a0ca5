"""``pods/log``: what the emulator knows a container printed, as a stream like the kubelet's.

No container runs, so a container's log is its life as the Pod status tells it: a line when it
starts and one when it exits (with the exit code), for the previous run and the current one. With
``follow=true`` the response stays open and carries each new line as the status changes (a crash
loop keeps adding lines) until the Pod is deleted, its container has ended for good, or the client
goes away. ``timestamps``, ``sinceSeconds``/``sinceTime``, ``tailLines``, ``limitBytes`` and
``previous`` work as on the kubelet.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from kumo.sandbox.kubeapi import errors
from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.store import Store

Line = tuple[str, str]  # (RFC 3339 time, text)


def _container(pod: dict[str, Any], container: str | None) -> str:
    names = [str(c.get("name")) for c in (pod.get("spec") or {}).get("containers") or []]
    name = container or (names[0] if names else "")
    if name not in names:
        raise errors.bad_request(f"container {name} is not valid for pod {pod['metadata']['name']}")
    return name


def _status(pod: dict[str, Any], name: str) -> dict[str, Any] | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == name:
            return dict(cs)
    return None


def _run_lines(name: str, state: dict[str, Any]) -> list[Line]:
    out: list[Line] = []
    if "running" in state:
        out.append((str(state["running"].get("startedAt", "")), f"container {name} started"))
    term = state.get("terminated")
    if isinstance(term, dict):
        if term.get("startedAt"):
            out.append((str(term["startedAt"]), f"container {name} started"))
        out.append(
            (str(term.get("finishedAt", "")), f"container {name} exited with code {term.get('exitCode')}")
        )
    return out


def lines(pod: dict[str, Any], name: str, previous: bool = False) -> list[Line] | None:
    """The container's lines so far (None: it has not started yet)."""
    cs = _status(pod, name)
    if cs is None:
        return None
    last = _run_lines(name, cs.get("lastState") or {})
    if previous:
        return last
    current = _run_lines(name, cs.get("state") or {})
    if not current and not last:
        return None
    return last + current


def _parse_time(ts: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _nano(ts: str) -> str:
    """RFC 3339 with nanoseconds, as ``kubectl logs --timestamps`` prints the kubelet's times."""
    t = _parse_time(ts)
    if t is None:
        return ts
    whole = datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{round((t - int(t)) * 1e9):09d}Z"


class LogOptions:
    def __init__(self, query: dict[str, str], now: float) -> None:
        def number(key: str) -> int | None:
            raw = query.get(key)
            if raw in (None, ""):
                return None
            try:
                value = int(str(raw))
            except ValueError:
                raise errors.bad_request(f"{key}: invalid value {raw!r}: must be an integer") from None
            if value < (1 if key != "tailLines" else 0):
                raise errors.bad_request(f"{key}: invalid value {value}: must be greater than 0")
            return value

        flag = {k: query.get(k, "").lower() in ("true", "1") for k in ("follow", "timestamps", "previous")}
        self.follow, self.timestamps, self.previous = flag["follow"], flag["timestamps"], flag["previous"]
        self.tail = number("tailLines")
        self.limit = number("limitBytes")
        since = number("sinceSeconds")
        self.since: float | None = now - since if since is not None else None
        if query.get("sinceTime"):
            self.since = _parse_time(query["sinceTime"])
            if self.since is None:
                raise errors.bad_request(f"sinceTime: invalid value {query['sinceTime']!r}: not RFC 3339")

    def render(self, found: list[Line], first: bool = False) -> bytes:
        """The bytes for these lines: after ``since``, then (in the first answer) ``tailLines``."""
        if self.since is not None:
            found = [ln for ln in found if (_parse_time(ln[0]) or 0.0) >= self.since]
        if first and self.tail is not None:
            found = found[len(found) - self.tail :] if self.tail else []
        out = b"".join(self.line(ln) for ln in found)
        return out[: self.limit] if first and self.limit is not None else out

    def line(self, ln: Line) -> bytes:
        return (f"{_nano(ln[0])} {ln[1]}\n" if self.timestamps else f"{ln[1]}\n").encode()


def read(pod: dict[str, Any], opts: LogOptions, container: str | None) -> tuple[str, list[Line]]:
    """The container's name and its lines now; 400 when there are none yet."""
    name = _container(pod, container)
    found = lines(pod, name, opts.previous)
    if found is None or (opts.previous and not found):
        pname = pod["metadata"]["name"]
        if opts.previous:
            raise errors.bad_request(f'previous terminated container "{name}" in pod "{pname}" not found')
        raise errors.bad_request(
            f'container "{name}" in pod "{pname}" is waiting to start: ContainerCreating'
        )
    return name, found


def _ended(pod: dict[str, Any], name: str) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    state = (_status(pod, name) or {}).get("state") or {}
    restart = (pod.get("spec") or {}).get("restartPolicy", "Always")
    return phase in ("Succeeded", "Failed") or ("terminated" in state and restart == "Never")


async def follow(
    store: Store,
    rt: ResourceType,
    pod: dict[str, Any],
    name: str,
    known: list[Line],
    written: int,
    opts: LogOptions,
    write: Callable[[bytes], Awaitable[bool]],
) -> None:
    """Write each new line until the Pod is gone or its container has ended; ``write`` returns
    False once the client has gone. ``known`` are the lines of the first answer, which took
    ``written`` bytes."""
    meta = pod["metadata"]
    seen = set(known)
    budget = None if opts.limit is None else opts.limit - written
    watcher, _ = store.watch(
        rt,
        meta.get("namespace"),
        lambda o: o["metadata"].get("name") == meta["name"],
        meta.get("resourceVersion"),
        False,
    )
    try:
        current = pod
        while not _ended(current, name) and (budget is None or budget > 0):
            try:
                item = await asyncio.wait_for(watcher.queue.get(), 1.0)
            except TimeoutError:
                if not await write(b""):
                    return
                continue
            if item[0] in ("CLOSE", "DELETED") or item[1]["metadata"].get("uid") != meta.get("uid"):
                return
            current = item[1]
            fresh = [ln for ln in lines(current, name) or [] if ln not in seen]
            seen.update(fresh)
            chunk = opts.render(fresh)
            if budget is not None:
                chunk, budget = chunk[:budget], budget - len(chunk)
            if chunk and not await write(chunk):
                return
    finally:
        with contextlib.suppress(Exception):
            store.unwatch(watcher)
