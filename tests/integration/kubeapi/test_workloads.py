"""StatefulSets and DaemonSets: defaults, controllers, ControllerRevisions, kubectl rollout."""

from __future__ import annotations

import httpx

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import eventually, kubectl

WORKLOADS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: "postgres:16"}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: "fluent:1"}]}
"""
APPS = "/apis/apps/v1/namespaces/default"


def test_statefulset_and_daemonset_roll_out_and_back(kubeapi: KubeAPI, http: httpx.Client) -> None:
    kc = kubeapi.kubeconfig
    kubectl(kc, "apply", "-f", "-", input=WORKLOADS)
    ds = http.get(f"{APPS}/daemonsets/agent").json()
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    sts = http.get(f"{APPS}/statefulsets/db").json()
    assert sts["spec"]["updateStrategy"]["rollingUpdate"] == {"partition": 0}
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    out = kubectl(kc, "rollout", "status", "statefulset/db", "--timeout=60s").stdout
    assert "roll out complete: 3 new pods" in out
    assert "successfully rolled out" in kubectl(kc, "rollout", "status", "ds/agent", "--timeout=60s").stdout
    pods = http.get("/api/v1/namespaces/default/pods", params={"labelSelector": "app=db"}).json()["items"]
    assert sorted(p["metadata"]["name"] for p in pods) == ["db-0", "db-1", "db-2"]
    assert pods[0]["spec"]["subdomain"] == "db"
    assert {v["persistentVolumeClaim"]["claimName"] for p in pods for v in p["spec"]["volumes"]} == {
        "data-db-0",
        "data-db-1",
        "data-db-2",
    }
    status = http.get(f"{APPS}/daemonsets/agent").json()["status"]
    nodes = len(http.get("/api/v1/nodes").json()["items"])
    assert status["desiredNumberScheduled"] == status["numberReady"] == nodes
    assert status["currentNumberScheduled"] == nodes and status["numberMisscheduled"] == 0
    kubectl(kc, "set", "image", "statefulset/db", "c=postgres:17")
    kubectl(kc, "set", "image", "ds/agent", "c=fluent:2")
    kubectl(kc, "rollout", "status", "statefulset/db", "--timeout=60s")
    kubectl(kc, "rollout", "status", "ds/agent", "--timeout=60s")
    sts = http.get(f"{APPS}/statefulsets/db").json()["status"]
    assert sts["currentRevision"] == sts["updateRevision"] and sts["updatedReplicas"] == 3
    images = {
        p["spec"]["containers"][0]["image"]
        for p in http.get("/api/v1/namespaces/default/pods", params={"labelSelector": "app=db"}).json()[
            "items"
        ]
    }
    assert images == {"postgres:17"}
    history = kubectl(kc, "rollout", "history", "ds/agent").stdout
    assert "1 " in history and "2 " in history
    kubectl(kc, "rollout", "undo", "ds/agent")
    kubectl(kc, "rollout", "status", "ds/agent", "--timeout=60s")
    ds_pods = http.get("/api/v1/namespaces/default/pods", params={"labelSelector": "app=agent"}).json()[
        "items"
    ]
    assert {p["spec"]["containers"][0]["image"] for p in ds_pods} == {"fluent:1"}
    table = kubectl(kc, "get", "ds", "agent").stdout.split()
    assert table[:8] == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR"]


def test_statefulset_scales_down_from_the_highest_ordinal(kubeapi: KubeAPI, http: httpx.Client) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "-f", "-", input=WORKLOADS.split("---")[0])
    kubectl(kubeapi.kubeconfig, "rollout", "status", "statefulset/db", "--timeout=60s")
    kubectl(kubeapi.kubeconfig, "scale", "statefulset/db", "--replicas=1")

    def names() -> list[str]:
        items = http.get("/api/v1/namespaces/default/pods", params={"labelSelector": "app=db"}).json()[
            "items"
        ]
        return sorted(p["metadata"]["name"] for p in items)

    eventually(lambda: names() == ["db-0"])
    assert http.get(f"{APPS}/statefulsets/db").json()["status"]["replicas"] == 1


def test_replication_controller_runs_its_pods(kubeapi: KubeAPI, http: httpx.Client) -> None:
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "legacy"},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "legacy"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    created = http.post("/api/v1/namespaces/default/replicationcontrollers", json=rc).json()
    assert created["spec"]["selector"] == {"app": "legacy"}  # defaulted from the template's labels
    eventually(
        lambda: (
            http.get("/api/v1/namespaces/default/replicationcontrollers/legacy")
            .json()["status"]
            .get("readyReplicas")
            == 2
        )
    )
    kubectl(kubeapi.kubeconfig, "scale", "rc/legacy", "--replicas=1")
    eventually(
        lambda: (
            len(
                http.get("/api/v1/namespaces/default/pods", params={"labelSelector": "app=legacy"}).json()[
                    "items"
                ]
            )
            == 1
        )
    )


def test_a_fresh_cluster_has_its_system_objects(kubeapi: KubeAPI, http: httpx.Client) -> None:
    svc = http.get("/api/v1/namespaces/default/services/kubernetes").json()
    assert svc["spec"]["clusterIP"] == "10.96.0.1" and svc["spec"]["ports"][0]["port"] == 443
    assert (
        http.get("/api/v1/namespaces/kube-system/services/kube-dns").json()["spec"]["clusterIP"]
        == "10.96.0.10"
    )

    def system_pods() -> set[str]:
        items = http.get("/api/v1/namespaces/kube-system/pods").json()["items"]
        return {
            p["metadata"]["name"].rsplit("-", 2 if "-proxy-" not in p["metadata"]["name"] else 1)[0]
            for p in items
        }

    eventually(lambda: system_pods() == {"coredns", "kube-proxy", "metrics-server"})
    pod = http.get("/api/v1/namespaces/kube-system/pods").json()["items"][0]
    tolerations = {t["key"]: t.get("tolerationSeconds") for t in pod["spec"]["tolerations"]}
    assert tolerations.get("node.kubernetes.io/not-ready", 0) in (300, None)
    groups = {g["name"] for g in http.get("/apis").json()["groups"]}
    assert {
        "storage.k8s.io",
        "certificates.k8s.io",
        "authorization.k8s.io",
        "authentication.k8s.io",
    } <= groups
