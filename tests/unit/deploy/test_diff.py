"""diff_object compares the server's dry-run result with the live object; list keys come from the server."""

from __future__ import annotations

import copy
import pathlib
from typing import Any

from kumo.deploy.diff import MISSING, describe, diff_object

KUMO_FIELDS = {
    "manager": "kumo",
    "operation": "Apply",
    "fieldsV1": {
        "f:metadata": {"f:labels": {"f:kumo.dev/app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:template": {
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"web"}': {".": {}, "f:name": {}, "f:image": {}, "f:ports": {}}
                    }
                }
            },
        },
    },
}


def deployment(image: str = "nginx:1.27", replicas: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "hello",
            "labels": {"kumo.dev/app": "hello"},
            "managedFields": [copy.deepcopy(KUMO_FIELDS)],
        },
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}
            },
        },
        **extra,
    }


def test_identical_objects_have_no_changes_whatever_the_servers_bookkeeping() -> None:
    live = deployment()
    live["metadata"].update(uid="u", resourceVersion="7", generation=3)
    live["status"] = {"readyReplicas": 2}
    after = deployment()
    after["metadata"].update(uid="u", resourceVersion="8", generation=4)
    assert diff_object(after, live) == []


def test_changed_scalar_in_a_keyed_list_is_named_by_the_servers_keys() -> None:
    changes = diff_object(deployment(image="nginx:1.28"), deployment())
    assert [(c.path, c.live, c.desired) for c in changes] == [
        ("spec.template.spec.containers[name=web].image", "nginx:1.27", "nginx:1.28")
    ]


def test_field_changed_by_hand_names_its_manager() -> None:
    live = deployment(replicas=5)
    live["metadata"]["managedFields"] = [
        {"manager": "kumo", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template": {}}}},
        {"manager": "kubectl-scale", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
    ]
    (change,) = diff_object(deployment(), live)
    assert change.path == "spec.replicas"
    assert change.manager == "kubectl-scale"
    assert describe(change) == "spec.replicas: 5 -> 2   (changed by kubectl-scale)"


def test_field_the_apply_would_drop_is_a_removal() -> None:
    live = deployment()
    live["metadata"]["labels"]["tier"] = "old"
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"]["f:tier"] = {}
    (change,) = diff_object(deployment(), live)
    assert change.path == "metadata.labels.tier"
    assert change.desired is MISSING
    assert "no longer in kumo.yaml" in describe(change)


def test_items_the_server_keys_are_matched_by_key_not_position() -> None:
    live = deployment()
    after = deployment()
    sidecar = {"name": "log", "image": "busybox"}
    after["spec"]["template"]["spec"]["containers"].insert(0, sidecar)
    fields = after["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]
    fields["f:containers"]['k:{"name":"log"}'] = {".": {}, "f:name": {}, "f:image": {}}
    (change,) = diff_object(after, live)
    assert change.path == "spec.template.spec.containers[name=log]"
    assert change.live is MISSING and change.desired == sidecar


def test_an_atomic_list_compares_by_position() -> None:
    # A NetworkPolicy rule's ports are atomic: the server replaces the list whole, and the diff
    # is clean when the result equals the live list, whatever keys a guess would have picked.
    ports = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    live = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a"}, "spec": {"ports": ports}}
    assert diff_object(copy.deepcopy(live), live) == []
    after = copy.deepcopy(live)
    after["spec"]["ports"][1]["port"] = 5353
    (change,) = diff_object(after, live)
    assert (change.path, change.live, change.desired) == ("spec.ports[1].port", 53, 5353)


def test_deploy_holds_no_guessed_list_keys() -> None:
    source = pathlib.Path(__file__).parents[3] / "src" / "kumo" / "deploy"
    for module in source.glob("*.py"):
        assert "containerPort" not in module.read_text(), module
