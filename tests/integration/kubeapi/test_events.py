"""events.k8s.io/v1 and core v1 Events are one store seen through two APIs, as on the API server:
an Event written through either is read, listed, watched, patched and deleted through both, its
fields converted (note/message, regarding/involvedObject, deprecated*/count and timestamps,
reportingController/reportingComponent)."""

from __future__ import annotations

import datetime as dt

import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import kubectl, kubectl_json

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)


def _apis(api: KubeAPI) -> tuple[k8s_client.CoreV1Api, k8s_client.EventsV1Api]:
    client = k8s_config.new_client_from_config(config_file=api.kubeconfig)
    return k8s_client.CoreV1Api(client), k8s_client.EventsV1Api(client)


def _regarding() -> k8s_client.V1ObjectReference:
    return k8s_client.V1ObjectReference(
        kind="Deployment", api_version="apps/v1", name="web", namespace="default", uid="u-1"
    )


def test_an_events_k8s_io_event_is_a_core_event_to_kubectl_and_the_official_client(
    bare_api: KubeAPI,
) -> None:
    core, events = _apis(bare_api)
    since = core.list_namespaced_event("default").metadata.resource_version
    created = events.create_namespaced_event(
        "default",
        k8s_client.EventsV1Event(
            metadata=k8s_client.V1ObjectMeta(name="web.scaled"),
            event_time=WHEN,
            reporting_controller="kumo.dev/scaler",
            reporting_instance="scaler-1",
            action="Scale",
            reason="ScalingReplicaSet",
            note="Scaled up replica set web-1 from 0 to 3",
            type="Normal",
            regarding=_regarding(),
            deprecated_count=4,
            deprecated_source=k8s_client.V1EventSource(component="deployment-controller"),
        ),
    )
    assert created.note == "Scaled up replica set web-1 from 0 to 3"
    assert created.regarding.name == "web"

    seen = core.read_namespaced_event("web.scaled", "default")
    assert seen.api_version == "v1"
    assert seen.message == "Scaled up replica set web-1 from 0 to 3"
    assert (seen.involved_object.kind, seen.involved_object.name) == ("Deployment", "web")
    assert seen.reporting_component == "kumo.dev/scaler"
    assert seen.reporting_instance == "scaler-1"
    assert seen.count == 4
    assert seen.source.component == "deployment-controller"
    assert seen.event_time == WHEN
    assert seen.metadata.resource_version == created.metadata.resource_version

    w = k8s_watch.Watch()
    for event in w.stream(core.list_namespaced_event, "default", resource_version=since, timeout_seconds=5):
        assert event["type"] == "ADDED"
        assert event["object"].message == "Scaled up replica set web-1 from 0 to 3"
        w.stop()

    listed = kubectl_json(bare_api.kubeconfig, "get", "events", "-n", "default")
    assert [(e["metadata"]["name"], e["message"]) for e in listed["items"]] == [
        ("web.scaled", "Scaled up replica set web-1 from 0 to 3")
    ]
    assert "ScalingReplicaSet" in kubectl(bare_api.kubeconfig, "get", "events", "-n", "default").stdout
    out = kubectl(bare_api.kubeconfig, "events", "-n", "default", "--for", "deployment/web").stdout
    assert "ScalingReplicaSet" in out
    assert "Scaled up replica set web-1 from 0 to 3" in out


def test_a_core_event_is_read_watched_patched_and_deleted_through_events_k8s_io(
    bare_api: KubeAPI,
) -> None:
    core, events = _apis(bare_api)
    since = events.list_namespaced_event("default").metadata.resource_version
    core.create_namespaced_event(
        "default",
        k8s_client.CoreV1Event(
            metadata=k8s_client.V1ObjectMeta(name="web.pulled"),
            involved_object=_regarding(),
            reason="Pulled",
            message="Container image pulled",
            type="Normal",
            count=1,
            first_timestamp=WHEN.replace(microsecond=0),
            last_timestamp=WHEN.replace(microsecond=0),
            event_time=WHEN,
            source=k8s_client.V1EventSource(component="kubelet", host="node-0"),
            reporting_component="kubelet",
            reporting_instance="node-0",
        ),
    )
    core.patch_namespaced_event("web.pulled", "default", {"count": 2})

    seen = events.read_namespaced_event("web.pulled", "default")
    assert seen.api_version == "events.k8s.io/v1"
    assert seen.note == "Container image pulled"
    assert (seen.regarding.kind, seen.regarding.name) == ("Deployment", "web")
    assert seen.reporting_controller == "kubelet"
    assert seen.deprecated_count == 2
    assert seen.deprecated_source.host == "node-0"
    assert seen.deprecated_first_timestamp == WHEN.replace(microsecond=0)

    # a field selector names the view's fields
    selected = events.list_namespaced_event("default", field_selector="regarding.name=web")
    assert [e.metadata.name for e in selected.items] == ["web.pulled"]
    assert not events.list_namespaced_event("default", field_selector="regarding.name=other").items

    w = k8s_watch.Watch()
    watched = []
    for event in w.stream(events.list_namespaced_event, "default", resource_version=since, timeout_seconds=5):
        watched.append((event["type"], event["object"].note, event["object"].deprecated_count))
        if len(watched) == 2:
            w.stop()
    assert watched == [
        ("ADDED", "Container image pulled", 1),
        ("MODIFIED", "Container image pulled", 2),
    ]

    events.patch_namespaced_event("web.pulled", "default", {"note": "Container image pulled again"})
    assert core.read_namespaced_event("web.pulled", "default").message == "Container image pulled again"
    listed = kubectl_json(bare_api.kubeconfig, "get", "events.v1.events.k8s.io", "-n", "default")
    assert [e["note"] for e in listed["items"]] == ["Container image pulled again"]
    # printed as the API server prints its one internal Event, whichever API is asked
    table = kubectl(bare_api.kubeconfig, "get", "events.v1.events.k8s.io", "-n", "default").stdout
    header, line = table.splitlines()[:2]
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert line.split()[1:5] == ["Normal", "Pulled", "deployment/web", "Container"]

    events.delete_namespaced_event("web.pulled", "default")
    with pytest.raises(ApiException) as info:
        core.read_namespaced_event("web.pulled", "default")
    assert info.value.status == 404


def test_a_core_body_is_refused_on_the_events_k8s_io_path(bare_api: KubeAPI) -> None:
    """The two APIs share storage, not bodies: each takes only its own apiVersion."""
    _, events = _apis(bare_api)
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "x"},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "message": "m",
    }
    with pytest.raises(ApiException) as info:
        events.api_client.call_api(
            "/apis/events.k8s.io/v1/namespaces/default/events", "POST", body=body, response_type="object"
        )
    assert info.value.status == 400
