"""Watch semantics (resume, selectors, bookmarks, 410) and deletion (finalizers, owners, namespaces)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import eventually

CM = "/api/v1/namespaces/default/configmaps"


def cm(name: str, labels: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}, **meta},
    }


def read_events(client: httpx.Client, path: str, params: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Open a watch, read ``count`` events and close it."""
    out: list[dict[str, Any]] = []
    with client.stream("GET", path, params=params, timeout=30) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.strip():
                out.append(json.loads(line))
            if len(out) >= count:
                break
    return out


def test_watch_resumes_from_list_resource_version(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("before"))
    rv = bare.get(CM).json()["metadata"]["resourceVersion"]
    bare.post(CM, json=cm("after"))
    bare.patch(
        f"{CM}/before", json={"data": {"k": "v"}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    bare.delete(f"{CM}/after")
    for flag in ("true", "True", "1"):
        events = read_events(bare, CM, {"watch": flag, "resourceVersion": rv}, 3)
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
            ("ADDED", "after"),
            ("MODIFIED", "before"),
            ("DELETED", "after"),
        ]


def test_watch_without_resource_version_starts_with_current_state(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("a"))
    events = read_events(bare, CM, {"watch": "1"}, 1)
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "a"


def test_watch_streams_live_changes_with_label_selector(bare: httpx.Client, bare_api: KubeAPI) -> None:
    rv = bare.get(CM).json()["metadata"]["resourceVersion"]
    got: list[dict[str, Any]] = []

    def reader() -> None:
        with httpx.Client(base_url=bare_api.url) as c:
            got.extend(
                read_events(c, CM, {"watch": "true", "resourceVersion": rv, "labelSelector": "app=x"}, 3)
            )

    t = threading.Thread(target=reader)
    t.start()
    bare.post(CM, json=cm("other", {"app": "y"}))
    bare.post(CM, json=cm("one", {"app": "x"}))
    # relabelling out of the selector looks like a deletion to this watcher, and back in like an add
    bare.patch(
        f"{CM}/one",
        json={"metadata": {"labels": {"app": "z"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    bare.patch(
        f"{CM}/other",
        json={"metadata": {"labels": {"app": "x"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    t.join(20)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in got] == [
        ("ADDED", "one"),
        ("DELETED", "one"),
        ("ADDED", "other"),
    ]


def test_too_old_resource_version_is_gone(bare: httpx.Client) -> None:
    rv = bare.get(CM).json()["metadata"]["resourceVersion"]
    for i in range(30):  # the bare emulator keeps 20 events
        bare.post(CM, json=cm(f"c{i}"))
    events = read_events(bare, CM, {"watch": "true", "resourceVersion": rv}, 1)
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"
    listing = bare.get(CM, params={"limit": 5}).json()
    token = listing["metadata"]["continue"]
    for i in range(30):
        bare.post(CM, json=cm(f"d{i}"))
    expired = bare.get(CM, params={"limit": 5, "continue": token})
    assert expired.status_code == 410
    assert expired.json()["reason"] == "Expired"


def test_bookmarks_when_allowed(bare: httpx.Client) -> None:
    rv = bare.get(CM).json()["metadata"]["resourceVersion"]
    events = read_events(bare, CM, {"watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true"}, 1)
    assert events[0]["type"] == "BOOKMARK"
    assert events[0]["object"]["kind"] == "ConfigMap"
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_watch_timeout_seconds_ends_the_stream(bare: httpx.Client) -> None:
    with bare.stream("GET", CM, params={"watch": "true", "timeoutSeconds": "1", "resourceVersion": "1"}) as r:
        lines = list(r.iter_lines())
    assert all(json.loads(line)["type"] in ("ADDED", "MODIFIED", "DELETED") for line in lines if line)


def test_finalizers_hold_deletion(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("f", finalizers=["example.com/hold"]))
    resp = bare.delete(f"{CM}/f")
    assert resp.status_code == 200
    held = bare.get(f"{CM}/f").json()
    assert held["metadata"]["deletionTimestamp"]
    held["metadata"]["finalizers"] = []
    bare.put(f"{CM}/f", json=held)
    assert bare.get(f"{CM}/f").status_code == 404


def _owned(owner: dict[str, Any], name: str) -> dict[str, Any]:
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "blockOwnerDeletion": True,
    }
    return cm(name, ownerReferences=[ref])


def test_background_garbage_collection(bare: httpx.Client) -> None:
    parent = bare.post(CM, json=cm("parent")).json()
    bare.post(CM, json=_owned(parent, "child"))
    bare.delete(f"{CM}/parent", params={"propagationPolicy": "Background"})
    eventually(lambda: bare.get(f"{CM}/child").status_code == 404)


def test_foreground_deletion_waits_for_dependents(bare: httpx.Client) -> None:
    parent = bare.post(CM, json=cm("parent")).json()
    bare.post(CM, json=_owned(parent, "child") | {})
    child = bare.get(f"{CM}/child").json()
    child["metadata"]["finalizers"] = ["example.com/hold"]
    bare.put(f"{CM}/child", json=child)
    resp = bare.request("DELETE", f"{CM}/parent", json={"propagationPolicy": "Foreground"})
    assert "foregroundDeletion" in resp.json()["metadata"]["finalizers"]
    eventually(lambda: bare.get(f"{CM}/child").json()["metadata"].get("deletionTimestamp"))
    assert bare.get(f"{CM}/parent").status_code == 200  # still waiting for the child
    child = bare.get(f"{CM}/child").json()
    child["metadata"]["finalizers"] = []
    bare.put(f"{CM}/child", json=child)
    eventually(lambda: bare.get(f"{CM}/parent").status_code == 404)


def test_orphan_deletion_keeps_dependents(bare: httpx.Client) -> None:
    parent = bare.post(CM, json=cm("parent")).json()
    bare.post(CM, json=_owned(parent, "child"))
    bare.delete(f"{CM}/parent", params={"propagationPolicy": "Orphan"})
    eventually(lambda: bare.get(f"{CM}/parent").status_code == 404)
    child = bare.get(f"{CM}/child").json()
    assert not child["metadata"].get("ownerReferences")


def test_namespace_deletion_removes_contents(bare: httpx.Client) -> None:
    bare.post("/api/v1/namespaces", json={"metadata": {"name": "gone"}})
    bare.post("/api/v1/namespaces/gone/configmaps", json=cm("a"))
    bare.post("/api/v1/namespaces/gone/secrets", json={"metadata": {"name": "s"}, "stringData": {"a": "b"}})
    bare.delete("/api/v1/namespaces/gone")
    eventually(lambda: bare.get("/api/v1/namespaces/gone").status_code == 404)
    assert bare.get("/api/v1/namespaces/gone/configmaps/a").status_code == 404
    assert (
        bare.get("/api/v1/secrets", params={"fieldSelector": "metadata.namespace=gone"}).json()["items"] == []
    )


def test_deletecollection_with_selector(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("a", {"drop": "yes"}))
    bare.post(CM, json=cm("b", {"drop": "yes"}))
    bare.post(CM, json=cm("c", {"drop": "no"}))
    resp = bare.delete(CM, params={"labelSelector": "drop=yes"})
    assert resp.status_code == 200
    assert [i["metadata"]["name"] for i in bare.get(CM).json()["items"]] == ["c"]


def test_delete_preconditions(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("a"))
    resp = bare.request("DELETE", f"{CM}/a", json={"preconditions": {"uid": "not-the-uid"}})
    assert resp.status_code == 409
    assert bare.get(f"{CM}/a").status_code == 200


def test_system_namespaces_cannot_be_deleted(bare: httpx.Client) -> None:
    for name in ("default", "kube-system"):
        resp = bare.delete(f"/api/v1/namespaces/{name}")
        assert resp.status_code == 403 and resp.json()["reason"] == "Forbidden"
