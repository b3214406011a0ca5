from __future__ import annotations

from typing import Any

from kumo.deploy.diff import MISSING, describe, diff_object


def deployment(image: str = "nginx:1.27", replicas: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "hello", "labels": {"kumo.dev/app": "hello"}},
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}
            },
        },
        **extra,
    }


def test_identical_objects_have_no_changes_even_with_server_defaults() -> None:
    live = deployment()
    live["metadata"].update(uid="u", resourceVersion="7", generation=3)
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    live["status"] = {"readyReplicas": 2}
    assert diff_object(deployment(), live) == []


def test_changed_scalar_in_keyed_list_is_reported_by_path() -> None:
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


def test_field_kumo_applied_but_no_longer_renders_is_a_removal() -> None:
    live = deployment()
    live["metadata"]["labels"]["tier"] = "old"
    live["metadata"]["managedFields"] = [
        {
            "manager": "kumo",
            "operation": "Apply",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:kumo.dev/app": {}, "f:tier": {}}}},
        },
    ]
    (change,) = diff_object(deployment(), live)
    assert change.path == "metadata.labels.tier"
    assert change.desired is MISSING
    assert "no longer in kumo.yaml" in describe(change)


def test_labels_added_by_others_are_not_kumos_business() -> None:
    live = deployment()
    live["metadata"]["labels"]["added-by-hand"] = "x"
    assert diff_object(deployment(), live) == []


def test_missing_container_and_numbers_as_strings() -> None:
    desired = deployment()
    desired["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    live = deployment(replicas="2")  # type: ignore[arg-type]
    changes = diff_object(desired, live)
    assert [c.path for c in changes] == ["spec.template.spec.containers[name=sidecar]"]
    assert changes[0].live is MISSING
