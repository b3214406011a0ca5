"""List semantics from the schemas over HTTP: server-side apply, strategic merge, duplicate keys."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.kubeapi.helpers import deployment_object as deploy

DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"
SVCS = "/api/v1/namespaces/default/services"
APPLY = {"Content-Type": "application/apply-patch+yaml"}


def _with_ports(ports: list[dict[str, Any]]) -> dict[str, Any]:
    body = deploy("dns")
    body["spec"]["template"]["spec"]["containers"][0]["ports"] = ports
    return body


def test_apply_drops_a_port_that_shares_its_number_with_another_protocol(bare: httpx.Client) -> None:
    three = [
        {"containerPort": 7979, "protocol": "TCP"},
        {"containerPort": 5353, "protocol": "UDP"},
        {"containerPort": 5353, "protocol": "TCP"},
    ]
    url = f"{DEPLOYS}/dns?fieldManager=kumo"
    first = bare.patch(url, json=_with_ports(three), headers=APPLY)
    assert first.status_code == 201, first.text
    fields = first.json()["metadata"]["managedFields"][0]["fieldsV1"]
    ports = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']["f:ports"]
    assert 'k:{"containerPort":5353,"protocol":"UDP"}' in ports
    second = bare.patch(url, json=_with_ports([{"containerPort": 7979, "protocol": "TCP"}]), headers=APPLY)
    assert second.status_code == 200, second.text
    live = second.json()["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert live == [{"containerPort": 7979, "protocol": "TCP"}]


def test_strategic_merge_follows_the_patch_strategy_of_each_list(bare: httpx.Client) -> None:
    body = deploy("web")
    body["spec"]["template"]["spec"]["containers"][0]["args"] = ["--a"]
    assert bare.post(DEPLOYS, json=body).status_code == 201
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "side", "image": "busybox"}, {"name": "c", "args": ["--b"]}]}
            }
        }
    }
    resp = bare.patch(
        f"{DEPLOYS}/web", json=patch, headers={"Content-Type": "application/strategic-merge-patch+json"}
    )
    assert resp.status_code == 200, resp.text
    containers = resp.json()["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["c", "side"]  # merged by name
    assert containers[0]["args"] == ["--b"]  # args has no strategy: replaced


def test_a_service_with_two_identical_port_keys_is_invalid(bare: httpx.Client) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "dns"},
        "spec": {
            "ports": [
                {"name": "a", "port": 53, "protocol": "TCP"},
                {"name": "b", "port": 53},
            ]
        },
    }
    resp = bare.post(SVCS, json=svc)
    assert resp.status_code == 422, resp.text
    cause = resp.json()["details"]["causes"][0]
    assert cause["reason"] == "FieldValueDuplicate" and cause["field"] == "spec.ports[1]"
    assert bare.get(f"{SVCS}/dns").status_code == 404
    svc["spec"]["ports"][1]["protocol"] = "UDP"
    assert bare.post(SVCS, json=svc).status_code == 201
