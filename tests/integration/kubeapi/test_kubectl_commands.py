"""The everyday kubectl commands, run as the real binary against the emulator."""

from __future__ import annotations

import json
import subprocess

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import KUBECTL, deployment, eventually, kubectl, kubectl_json

CM_YAML = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app: web}}
data: {mode: fast}
"""


def test_create_namespace_and_get_json(kubeapi: KubeAPI) -> None:
    assert "namespace/team-a created" in kubectl(kubeapi.kubeconfig, "create", "namespace", "team-a").stdout
    ns = kubectl_json(kubeapi.kubeconfig, "get", "namespace", "team-a")
    assert ns["status"]["phase"] == "Active"
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "team-a"
    dup = kubectl(kubeapi.kubeconfig, "create", "namespace", "team-a", check=False)
    assert dup.returncode != 0 and "AlreadyExists" in dup.stderr


def test_create_secret_and_service_account_over_protobuf(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "create", "secret", "generic", "creds", "--from-literal=user=admin")
    secret = kubectl_json(kubeapi.kubeconfig, "get", "secret", "creds")
    assert secret["data"] == {"user": "YWRtaW4="} and secret["type"] == "Opaque"
    kubectl(kubeapi.kubeconfig, "create", "serviceaccount", "robot")
    assert kubectl_json(kubeapi.kubeconfig, "get", "sa", "robot")["metadata"]["name"] == "robot"


def test_api_resources_lists_core_and_extension_kinds(kubeapi: KubeAPI) -> None:
    out = kubectl(kubeapi.kubeconfig, "api-resources", "-o", "name").stdout.split()
    for name in (
        "pods",
        "services",
        "deployments.apps",
        "leases.coordination.k8s.io",
        "endpointslices.discovery.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
        "nodes.metrics.k8s.io",
    ):
        assert name in out


def test_get_by_label_and_label_command(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=CM_YAML)
    kubectl(kubeapi.kubeconfig, "create", "configmap", "other", "--from-literal=a=b")
    names = kubectl(kubeapi.kubeconfig, "get", "cm", "-l", "app=web", "-o", "name").stdout.split()
    assert names == ["configmap/settings"]
    kubectl(kubeapi.kubeconfig, "label", "configmap", "other", "app=web", "tier=db")
    names = kubectl(kubeapi.kubeconfig, "get", "cm", "-l", "app=web", "-o", "name").stdout.split()
    assert sorted(names) == ["configmap/other", "configmap/settings"]
    names = kubectl(kubeapi.kubeconfig, "get", "cm", "-l", "tier notin (db)", "-o", "name").stdout.split()
    assert "configmap/other" not in names
    kubectl(kubeapi.kubeconfig, "label", "configmap", "other", "tier-")
    labels = kubectl_json(kubeapi.kubeconfig, "get", "cm", "other")["metadata"]["labels"]
    assert labels == {"app": "web"}


def test_patch_merge_json_strategic(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=1))
    kubectl(
        kubeapi.kubeconfig,
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        '{"metadata": {"annotations": {"note": "merged"}}}',
    )
    kubectl(
        kubeapi.kubeconfig,
        "patch",
        "deployment",
        "web",
        "--type",
        "json",
        "-p",
        '[{"op": "replace", "path": "/spec/replicas", "value": 2}]',
    )
    kubectl(
        kubeapi.kubeconfig,
        "patch",
        "deployment",
        "web",
        "--type",
        "strategic",
        "-p",
        json.dumps(
            {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox:1.36"}]}}}}
        ),
    )
    d = kubectl_json(kubeapi.kubeconfig, "get", "deployment", "web")
    assert d["metadata"]["annotations"]["note"] == "merged"
    assert d["spec"]["replicas"] == 2
    assert [c["name"] for c in d["spec"]["template"]["spec"]["containers"]] == ["web", "sidecar"]


def test_scale_and_delete(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=1))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    assert "scaled" in kubectl(kubeapi.kubeconfig, "scale", "deployment/web", "--replicas=3").stdout
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    assert kubectl_json(kubeapi.kubeconfig, "get", "deployment", "web")["status"]["readyReplicas"] == 3
    pods = kubectl_json(kubeapi.kubeconfig, "get", "pods", "-l", "app=web")["items"]
    assert len(pods) == 3
    out = kubectl(kubeapi.kubeconfig, "delete", "deployment", "web", "--timeout=60s")
    assert 'deployment.apps "web" deleted' in out.stdout
    # the garbage collector removes the ReplicaSet and its Pods
    eventually(lambda: kubectl_json(kubeapi.kubeconfig, "get", "pods", "-l", "app=web")["items"] == [])
    assert kubectl_json(kubeapi.kubeconfig, "get", "rs", "-l", "app=web")["items"] == []


def test_get_watch_streams_changes(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "create", "configmap", "watched", "--from-literal=v=0")
    proc = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            kubeapi.kubeconfig,
            "get",
            "cm",
            "watched",
            "-w",
            "-o",
            'jsonpath={.data.v}{"\\n"}',
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "0"
        for v in ("1", "2"):
            kubectl(
                kubeapi.kubeconfig,
                "patch",
                "cm",
                "watched",
                "--type",
                "merge",
                "-p",
                json.dumps({"data": {"v": v}}),
            )
            assert proc.stdout.readline().strip() == v
    finally:
        proc.kill()
        proc.wait(10)


def test_get_watch_table_output(kubeapi: KubeAPI) -> None:
    proc = subprocess.Popen(
        [KUBECTL, "--kubeconfig", kubeapi.kubeconfig, "get", "cm", "-w"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        kubectl(kubeapi.kubeconfig, "create", "configmap", "tbl", "--from-literal=a=b")
        lines = []
        while not any(line.startswith("tbl") for line in lines):
            lines.append(proc.stdout.readline())
        assert lines[0].split()[0] == "NAME"
    finally:
        proc.kill()
        proc.wait(10)


def test_delete_namespace_waits_until_gone(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "create", "namespace", "tmp")
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(namespace="tmp"))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "-n", "tmp", "deployment/web", "--timeout=60s")
    kubectl(kubeapi.kubeconfig, "delete", "namespace", "tmp", "--timeout=60s")
    missing = kubectl(kubeapi.kubeconfig, "get", "namespace", "tmp", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr
    pods = kubectl_json(kubeapi.kubeconfig, "get", "pods", "-A")["items"]
    assert [p for p in pods if p["metadata"]["namespace"] == "tmp"] == []


def test_top_reads_metrics_api(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=2))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    nodes = kubectl(kubeapi.kubeconfig, "top", "nodes", "--no-headers").stdout.splitlines()
    assert len(nodes) == 3 and all(line.split()[1].endswith("m") for line in nodes)
    pods = kubectl(kubeapi.kubeconfig, "top", "pods", "--no-headers").stdout.splitlines()
    assert len(pods) == 2


def test_apply_rejects_unknown_fields_like_a_strict_server(kubeapi: KubeAPI) -> None:
    bad = deployment().replace("      containers:", "      contianers: []\n      containers:")
    out = kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=bad, check=False)
    assert out.returncode != 0
    assert 'unknown field "spec.template.spec.contianers"' in out.stderr
    lenient = kubectl(kubeapi.kubeconfig, "apply", "--server-side", "--validate=false", "-f", "-", input=bad)
    assert "serverside-applied" in lenient.stdout


def test_drain_evicts_within_the_disruption_budget(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=3))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    pdb = (
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
        "spec: {minAvailable: 3, selector: {matchLabels: {app: web}}}\n"
    )
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=pdb)
    node = kubectl_json(kubeapi.kubeconfig, "get", "pods", "-l", "app=web")["items"][0]["spec"]["nodeName"]
    # kube-proxy runs on every Node as a DaemonSet, so drain needs --ignore-daemonsets, as on a cluster
    blocked = kubectl(kubeapi.kubeconfig, "drain", node, "--ignore-daemonsets", "--timeout=1s", check=False)
    assert blocked.returncode != 0 and "disruption budget" in blocked.stderr
    nodes = kubectl(kubeapi.kubeconfig, "get", "nodes").stdout
    assert f"{node}   Ready,SchedulingDisabled" in nodes
    kubectl(
        kubeapi.kubeconfig, "patch", "pdb", "web", "--type", "merge", "-p", '{"spec": {"minAvailable": 1}}'
    )
    kubectl(kubeapi.kubeconfig, "drain", node, "--ignore-daemonsets", "--timeout=60s")
    pods = kubectl_json(kubeapi.kubeconfig, "get", "pods", "-l", "app=web")["items"]
    assert pods and all(p["spec"].get("nodeName") != node for p in pods)


def test_imperative_create_deployment_and_expose(kubeapi: KubeAPI) -> None:
    kubectl(
        kubeapi.kubeconfig,
        "create",
        "deployment",
        "shop",
        "--image=nginx:1.27",
        "--port=8080",
        "--replicas=2",
    )
    kubectl(
        kubeapi.kubeconfig,
        "expose",
        "deployment",
        "shop",
        "--port=80",
        "--target-port=8080",
        "--type=LoadBalancer",
    )
    kubectl(kubeapi.kubeconfig, "create", "service", "clusterip", "shop-internal", "--tcp=81:8080")
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/shop", "--timeout=60s")
    d = kubectl_json(kubeapi.kubeconfig, "get", "deployment", "shop")
    container = d["spec"]["template"]["spec"]["containers"][0]
    assert (d["spec"]["replicas"], container["image"], container["ports"][0]["containerPort"]) == (
        2,
        "nginx:1.27",
        8080,
    )
    svc = kubectl_json(kubeapi.kubeconfig, "get", "svc", "shop")
    assert svc["spec"]["ports"][0]["targetPort"] == 8080 and svc["spec"]["selector"] == {"app": "shop"}
    internal = kubectl_json(kubeapi.kubeconfig, "get", "svc", "shop-internal")
    assert internal["spec"]["ports"][0]["port"] == 81
    host = eventually(
        lambda: (
            kubectl_json(kubeapi.kubeconfig, "get", "svc", "shop")["status"]
            .get("loadBalancer", {})
            .get("ingress")
        )
    )
    assert host[0]["hostname"].endswith(".elb.amazonaws.com")
