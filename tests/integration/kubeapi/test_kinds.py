"""Kinds beyond the workload basics: Leases, Events, CRDs and custom resources, Gateway API."""

from __future__ import annotations

from typing import Any

import httpx

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import eventually, ingress_object, kubectl, kubectl_json

LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "color": {"type": "string"},
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}

GATEWAY_YAML = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: kumo}
spec: {controllerName: example.com/gateway}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  gatewayClassName: kumo
  listeners: [{name: http, protocol: HTTP, port: 80, hostname: "*.example.com"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: edge}]
  hostnames: [www.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"""


def test_lease_lifecycle_with_optimistic_concurrency(bare: httpx.Client) -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leader"},
        "spec": {
            "holderIdentity": "a",
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-01-01T00:00:00.000000Z",
            "renewTime": "2026-01-01T00:00:00.000000Z",
        },
    }
    created = bare.post(LEASES, json=lease).json()
    assert created["spec"]["holderIdentity"] == "a"
    mine = dict(created)
    mine["spec"] = {**created["spec"], "holderIdentity": "b"}
    assert bare.put(f"{LEASES}/leader", json=mine).status_code == 200
    stale = dict(created)
    stale["spec"] = {**created["spec"], "holderIdentity": "c"}
    assert bare.put(f"{LEASES}/leader", json=stale).status_code == 409
    assert bare.get(f"{LEASES}/leader").json()["spec"]["holderIdentity"] == "b"


def test_core_and_events_k8s_io_events(bare: httpx.Client) -> None:
    core = {
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Testing",
        "message": "hello",
        "type": "Normal",
    }
    assert bare.post("/api/v1/namespaces/default/events", json=core).status_code == 201
    new = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e2"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "kumo.dev/test",
        "reportingInstance": "t-1",
        "action": "Testing",
        "reason": "Testing",
        "type": "Normal",
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
        "note": "hello",
    }
    resp = bare.post("/apis/events.k8s.io/v1/namespaces/default/events", json=new)
    assert resp.status_code == 201
    listed = bare.get("/apis/events.k8s.io/v1/namespaces/default/events").json()
    # one store seen through both APIs (see test_events.py)
    assert listed["kind"] == "EventList"
    assert [(e["metadata"]["name"], e["note"]) for e in listed["items"]] == [("e1", "hello"), ("e2", "hello")]
    by_reason = bare.get("/api/v1/events", params={"fieldSelector": "reason=Testing"}).json()["items"]
    assert [(e["metadata"]["name"], e["message"]) for e in by_reason] == [("e1", "hello"), ("e2", "hello")]


def test_custom_resource_definitions_serve_new_kinds(kubeapi: KubeAPI, http: httpx.Client) -> None:
    assert http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=CRD).status_code == 201
    crd = http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").json()
    conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conds["Established"] == "True"
    assert "example.com" in {g["name"] for g in http.get("/apis").json()["groups"]}
    path = "/apis/example.com/v1/namespaces/default/widgets"
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3, "color": "blue"},
    }
    assert http.post(path, json=widget).status_code == 201
    bad = http.post(path, json={**widget, "metadata": {"name": "bad"}, "spec": {"size": "big"}})
    assert bad.status_code == 422 and bad.json()["details"]["causes"][0]["field"] == "spec.size"
    missing = http.post(path, json={**widget, "metadata": {"name": "bad2"}, "spec": {"color": "red"}})
    assert missing.status_code == 422
    status = http.put(f"{path}/w/status", json={**http.get(f"{path}/w").json(), "status": {"phase": "Ready"}})
    assert status.json()["status"] == {"phase": "Ready"}
    # kubectl finds the new kind by plural and short name
    assert kubectl(kubeapi.kubeconfig, "get", "wd", "-o", "name").stdout.split() == ["widget.example.com/w"]
    assert kubectl_json(kubeapi.kubeconfig, "get", "widgets", "w")["spec"]["size"] == 3
    http.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    assert http.get(path).status_code == 404


def test_gateway_api_kinds_apply_with_kubectl(kubeapi: KubeAPI) -> None:
    out = kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=GATEWAY_YAML).stdout
    assert "gatewayclass.gateway.networking.k8s.io/kumo serverside-applied" in out
    assert "httproute.gateway.networking.k8s.io/web serverside-applied" in out
    route = kubectl_json(kubeapi.kubeconfig, "get", "httproute", "web")
    assert route["spec"]["hostnames"] == ["www.example.com"]
    assert kubectl_json(kubeapi.kubeconfig, "get", "gatewayclass", "kumo")["metadata"]["uid"]


def test_ingress_and_rbac_kinds(bare: httpx.Client) -> None:
    ing = ingress_object("web", "www.example.com")
    assert bare.post("/apis/networking.k8s.io/v1/namespaces/default/ingresses", json=ing).status_code == 201
    bad = {
        **ing,
        "metadata": {"name": "bad"},
        "spec": {
            "rules": [
                {
                    "host": "x",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": "x"}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    resp = bare.post("/apis/networking.k8s.io/v1/namespaces/default/ingresses", json=bad)
    assert resp.status_code == 422
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}],
    }
    assert bare.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", json=role).status_code == 201
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    assert bare.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets", json=pdb).status_code == 201


def test_subprocess_mode(tmp_path: Any) -> None:
    from kumo.sandbox.kubeapi import KubeAPIProcess

    with KubeAPIProcess(kubeconfig=tmp_path / "kc", seed=3) as api:
        assert api.url.startswith("http://127.0.0.1:")
        nodes = eventually(lambda: kubectl_json(api.kubeconfig, "get", "nodes")["items"])
        assert len(nodes) == 3
