"""KubeClient against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kumo.errors import UsageError
from kumo.kube import Conflict, KubeClient, NotFound, connect

pytestmark = pytest.mark.integration


def configmap(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": "v"},
    }


@pytest.fixture
async def client(kubeapi: Any) -> Any:
    async with await connect(kubeapi.kubeconfig) as kube:
        yield kube


async def test_crud_round_trip(client: KubeClient) -> None:
    created = await client.create(configmap("one", tier="a"))
    assert created["metadata"]["uid"]
    await client.create(configmap("two", tier="b"))
    fetched = await client.get("v1", "ConfigMap", "one", "default")
    assert fetched is not None
    assert fetched["data"] == {"k": "v"}
    names = [
        o["metadata"]["name"]
        for o in await client.list("v1", "ConfigMap", "default", label_selector="tier=a")
    ]
    assert names == ["one"]
    patched = await client.patch("v1", "ConfigMap", "one", {"data": {"k": "w"}}, "default")
    assert patched["data"] == {"k": "w"}
    stale = {**fetched, "data": {"k": "stale"}}
    with pytest.raises(Conflict):
        await client.replace(stale)
    assert await client.delete("v1", "ConfigMap", "one", "default") is True
    assert await client.delete("v1", "ConfigMap", "one", "default") is False
    assert await client.get("v1", "ConfigMap", "one", "default") is None
    assert client.request_count >= 8


async def test_errors_name_the_server_and_what_was_refused(client: KubeClient) -> None:
    await client.create(configmap("dup"))
    with pytest.raises(Conflict) as caught:
        await client.create(configmap("dup"))
    assert caught.value.code == 409
    assert f"the Kubernetes API at {client.server} refused" in caught.value.message
    with pytest.raises(NotFound, match="does not serve kind Widget"):
        await client.get("example.com/v1", "Widget", "w", "default")


async def test_discovery_resolves_kinds_outside_the_builtin_table(client: KubeClient) -> None:
    info = await client.resource("gateway.networking.k8s.io/v1", "HTTPRoute")
    assert info.plural == "httproutes"
    assert info.namespaced


async def test_server_side_apply_owns_fields_and_detects_conflicts(client: KubeClient) -> None:
    applied = await client.apply(configmap("ssa"))
    managers = {m["manager"] for m in applied["metadata"].get("managedFields", [])}
    assert "kumo" in managers
    other = configmap("ssa")
    other["data"] = {"k": "theirs"}
    with pytest.raises(Conflict):
        await client.apply(other, field_manager="someone-else")
    forced = await client.apply(other, field_manager="someone-else", force=True)
    assert forced["data"] == {"k": "theirs"}
    dry = await client.apply(configmap("ssa-dry"), dry_run=True)
    assert dry["metadata"]["name"] == "ssa-dry"
    assert await client.get("v1", "ConfigMap", "ssa-dry", "default") is None


async def test_watch_from_a_list_version_sees_later_changes(client: KubeClient) -> None:
    version = (await client.list("v1", "ConfigMap", "default")).resource_version

    async def first_events() -> list[tuple[str, str]]:
        seen = []
        async for event_type, obj in client.watch(
            "v1", "ConfigMap", "default", resource_version=version, allow_bookmarks=False
        ):
            seen.append((event_type, obj["metadata"]["name"]))
            if len(seen) == 2:
                return seen
        return seen

    task = asyncio.create_task(first_events())
    await client.create(configmap("watched"))
    await client.delete("v1", "ConfigMap", "watched", "default")
    assert await asyncio.wait_for(task, 10) == [("ADDED", "watched"), ("DELETED", "watched")]


async def test_unreachable_server_is_a_cluster_error(tmp_path: Any) -> None:
    from kumo.errors import ClusterError

    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"
    )
    async with await connect(str(path)) as kube:
        with pytest.raises(
            ClusterError, match=r"cannot reach the Kubernetes API at http://127.0.0.1:9 \(context 'x'\)"
        ):
            await kube.get("v1", "Namespace", "default")
    with pytest.raises(UsageError, match="available contexts: x"):
        await connect(str(path), context="prod")


async def test_forbidden_is_mapped_with_the_apis_reason(client: KubeClient) -> None:
    from kumo.kube import Forbidden

    await client.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "closing", "finalizers": ["example.com/x"]},
        }
    )
    await client.delete("v1", "Namespace", "closing")
    with pytest.raises(Forbidden) as caught:
        await client.create(configmap("late", namespace="closing"))
    assert caught.value.code == 403
    assert caught.value.message.startswith(f"the Kubernetes API at {client.server} refused: ")
    assert "forbidden" in caught.value.message
    assert caught.value.hint is not None


async def test_item07_a_server_that_never_answers_names_the_timeout(tmp_path: Any) -> None:
    import socket

    from kumo.kube import Unreachable

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts connections; nothing ever reads or answers
    port = silent.getsockname()[1]
    path = tmp_path / "kubeconfig"
    path.write_text(
        f"apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"
    )
    try:
        async with await connect(str(path), timeout=0.5) as kube:
            with pytest.raises(Unreachable) as caught:
                await kube.get("v1", "Namespace", "default")
            assert kube.unanswered_for() > 0
            assert kube.last_failure.startswith("GET /api/v1/namespaces/default: no answer within 0.5 s")
    finally:
        silent.close()
    assert caught.value.message == (
        f"cannot reach the Kubernetes API at http://127.0.0.1:{port} (context 'x'): no answer within 0.5 s "
        "(the read timeout): the server accepted the connection but did not respond"
    )
