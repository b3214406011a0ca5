"""Pure logic of the emulator: selectors, patches, server-side apply field sets."""

from __future__ import annotations

import pytest

from kumo.kube.listtypes import (
    KEY_DEFAULTS,
    ListType,
    builtin_schema,
    crd_schema,
    duplicate_keys,
    field,
    list_type,
)
from kumo.sandbox.kubeapi.apply import (
    fieldset,
    from_fields_v1,
    server_side_apply,
    to_fields_v1,
    track_update,
)
from kumo.sandbox.kubeapi.catalog import Catalog
from kumo.sandbox.kubeapi.errors import ApiError
from kumo.sandbox.kubeapi.patch import json_patch, merge_patch, strategic_merge
from kumo.sandbox.kubeapi.selectors import make_filter, parse_label_selector

DEPLOY = Catalog().lookup("apps", "v1", "deployments")
assert DEPLOY is not None


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("a=1", {"a": "1"}, True),
        ("a==1", {"a": "2"}, False),
        ("a!=1", {}, True),
        ("a in (1, 2)", {"a": "2"}, True),
        ("a notin (1,2)", {"a": "3"}, True),
        ("a notin (1,2)", {}, True),
        ("a", {"a": ""}, True),
        ("!a", {"a": ""}, False),
        ("a=1,b in (x),!c", {"a": "1", "b": "x"}, True),
        ("example.com/role=web", {"example.com/role": "web"}, True),
    ],
)
def test_label_selector(selector: str, labels: dict[str, str], expected: bool) -> None:
    pred = make_filter(selector, None)
    assert pred is not None
    assert pred({"metadata": {"labels": labels}}) is expected


def test_bad_selector_is_a_400() -> None:
    with pytest.raises(ApiError) as info:
        parse_label_selector("a b")
    assert info.value.code == 400


def test_field_selector_on_nested_fields() -> None:
    pred = make_filter(None, "status.phase=Running,spec.nodeName!=n1")
    assert pred is not None
    assert pred({"status": {"phase": "Running"}, "spec": {"nodeName": "n2"}})
    assert not pred({"status": {"phase": "Running"}, "spec": {"nodeName": "n1"}})


def test_merge_patch_null_deletes() -> None:
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"a": None, "b": {"c": None}}) == {"b": {"d": 3}}


POD_SCHEMA = builtin_schema("v1", "Pod")


def test_strategic_merge_by_keys_and_directives() -> None:
    live = {
        "metadata": {"finalizers": ["f1"]},
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "image": "x",
                    "env": [{"name": "E", "value": "1"}],
                    "ports": [{"containerPort": 80}],
                    "args": ["--one"],
                }
            ]
        },
    }
    patch = {
        "metadata": {"finalizers": ["f2"]},
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "env": [{"name": "F", "value": "2"}],
                    "ports": [{"containerPort": 81}],
                    "args": ["--two"],
                },
                {"name": "b", "image": "y"},
            ]
        },
    }
    out = strategic_merge(live, patch, POD_SCHEMA)
    a = out["spec"]["containers"][0]
    assert [e["name"] for e in a["env"]] == ["E", "F"]
    assert [p["containerPort"] for p in a["ports"]] == [80, 81]
    assert a["args"] == ["--two"]  # no patch strategy: replaced whole
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "b"]
    assert out["metadata"]["finalizers"] == ["f1", "f2"]
    replaced = strategic_merge(
        live, {"spec": {"containers": [{"name": "z", "image": "q"}, {"$patch": "replace"}]}}, POD_SCHEMA
    )
    assert replaced["spec"]["containers"] == [{"name": "z", "image": "q"}]
    dropped = strategic_merge(live, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}}, POD_SCHEMA)
    assert dropped["metadata"]["finalizers"] == []
    # without a schema every list is atomic, as for a kind the server has no schema for
    assert strategic_merge(live, patch)["spec"]["containers"] == patch["spec"]["containers"]


def test_list_semantics_come_from_the_schemas() -> None:
    container = POD_SCHEMA.field("spec").field("containers")  # type: ignore[union-attr]
    assert list_type(container).keys == ("name",)
    ports = container.items().field("ports")  # type: ignore[union-attr]
    assert list_type(ports) == ListType(
        "map", ("containerPort", "protocol"), "containerPort", frozenset({"merge"})
    )
    svc = builtin_schema("v1", "Service")
    assert list_type(field(field(svc, "spec"), "ports")).keys == ("port", "protocol")
    assert list_type(field(field(svc, "metadata"), "finalizers")).kind == "set"
    assert list_type(field(field(svc, "spec"), "nothing")) == ListType()
    crd = crd_schema(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "rules": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["host"],
                            "items": {"type": "object"},
                        }
                    },
                }
            },
        }
    )
    assert list_type(field(field(crd, "spec"), "rules")).keys == ("host",)
    assert list_type(field(field(crd, "metadata"), "ownerReferences")).keys == ("uid",)
    dupes = list(
        duplicate_keys(
            {
                "spec": {
                    "ports": [{"port": 53}, {"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
                }
            },
            svc,
            "",
            KEY_DEFAULTS,
        )
    )
    assert dupes == [("spec.ports[2]", {"port": 53, "protocol": "TCP"})]


def _deploy(replicas: int | None = 2, labels: dict[str, str] | None = None) -> dict[str, object]:
    spec: dict[str, object] = {"template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": labels or {"app": "d"}},
        "spec": spec,
    }


def test_fieldset_round_trips_through_fields_v1() -> None:
    fs = fieldset(_deploy(), DEPLOY)
    assert ("f:spec", "f:replicas") in fs
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}') in fs
    assert ("f:metadata", "f:name") not in fs  # server-owned
    assert from_fields_v1(to_fields_v1(fs)) == fs


def test_apply_conflicts_then_force_moves_ownership() -> None:
    live = server_side_apply(None, _deploy(2), DEPLOY, "alice", False, "t")
    with pytest.raises(ApiError) as info:
        server_side_apply(live, _deploy(3), DEPLOY, "bob", False, "t")
    assert info.value.code == 409
    assert info.value.details["causes"][0]["field"] == ".spec.replicas"
    # the same value is shared ownership, not a conflict
    shared = server_side_apply(live, _deploy(2), DEPLOY, "bob", False, "t")
    assert shared["spec"]["replicas"] == 2
    forced = server_side_apply(live, _deploy(3), DEPLOY, "bob", True, "t")
    owners = {e["manager"]: from_fields_v1(e["fieldsV1"]) for e in forced["metadata"]["managedFields"]}
    assert ("f:spec", "f:replicas") in owners["bob"]
    assert ("f:spec", "f:replicas") not in owners["alice"]


def test_apply_removes_only_unshared_dropped_fields() -> None:
    live = server_side_apply(None, _deploy(2, {"a": "1", "b": "2"}), DEPLOY, "alice", False, "t")
    live = server_side_apply(live, _deploy(None, {"b": "2"}), DEPLOY, "carol", False, "t")
    after = server_side_apply(live, _deploy(2, {"a": "1"}), DEPLOY, "alice", False, "t")
    assert after["metadata"]["labels"] == {"a": "1", "b": "2"}  # carol still applies b
    after = server_side_apply(after, _deploy(None, {"a": "1"}), DEPLOY, "alice", False, "t")
    assert "replicas" not in after["spec"]


def test_update_takes_changed_fields_from_appliers() -> None:
    live = server_side_apply(None, _deploy(2), DEPLOY, "alice", False, "t")
    new = {**live, "spec": {**live["spec"], "replicas": 5}}
    track_update(live, new, DEPLOY, "hpa", "t")
    owners = {e["manager"]: from_fields_v1(e["fieldsV1"]) for e in new["metadata"]["managedFields"]}
    assert owners["hpa"] == {("f:spec", "f:replicas")}
    assert ("f:spec", "f:replicas") not in owners["alice"]


def test_apply_keeps_same_port_with_two_protocols_apart() -> None:
    svc = Catalog().lookup("", "v1", "services")
    assert svc is not None
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "dns"},
        "spec": {
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
            ]
        },
    }
    live = server_side_apply(None, body, svc, "m", False, "t")
    assert [p["protocol"] for p in live["spec"]["ports"]] == ["UDP", "TCP"]
    again = server_side_apply(live, body, svc, "m", False, "t")
    assert again["spec"]["ports"] == live["spec"]["ports"]
    keys = set(again["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:ports"])
    assert keys == {'k:{"port":53,"protocol":"UDP"}', 'k:{"port":53,"protocol":"TCP"}'}


def test_apply_drops_container_ports_keyed_by_port_and_protocol() -> None:
    """[7979/TCP, 5353/UDP, 5353/TCP] -> [7979/TCP]: the list-map keys are containerPort and protocol."""

    def deploy(ports: list[dict[str, object]]) -> dict[str, object]:
        body = _deploy(1)
        body["spec"]["template"]["spec"]["containers"][0]["ports"] = ports  # type: ignore[index]
        return body

    three = [
        {"containerPort": 7979, "protocol": "TCP"},
        {"containerPort": 5353, "protocol": "UDP"},
        {"containerPort": 5353, "protocol": "TCP"},
    ]
    live = server_side_apply(None, deploy(three), DEPLOY, "kumo", False, "t")
    after = server_side_apply(live, deploy([{"containerPort": 7979}]), DEPLOY, "kumo", False, "t")
    ports = after["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["containerPort"] for p in ports] == [7979]


def test_failed_json_patch_test_is_worded_like_the_api_server() -> None:
    with pytest.raises(ApiError) as info:
        json_patch({"data": {"a": "1"}}, [{"op": "test", "path": "/data/a", "value": 2}])
    assert info.value.code == 422
    assert info.value.message.endswith("testing value /data/a failed: test failed")
    assert "int" not in info.value.message and "str" not in info.value.message
