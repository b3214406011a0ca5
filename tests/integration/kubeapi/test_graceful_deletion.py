"""Graceful deletion of Pods: deletionTimestamp, Terminating, MODIFIED before DELETED."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import deployment_object, eventually, kubectl

PODS = "/api/v1/namespaces/default/pods"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


def _pod(name: str, grace: int, finalizers: list[str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "finalizers": finalizers or []},
        "spec": {"terminationGracePeriodSeconds": grace, "containers": [{"name": "c", "image": "nginx"}]},
    }


def _replay(http: httpx.Client, rv: str, **params: str) -> list[tuple[str, dict[str, Any]]]:
    query = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1", **params}
    with http.stream("GET", PODS, params=query) as resp:
        events = [json.loads(line) for line in resp.iter_lines() if line]
    return [(e["type"], e["object"]) for e in events]


def _running(http: httpx.Client, name: str) -> bool:
    return bool(http.get(f"{PODS}/{name}").json().get("status", {}).get("phase") == "Running")


def test_delete_marks_the_pod_terminating_then_the_kubelet_removes_it(http: httpx.Client) -> None:
    assert http.post(PODS, json=_pod("p", 45)).status_code == 201
    eventually(lambda: _running(http, "p"))
    rv = http.get(PODS).json()["metadata"]["resourceVersion"]
    resp = http.delete(f"{PODS}/p")
    assert resp.status_code == 200
    meta = resp.json()["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 45 and meta["deletionTimestamp"]
    eventually(lambda: http.get(f"{PODS}/p").status_code == 404)
    events = _replay(http, rv, fieldSelector="metadata.name=p")
    types = [t for t, _ in events]
    assert types[0] == "MODIFIED" and types[-1] == "DELETED", types
    assert events[0][1]["metadata"]["deletionTimestamp"]
    # the kubelet took the containers out of service before the Pod went away
    assert any(
        t == "MODIFIED" and {"type": "Ready", "status": "False"}.items() <= _cond(o, "Ready").items()
        for t, o in events[1:]
    )


def _cond(pod: dict[str, Any], typ: str) -> dict[str, Any]:
    for c in pod.get("status", {}).get("conditions") or []:
        if c.get("type") == typ:
            return dict(c)
    return {}


def test_grace_period_zero_and_unscheduled_pods_go_at_once(bare: httpx.Client) -> None:
    assert bare.post(PODS, json=_pod("pending", 30)).status_code == 201
    assert bare.delete(f"{PODS}/pending").status_code == 200
    assert bare.get(f"{PODS}/pending").status_code == 404
    bound = _pod("bound", 30)
    bound["spec"]["nodeName"] = "node-1"
    assert bare.post(PODS, json=bound).status_code == 201
    first = bare.delete(f"{PODS}/bound").json()["metadata"]
    assert first["deletionGracePeriodSeconds"] == 30
    # a shorter grace period shortens the deletion; a longer one does not lengthen it
    again = bare.delete(f"{PODS}/bound", params={"gracePeriodSeconds": "60"}).json()["metadata"]
    assert again["deletionGracePeriodSeconds"] == 30
    assert bare.delete(f"{PODS}/bound", params={"gracePeriodSeconds": "0"}).status_code == 200
    assert bare.get(f"{PODS}/bound").status_code == 404


def test_kubectl_shows_terminating_and_waits_for_the_pod(kubeapi: KubeAPI, http: httpx.Client) -> None:
    assert http.post(PODS, json=_pod("held", 30, ["example.com/hold"])).status_code == 201
    assert http.post(PODS, json=_pod("plain", 30)).status_code == 201
    eventually(lambda: _running(http, "held") and _running(http, "plain"))
    kubectl(kubeapi.kubeconfig, "delete", "pod", "held", "--wait=false")
    eventually(lambda: "Terminating" in kubectl(kubeapi.kubeconfig, "get", "pod", "held").stdout)
    out = kubectl(kubeapi.kubeconfig, "delete", "pod", "plain").stdout
    assert 'pod "plain" deleted' in out
    assert http.get(f"{PODS}/plain").status_code == 404  # kubectl waited until it was gone
    patch = {"metadata": {"finalizers": None}}
    headers = {"Content-Type": "application/merge-patch+json"}
    assert http.patch(f"{PODS}/held", json=patch, headers=headers).status_code == 200
    eventually(lambda: http.get(f"{PODS}/held").status_code == 404)


def test_scale_down_terminates_pods_gracefully(kubeapi: KubeAPI, http: httpx.Client) -> None:
    assert http.post(DEPLOYS, json=deployment_object("web", replicas=2)).status_code == 201
    eventually(lambda: http.get(f"{DEPLOYS}/web").json().get("status", {}).get("readyReplicas") == 2)
    rv = http.get(PODS).json()["metadata"]["resourceVersion"]
    patch = {"spec": {"replicas": 1}}
    headers = {"Content-Type": "application/merge-patch+json"}
    assert http.patch(f"{DEPLOYS}/web", json=patch, headers=headers).status_code == 200
    eventually(lambda: len(http.get(PODS, params={"labelSelector": "app=web"}).json()["items"]) == 1)
    events = _replay(http, rv, labelSelector="app=web")
    gone = next(o["metadata"]["name"] for t, o in events if t == "DELETED")
    mine = [(t, o) for t, o in events if o["metadata"]["name"] == gone]
    assert mine[0][0] == "MODIFIED" and mine[0][1]["metadata"]["deletionGracePeriodSeconds"] == 30
    assert http.get(f"{DEPLOYS}/web").json()["status"]["replicas"] == 1
