"""API semantics over raw HTTP: status codes, Status bodies, metadata, concurrency, subresources."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.kubeapi.helpers import deployment_object as deploy

CM = "/api/v1/namespaces/default/configmaps"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


def cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
        "data": data,
    }


def test_discovery_with_and_without_trailing_slash(bare: httpx.Client) -> None:
    for path in ("/api", "/api/"):
        body = bare.get(path).json()
        assert body["kind"] == "APIVersions" and body["versions"] == ["v1"]
    for path in ("/apis", "/apis/"):
        groups = {g["name"] for g in bare.get(path).json()["groups"]}
        assert {
            "apps",
            "coordination.k8s.io",
            "discovery.k8s.io",
            "gateway.networking.k8s.io",
            "metrics.k8s.io",
            "apiextensions.k8s.io",
            "events.k8s.io",
        } <= groups
    for path in ("/api/v1", "/api/v1/"):
        names = {r["name"] for r in bare.get(path).json()["resources"]}
        assert {"pods", "pods/status", "services", "namespaces", "configmaps", "secrets", "nodes"} <= names
    res = bare.get("/apis/apps/v1/").json()
    assert res["groupVersion"] == "apps/v1"
    assert {"deployments", "deployments/scale", "deployments/status"} <= {r["name"] for r in res["resources"]}
    assert bare.get("/version/").json()["major"] == "1"
    assert bare.get("/apis/apps").json()["preferredVersion"]["groupVersion"] == "apps/v1"


def test_aggregated_discovery_accept_header_gets_plain_list(bare: httpx.Client) -> None:
    accept = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
    )
    resp = bare.get("/apis", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json()["kind"] == "APIGroupList"


def test_create_sets_server_metadata_and_rejects_duplicates(bare: httpx.Client) -> None:
    resp = bare.post(CM, json=cm("a", x="1"))
    assert resp.status_code == 201
    meta = resp.json()["metadata"]
    assert meta["uid"] and meta["resourceVersion"].isdigit() and meta["creationTimestamp"].endswith("Z")
    assert meta["namespace"] == "default"
    dup = bare.post(CM, json=cm("a"))
    assert dup.status_code == 409
    status = dup.json()
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "AlreadyExists", 409)
    assert status["details"] == {"name": "a", "kind": "configmaps"}
    # byte for byte as the API server writes it (the official client's e2e tests compare the text)
    assert bare.post(DEPLOYS, json=deploy("twice")).status_code == 201
    again = bare.post(DEPLOYS, json=deploy("twice"))
    assert again.text == (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        '"message":"deployments.apps \\"twice\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"twice","group":"apps","kind":"deployments"},"code":409}'
    )


def test_generate_name(bare: httpx.Client) -> None:
    body = cm("")
    body["metadata"] = {"generateName": "gen-"}
    name = bare.post(CM, json=body).json()["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == len("gen-") + 5


def test_put_with_stale_resource_version_is_a_conflict(bare: httpx.Client) -> None:
    first = bare.post(CM, json=cm("a", x="1")).json()
    first["data"]["x"] = "2"
    second = bare.put(f"{CM}/a", json=first)
    assert second.status_code == 200
    assert int(second.json()["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    first["data"]["x"] = "3"  # still carries the old resourceVersion
    stale = bare.put(f"{CM}/a", json=first)
    assert stale.status_code == 409
    assert stale.json()["reason"] == "Conflict"
    assert "the object has been modified" in stale.json()["message"]
    assert bare.get(f"{CM}/a").json()["data"]["x"] == "2"


def test_generation_bumps_on_spec_changes_only(bare: httpx.Client) -> None:
    d = bare.post(DEPLOYS, json=deploy("g")).json()
    assert d["metadata"]["generation"] == 1
    d["metadata"]["labels"] = {"team": "a"}
    d = bare.put(f"{DEPLOYS}/g", json=d).json()
    assert d["metadata"]["generation"] == 1
    d["spec"]["replicas"] = 3
    d = bare.put(f"{DEPLOYS}/g", json=d).json()
    assert d["metadata"]["generation"] == 2


def test_noop_update_keeps_resource_version(bare: httpx.Client) -> None:
    a = bare.post(CM, json=cm("a", x="1")).json()
    b = bare.put(f"{CM}/a", json=a).json()
    assert b["metadata"]["resourceVersion"] == a["metadata"]["resourceVersion"]


def test_not_found_and_unknown_resources_are_404(bare: httpx.Client) -> None:
    missing = bare.get(f"{CM}/nope")
    assert missing.status_code == 404
    assert missing.json()["reason"] == "NotFound"
    assert missing.json()["message"] == 'configmaps "nope" not found'
    for path in (
        "/api/v1/namespaces/default/widgets",
        "/apis/nothing.example/v1/things",
        "/apis/apps/v9/x",
        "/nonsense",
        "/api/v1/namespaces/default/configmaps/a/bogus",
    ):
        resp = bare.get(path)
        assert resp.status_code == 404, path
        assert resp.json()["kind"] == "Status"
    assert bare.post("/api/v1/namespaces/nope/configmaps", json=cm("x")).status_code == 404


def test_malformed_bodies_are_400(bare: httpx.Client) -> None:
    for body in (b"{not json", b"[1, 2]", b"", b'"a string"'):
        resp = bare.post(CM, content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, body
        assert resp.json()["reason"] == "BadRequest"
    wrong_kind = bare.post(CM, json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    assert wrong_kind.status_code == 400
    bad_patch = bare.patch(f"{CM}/x", content=b"{", headers={"Content-Type": "application/merge-patch+json"})
    assert bad_patch.status_code in (400, 404)
    bare.post(CM, json=cm("p"))
    bad_patch = bare.patch(f"{CM}/p", content=b"{", headers={"Content-Type": "application/merge-patch+json"})
    assert bad_patch.status_code == 400
    bad_media = bare.patch(f"{CM}/p", content=b"{}", headers={"Content-Type": "text/plain"})
    assert bad_media.status_code == 415


def test_schema_validation_is_422_with_causes(bare: httpx.Client) -> None:
    body = deploy("bad")
    body["spec"]["replicas"] = "two"
    resp = bare.post(DEPLOYS, json=body)
    assert resp.status_code == 422
    status = resp.json()
    assert status["reason"] == "Invalid"
    assert {"field": "spec.replicas"}.items() <= status["details"]["causes"][0].items()
    no_containers = deploy("bad2")
    del no_containers["spec"]["template"]["spec"]["containers"]
    resp = bare.post(DEPLOYS, json=no_containers)
    assert resp.status_code == 422
    assert any(c["field"].endswith("containers") for c in resp.json()["details"]["causes"])
    bad_name = bare.post(CM, json=cm("Not_A_Name"))
    assert bad_name.status_code == 422
    assert bad_name.json()["details"]["causes"][0]["field"] == "metadata.name"


def test_status_subresource_is_isolated(bare: httpx.Client) -> None:
    d = bare.post(DEPLOYS, json=deploy("s")).json()
    d["status"] = {"replicas": 5}
    d = bare.put(f"{DEPLOYS}/s", json=d).json()
    assert d["status"].get("replicas") is None
    d["status"] = {"replicas": 7, "observedGeneration": 1}
    d["spec"]["replicas"] = 9
    d2 = bare.put(f"{DEPLOYS}/s/status", json=d).json()
    assert d2["status"]["replicas"] == 7
    assert d2["spec"]["replicas"] == 1
    patched = bare.patch(
        f"{DEPLOYS}/s/status",
        json={"status": {"readyReplicas": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).json()
    assert patched["status"]["readyReplicas"] == 1 and patched["status"]["replicas"] == 7


def test_scale_subresource(bare: httpx.Client) -> None:
    bare.post(DEPLOYS, json=deploy("sc", replicas=2))
    scale = bare.get(f"{DEPLOYS}/sc/scale").json()
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    assert scale["status"]["selector"] == "app=sc"
    scale["spec"]["replicas"] = 4
    assert bare.put(f"{DEPLOYS}/sc/scale", json=scale).json()["spec"]["replicas"] == 4
    bare.patch(
        f"{DEPLOYS}/sc/scale",
        json={"spec": {"replicas": 5}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert bare.get(f"{DEPLOYS}/sc").json()["spec"]["replicas"] == 5


def test_patch_types(bare: httpx.Client) -> None:
    d = deploy("p")
    d["spec"]["template"]["spec"]["containers"].append(
        {"name": "side", "image": "busybox", "env": [{"name": "A", "value": "1"}]}
    )
    bare.post(DEPLOYS, json=d)
    smp = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "side", "image": "busybox:2", "env": [{"name": "B", "value": "2"}]}
                    ]
                }
            }
        }
    }
    out = bare.patch(
        f"{DEPLOYS}/p", json=smp, headers={"Content-Type": "application/strategic-merge-patch+json"}
    ).json()
    containers = {c["name"]: c for c in out["spec"]["template"]["spec"]["containers"]}
    assert set(containers) == {"c", "side"}
    assert containers["side"]["image"] == "busybox:2"
    assert [e["name"] for e in containers["side"]["env"]] == ["A", "B"]
    delete_item = {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}
    out = bare.patch(
        f"{DEPLOYS}/p", json=delete_item, headers={"Content-Type": "application/strategic-merge-patch+json"}
    ).json()
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["c"]
    merge = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}}}
    out = bare.patch(
        f"{DEPLOYS}/p", json=merge, headers={"Content-Type": "application/merge-patch+json"}
    ).json()
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["only"]
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels", "value": {"k": "v"}},
    ]
    out = bare.patch(f"{DEPLOYS}/p", json=ops, headers={"Content-Type": "application/json-patch+json"}).json()
    assert out["spec"]["replicas"] == 3 and out["metadata"]["labels"] == {"k": "v"}
    failing = [{"op": "test", "path": "/spec/replicas", "value": 99}]
    resp = bare.patch(f"{DEPLOYS}/p", json=failing, headers={"Content-Type": "application/json-patch+json"})
    assert resp.status_code == 422
    # each failure worded as the API server's JSON patch library words it, no Python reprs
    prefix = "the server rejected our request due to an error in our request: "
    for ops, message in [
        (failing, "testing value /spec/replicas failed: test failed"),
        ([{"op": "remove", "path": "/spec/nope"}], "Unable to remove nonexistent key: nope: missing value"),
        (
            [{"op": "replace", "path": "/spec/nope", "value": 1}],
            "replace operation does not apply: doc is missing key: /spec/nope: missing value",
        ),
        (
            [{"op": "add", "path": "/x/y", "value": 1}],
            'add operation does not apply: doc is missing path: "/x/y": missing value',
        ),
        (
            [{"op": "move", "from": "/spec/zz", "path": "/spec/b"}],
            "move operation does not apply: doc is missing from path: /spec/zz: missing value",
        ),
        ([{"op": "bogus", "path": "/spec"}], "Unexpected kind: bogus"),
    ]:
        resp = bare.patch(f"{DEPLOYS}/p", json=ops, headers={"Content-Type": "application/json-patch+json"})
        body = resp.json()
        assert resp.status_code == 422 and body["message"] == prefix + message
        # a Status body in the API server's field order
        assert list(body) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "code"]


def test_label_selectors_all_operators(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("a", {"env": "prod", "tier": "web"}))
    bare.post(CM, json=cm("b", {"env": "dev", "tier": "web"}))
    bare.post(CM, json=cm("c", {"env": "test"}))
    bare.post(CM, json=cm("d", {}))

    def names(selector: str) -> list[str]:
        items = bare.get(CM, params={"labelSelector": selector}).json()["items"]
        return sorted(i["metadata"]["name"] for i in items)

    assert names("env=prod") == ["a"]
    assert names("env==prod") == ["a"]
    assert names("env!=prod") == ["b", "c", "d"]
    assert names("env in (prod,dev)") == ["a", "b"]
    assert names("env notin (prod,dev)") == ["c", "d"]
    assert names("tier") == ["a", "b"]
    assert names("!tier") == ["c", "d"]
    assert names("tier=web,env in (dev)") == ["b"]
    assert bare.get(CM, params={"labelSelector": "a b c"}).status_code == 400


def test_field_selectors(bare: httpx.Client) -> None:
    bare.post(CM, json=cm("a"))
    bare.post(CM, json=cm("b"))
    items = bare.get(CM, params={"fieldSelector": "metadata.name=b"}).json()["items"]
    assert [i["metadata"]["name"] for i in items] == ["b"]
    items = bare.get(CM, params={"fieldSelector": "metadata.name!=b"}).json()["items"]
    assert [i["metadata"]["name"] for i in items] == ["a"]
    items = bare.get("/api/v1/configmaps", params={"fieldSelector": "metadata.namespace=default"}).json()[
        "items"
    ]
    assert len(items) == 2
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]},
    }
    bare.post("/api/v1/namespaces/default/pods", json=pod)
    assert len(bare.get("/api/v1/pods", params={"fieldSelector": "spec.nodeName=n1"}).json()["items"]) == 1
    assert (
        len(bare.get("/api/v1/pods", params={"fieldSelector": "status.phase=Pending"}).json()["items"]) == 1
    )
    assert bare.get("/api/v1/pods", params={"fieldSelector": "status.phase=Running"}).json()["items"] == []


def test_pagination_with_limit_and_continue(bare: httpx.Client) -> None:
    for i in range(7):
        bare.post(CM, json=cm(f"c{i}"))
    seen: list[str] = []
    cont = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cont:
            params["continue"] = cont
        body = bare.get(CM, params=params).json()
        pages += 1
        seen += [i["metadata"]["name"] for i in body["items"]]
        cont = body["metadata"].get("continue")
        if pages == 1:
            assert body["metadata"]["remainingItemCount"] == 4
        if not cont:
            break
    assert pages == 3
    assert seen == [f"c{i}" for i in range(7)]


def test_namespaces_and_cluster_scope(bare: httpx.Client) -> None:
    assert bare.post("/api/v1/namespaces", json={"metadata": {"name": "team"}}).status_code == 201
    assert bare.post("/api/v1/namespaces/team/configmaps", json=cm("a")).status_code == 201
    assert bare.get("/api/v1/namespaces/default/configmaps/a").status_code == 404
    assert bare.get("/api/v1/namespaces/team").json()["status"]["phase"] == "Active"
    # a cluster-scoped kind under a namespace path does not exist
    assert bare.get("/api/v1/namespaces/team/nodes").status_code == 404


def test_odd_requests_never_get_a_500(http: httpx.Client) -> None:
    import itertools
    import random

    paths = [
        "/",
        "/api/v2",
        "/apis/apps",
        "/api/v1/namespaces/default",
        "/api/v1/namespaces/default/pods",
        "/api/v1/namespaces/default/pods/x",
        "/api/v1/namespaces/default/pods/x/status",
        "/api/v1/namespaces/default/pods/x/log",
        "/api/v1/namespaces/default/nodes",
        "/apis/apps/v1/namespaces/default/deployments/x/scale",
        "/api/v1/namespaces/x/finalize",
        "/apis/metrics.k8s.io/v1beta1/nodes/x",
        "/apis/apps/v1/namespaces//deployments",
    ]
    bodies = [
        b"",
        b"{",
        b"null",
        b"[]",
        b"1",
        b'{"metadata": 5}',
        b'{"metadata": {"name": 5}}',
        b'{"metadata": {"name": "x", "labels": {"a": 1}}}',
        b'{"metadata":{"name":"x"},"spec":null}',
        b'{"metadata":{"name":"x","finalizers":"a"}}',
        b'{"metadata":{"name":"x","ownerReferences":[1]}}',
        b'{"metadata":{"name":"x"},"spec":{"containers":"no"}}',
        b"\xff\xfe",
        b"k8s\x00\n\x00",
    ]
    types = [
        "application/json",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
        "text/plain",
        "application/vnd.kubernetes.protobuf",
    ]
    queries = [
        "",
        "?limit=x",
        "?labelSelector=%3D%3D",
        "?continue=zzz",
        "?fieldManager=a&force=true",
        "?propagationPolicy=Bogus",
        "?watch=1&timeoutSeconds=0&resourceVersion=abc",
    ]
    combos = list(itertools.product(["GET", "POST", "PUT", "PATCH", "DELETE"], paths, queries, bodies, types))
    for method, path, query, body, ctype in random.Random(7).sample(combos, 600):
        resp = http.request(method, path + query, content=body, headers={"Content-Type": ctype})
        assert resp.status_code < 500, (method, path + query, body, ctype, resp.text)
        if resp.status_code >= 400:
            assert resp.json()["kind"] == "Status"


def test_label_keys_and_values_are_validated(bare: httpx.Client) -> None:
    for labels in (
        {"bad key": "x"},
        {"a": "has space"},
        {"a": "x" * 64},
        {"-a": "x"},
        {"Bad_Prefix.com/a": "x"},
    ):
        resp = bare.post(CM, json=cm("l", labels))
        assert resp.status_code == 422, labels
        assert resp.json()["details"]["causes"][0]["field"].startswith("metadata.labels")
    ok = bare.post(CM, json=cm("l", {"example.com/role": "web", "a": "", "b_c.d-e": "V1.2_x"}))
    assert ok.status_code == 201


def test_unknown_fields_are_dropped_with_a_warning_unless_strict(bare: httpx.Client) -> None:
    body = cm("loose", x="1")
    body["extra"] = {"nested": True}
    body["metadata"]["bogus"] = "y"
    resp = bare.post(CM, json=body)
    assert resp.status_code == 201
    assert "extra" not in resp.json() and "bogus" not in resp.json()["metadata"]
    assert "generation" not in resp.json()["metadata"]  # a ConfigMap has no spec to generate
    assert sorted(resp.headers.get_list("warning")) == [
        '299 - "unknown field \\"extra\\""',
        '299 - "unknown field \\"metadata.bogus\\""',
    ]
    quiet = bare.post(CM, params={"fieldValidation": "Ignore"}, json={**cm("quiet"), "extra": 1})
    assert quiet.status_code == 201 and "warning" not in quiet.headers
    strict = bare.post(CM, params={"fieldValidation": "Strict"}, json={**cm("strict"), "extra": 1})
    assert strict.status_code == 400 and 'unknown field "extra"' in strict.json()["message"]
    assert list(strict.json()) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "code"]


def test_metadata_only_lists_and_gets(bare: httpx.Client) -> None:
    """``as=PartialObjectMetadataList`` (metadata informers, the dynamic client) gets metadata only."""
    bare.post(CM, json=cm("meta-only", {"app": "x"}, secret="value"))
    accept = {"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, application/json"}
    listed = bare.get(CM, headers=accept).json()
    assert (listed["kind"], listed["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    item = next(i for i in listed["items"] if i["metadata"]["name"] == "meta-only")
    assert item["kind"] == "PartialObjectMetadata" and "data" not in item
    assert item["metadata"]["labels"] == {"app": "x"} and listed["metadata"]["resourceVersion"]
    one = bare.get(
        f"{CM}/meta-only", headers={"Accept": "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"}
    )
    assert one.json()["kind"] == "PartialObjectMetadata" and "data" not in one.json()
    assert bare.get(CM).json()["kind"] == "ConfigMapList"  # plain JSON stays the full list
