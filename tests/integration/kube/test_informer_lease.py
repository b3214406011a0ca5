"""Informer, LeaseLock and record_event against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from kumo.kube import RESYNC, Informer, KubeClient, LeaseLock, connect, record_event
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


@pytest.mark.parametrize("streaming", [True, False])
async def test_a_streaming_list_syncs_and_watches_in_one_request(client: KubeClient, streaming: bool) -> None:
    # The same cache and events whether the server streams the list (one request: sendInitialEvents)
    # or the informer lists and then watches (two), as against a server without streaming lists.
    await client.create(configmap("before", app="s"))
    client.streaming_lists = None if streaming else False
    informer = Informer(client, "v1", "ConfigMap", "default", label_selector="app=s", stream_list=True)
    events: list[tuple[str, str]] = []
    informer.add_handler(lambda t, o, old: events.append((t, o["metadata"]["name"])))
    sent = client.request_count
    task = asyncio.create_task(informer.run())
    try:
        await informer.wait_synced(timeout=10)
        assert [o["metadata"]["name"] for o in informer.items()] == ["before"]
        await client.create(configmap("after", app="s"))
        await until(lambda: informer.get("default", "after") is not None)
        assert events == [("ADDED", "before"), ("ADDED", "after")]
        assert client.request_count - sent == (2 if streaming else 3)  # + the create
        assert client.streaming_lists is streaming
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
    with KubeAPI(window=5, bookmark_interval=3600) as api:
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


class CuttingProxy:
    """A TCP proxy in front of the emulator that can cut every open connection, as a network blip does."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for writer in self.writers:
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self.writers = []

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


async def test_informer_survives_a_cut_stream_and_relists(kubeapi: Any, tmp_path: Any) -> None:
    proxy = CuttingProxy(int(kubeapi.url.rsplit(":", 1)[1]))
    port = await proxy.start()
    config = tmp_path / "via-proxy"
    config.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: p, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "contexts: [{name: p, context: {cluster: p}}]\ncurrent-context: p\n"
    )
    try:
        async with await connect(str(config)) as kube, await connect(kubeapi.kubeconfig) as direct:
            await direct.create(configmap("gone", app="x"))
            informer = Informer(
                kube, "v1", "ConfigMap", "default", label_selector="app=x", max_backoff_seconds=0.5
            )
            events: list[tuple[str, str]] = []
            informer.add_handler(lambda t, o, old: events.append((t, o["metadata"]["name"])))
            task = asyncio.create_task(informer.run())
            try:
                await informer.wait_synced(timeout=10)
                proxy.cut()
                # Changes while the stream is down must still arrive.
                await direct.delete("v1", "ConfigMap", "gone", "default")
                await direct.create(configmap("new", app="x"))
                await until(lambda: ("DELETED", "gone") in events and ("ADDED", "new") in events, timeout=20)
                assert [o["metadata"]["name"] for o in informer.items()] == ["new"]
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        await proxy.close()


async def test_informer_resync_hands_every_cached_object_to_handlers_again(client: KubeClient) -> None:
    await client.create(configmap("steady", app="x"))
    informer = Informer(client, "v1", "ConfigMap", "default", label_selector="app=x", resync_seconds=0.2)
    seen: list[tuple[str, str]] = []
    informer.add_handler(lambda t, o, old: seen.append((t, o["metadata"]["name"])))
    task = asyncio.create_task(informer.run())
    try:
        await until(lambda: seen.count((RESYNC, "steady")) >= 2)
        assert seen[0] == ("ADDED", "steady")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_transformed_informer_lists_in_pages_and_caches_the_transformed_objects(
    client: KubeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transform (client-go's SetTransform) is applied page by page, to listed and watched objects."""
    from kumo.kube import informer as informer_module

    monkeypatch.setattr(informer_module, "LIST_PAGE", 2)
    for i in range(5):
        await client.create(configmap(f"cm-{i}", app="x") | {"data": {"big": "x" * 1000}})
    requests = client.request_count
    informer = Informer(
        client, "v1", "ConfigMap", "default", transform=lambda o: {"metadata": o["metadata"], "kept": True}
    )
    task = asyncio.create_task(informer.run())
    try:
        await informer.wait_synced(timeout=10)
        assert client.request_count - requests >= 3  # 5 objects in pages of 2 (and the watch)
        names = sorted(o["metadata"]["name"] for o in informer.items())
        assert [n for n in names if n.startswith("cm-")] == [f"cm-{i}" for i in range(5)]
        assert all(o.get("kept") and "data" not in o for o in informer.items())
        await client.create(configmap("cm-new", app="x") | {"data": {"big": "y"}})
        await until(lambda: informer.get("default", "cm-new") is not None)
        assert informer.get("default", "cm-new") == {
            "metadata": informer.get("default", "cm-new")["metadata"],  # type: ignore[index]
            "kept": True,
        }
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
