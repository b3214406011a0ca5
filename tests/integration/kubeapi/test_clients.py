"""Client libraries we did not write: the official ``kubernetes`` client and lightkube."""

from __future__ import annotations

import httpx
import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException
from lightkube import ApiError, Client, KubeConfig
from lightkube.codecs import from_dict
from lightkube.resources.apps_v1 import Deployment
from lightkube.types import PatchType

from kumo.sandbox.kubeapi import KubeAPI


def _core(api: KubeAPI) -> k8s_client.CoreV1Api:
    return k8s_client.CoreV1Api(k8s_config.new_client_from_config(config_file=api.kubeconfig))


def _cm(name: str, value: str = "0") -> k8s_client.V1ConfigMap:
    return k8s_client.V1ConfigMap(metadata=k8s_client.V1ObjectMeta(name=name), data={"v": value})


def test_official_client_watch_resumes_from_list_resource_version(kubeapi: KubeAPI) -> None:
    core = _core(kubeapi)
    core.create_namespaced_config_map("default", _cm("existing"))
    listing = core.list_namespaced_config_map("default")
    rv = listing.metadata.resource_version
    core.create_namespaced_config_map("default", _cm("new"))
    core.patch_namespaced_config_map("existing", "default", {"data": {"v": "1"}})
    w = k8s_watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "new"), ("MODIFIED", "existing")]


def test_official_client_410_then_relist(bare_api: KubeAPI) -> None:
    core = _core(bare_api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    for i in range(30):  # the bare emulator retains 20 events
        core.create_namespaced_config_map("default", _cm(f"c{i}"))
    with pytest.raises(ApiException) as info:
        for _ in k8s_watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5
        ):
            pass
    assert info.value.status == 410
    # the documented recovery: list again and watch from the new resourceVersion
    relist = core.list_namespaced_config_map("default")
    assert len(relist.items) == 30
    core.create_namespaced_config_map("default", _cm("after"))
    w = k8s_watch.Watch()
    for event in w.stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=relist.metadata.resource_version,
        timeout_seconds=5,
    ):
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "after")
        w.stop()


def test_official_client_errors_are_api_exceptions(kubeapi: KubeAPI) -> None:
    core = _core(kubeapi)
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("missing", "default")
    assert info.value.status == 404
    core.create_namespaced_config_map("default", _cm("dup"))
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", _cm("dup"))
    assert info.value.status == 409


DEPLOY = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "ssa", "namespace": "default", "labels": {"owner": "alice"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "ssa"}},
        "template": {
            "metadata": {"labels": {"app": "ssa"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}


def _lightkube(api: KubeAPI) -> Client:
    return Client(config=KubeConfig.from_file(api.kubeconfig), field_manager="alice")


def test_lightkube_server_side_apply_conflict_then_force(kubeapi: KubeAPI) -> None:
    client = _lightkube(kubeapi)
    created = client.apply(from_dict(DEPLOY), field_manager="alice")
    assert created.spec.replicas == 2
    bob = {**DEPLOY, "spec": {**DEPLOY["spec"], "replicas": 5}}
    with pytest.raises(ApiError) as info:
        client.apply(from_dict(bob), field_manager="bob")
    assert info.value.status.code == 409
    assert info.value.status.reason == "Conflict"
    assert ".spec.replicas" in info.value.status.message
    forced = client.apply(from_dict(bob), field_manager="bob", force=True)
    assert forced.spec.replicas == 5
    managers = {m.manager: m for m in forced.metadata.managedFields}
    assert managers["bob"].operation == "Apply"
    assert "f:replicas" in managers["bob"].fieldsV1["f:spec"]
    assert "f:replicas" not in managers["alice"].fieldsV1["f:spec"]
    # alice re-applying without replicas no longer fights bob over it
    again = {**DEPLOY, "spec": {k: v for k, v in DEPLOY["spec"].items() if k != "replicas"}}
    assert client.apply(from_dict(again), field_manager="alice").spec.replicas == 5


def test_lightkube_apply_removes_fields_a_manager_drops(kubeapi: KubeAPI) -> None:
    client = _lightkube(kubeapi)
    with_extra = {
        **DEPLOY,
        "metadata": {
            **DEPLOY["metadata"],
            "labels": {"owner": "alice", "tier": "web"},
            "annotations": {"note": "x"},
        },
    }
    client.apply(from_dict(with_extra), field_manager="alice")
    applied = client.apply(from_dict(DEPLOY), field_manager="alice")
    assert applied.metadata.labels == {"owner": "alice"}
    assert "note" not in (applied.metadata.annotations or {})
    # a field another manager also applies stays when one of them drops it
    carol = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ssa", "namespace": "default", "labels": {"owner": "alice"}},
    }
    client.patch(
        Deployment, "ssa", carol, namespace="default", patch_type=PatchType.APPLY, field_manager="carol"
    )
    client.apply(
        from_dict({**DEPLOY, "metadata": {**DEPLOY["metadata"], "labels": {}}}), field_manager="alice"
    )
    assert client.get(Deployment, "ssa", namespace="default").metadata.labels == {"owner": "alice"}


def test_apply_creates_and_is_idempotent(bare: httpx.Client) -> None:
    import yaml

    http = bare
    path = "/apis/apps/v1/namespaces/default/deployments/ssa"
    headers = {"Content-Type": "application/apply-patch+yaml"}
    first = http.patch(path, params={"fieldManager": "m"}, content=yaml.safe_dump(DEPLOY), headers=headers)
    assert first.status_code == 201
    second = http.patch(path, params={"fieldManager": "m"}, content=yaml.safe_dump(DEPLOY), headers=headers)
    assert second.status_code == 200
    assert second.json()["metadata"]["resourceVersion"] == first.json()["metadata"]["resourceVersion"]
    no_manager = http.patch(path, content=yaml.safe_dump(DEPLOY), headers=headers)
    assert no_manager.status_code == 400
    entry = second.json()["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsType"]) == ("m", "Apply", "FieldsV1")
    containers = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert 'k:{"name":"web"}' in containers


def test_update_takes_ownership_from_apply(bare: httpx.Client) -> None:
    import yaml

    http = bare
    path = "/apis/apps/v1/namespaces/default/deployments/ssa"
    http.patch(
        path,
        params={"fieldManager": "m"},
        content=yaml.safe_dump(DEPLOY),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    http.patch(
        path,
        params={"fieldManager": "editor"},
        json={"spec": {"replicas": 4}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    obj = http.get(path).json()
    managers = {(m["manager"], m["operation"]): m["fieldsV1"] for m in obj["metadata"]["managedFields"]}
    assert "f:replicas" in managers[("editor", "Update")]["f:spec"]
    assert "f:replicas" not in managers[("m", "Apply")]["f:spec"]
    conflict = http.patch(
        path,
        params={"fieldManager": "m"},
        content=yaml.safe_dump(DEPLOY),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert conflict.status_code == 409
    assert 'conflict with "editor"' in conflict.json()["message"]
