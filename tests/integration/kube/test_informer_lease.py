"""Informer, LeaseLock and record_event against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from kumo.kube import Informer, KubeClient, LeaseLock, connect, record_event
from kumo.sandbox.kubeapi.runner import KubeAPI

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(kubeapi: Any) -> Any:
    async with await connect(kubeapi.kubeconfig) as kube:
        yield kube


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
    }


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_informer_caches_and_calls_handlers(client: KubeClient) -> None:
    await client.create(configmap("before", app="x"))
    informer = Informer(client, "v1", "ConfigMap", "default", label_selector="app=x")
    events: list[tuple[str, str, bool]] = []
    informer.add_handler(lambda t, o, old: events.append((t, o["metadata"]["name"], old is not None)))
    task = asyncio.create_task(informer.run())
    try:
        await informer.wait_synced(timeout=10)
        assert [o["metadata"]["name"] for o in informer.items()] == ["before"]
        await client.create(configmap("after", app="x"))
        await client.create(configmap("other", app="y"))
        await client.patch("v1", "ConfigMap", "after", {"data": {"a": "b"}}, "default")
        await client.delete("v1", "ConfigMap", "before", "default")
        await until(lambda: len(events) >= 4)
        assert events == [
            ("ADDED", "before", False),
            ("ADDED", "after", False),
            ("MODIFIED", "after", True),
            ("DELETED", "before", True),
        ]
        cached = informer.get("default", "after")
        assert cached is not None
        assert cached["data"] == {"a": "b"}
        assert informer.get("default", "other") is None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_informer_relists_after_410_gone_and_misses_nothing() -> None:
    # A tiny event window and no bookmarks make the informer's resume version expire while it is
    # between watches, so the server answers 410 Gone and the informer must relist.
    with KubeAPI(window=5, bookmark_interval=3600, simulate=False) as api:
        async with await connect(api.kubeconfig) as kube:
            informer = Informer(
                kube, "v1", "ConfigMap", "default", label_selector="app=x", watch_timeout_seconds=1
            )
            deleted: list[str] = []
            informer.add_handler(
                lambda t, o, old: deleted.append(o["metadata"]["name"]) if t == "DELETED" else None
            )
            await kube.create(configmap("keep", app="x"))
            task = asyncio.create_task(informer.run())
            try:
                await informer.wait_synced(timeout=10)
                for i in range(20):
                    await kube.create(configmap(f"noise-{i}"))
                await until(lambda: informer.list_count >= 2, timeout=15)
                await kube.create(configmap("late", app="x"))
                await until(lambda: informer.get("default", "late") is not None)
                assert sorted(o["metadata"]["name"] for o in informer.items()) == ["keep", "late"]
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def test_lease_lock_excludes_then_expires_and_is_taken_over(client: KubeClient) -> None:
    first = LeaseLock(client, "lock", "default", holder="first", duration_seconds=1)
    second = LeaseLock(client, "lock", "default", holder="second", duration_seconds=1)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    holder = await second.holder_of()
    assert holder is not None
    assert holder.identity == "first"
    assert await first.try_acquire()  # keeping our own lease is a renewal
    await asyncio.sleep(1.2)
    assert await second.try_acquire()
    assert second.took_over_from is not None
    assert second.took_over_from.identity == "first"
    assert not await first.renew()
    await second.release()
    assert await second.holder_of() is None
    assert await first.try_acquire()
    assert first.took_over_from is None or first.took_over_from.identity != "first"


async def test_only_one_of_many_concurrent_contenders_wins(client: KubeClient) -> None:
    locks = [LeaseLock(client, "race", "default", holder=f"c{i}", duration_seconds=30) for i in range(8)]
    results = await asyncio.gather(*(lock.try_acquire() for lock in locks))
    assert sum(results) == 1


async def test_record_event_is_listed_with_its_object(client: KubeClient) -> None:
    cm = await client.create(configmap("evented"))
    await record_event(client, cm, "Deployed", "revision 3 is live", type="Normal", component="kumo-deploy")
    events = await client.list("v1", "Event", "default")
    (event,) = [e for e in events if e["involvedObject"]["name"] == "evented"]
    assert event["reason"] == "Deployed"
    assert event["involvedObject"]["uid"] == cm["metadata"]["uid"]
    assert event["source"]["component"] == "kumo-deploy"
