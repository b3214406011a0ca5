"""Simulated cluster behaviour, observed through the API the way a client sees it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kumo.sandbox.kubeapi import KubeAPI, fast_copy
from kumo.sandbox.kubeapi.validation import SchemaValidator
from kumo.sandbox.simulate import simulation
from tests.integration.kubeapi.helpers import (
    deployment,
    eventually,
    ingress_object,
    kubectl,
    kubectl_json,
    service,
)
from tests.integration.kubeapi.helpers import deployment_object as _deploy

DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"
PODS = "/api/v1/namespaces/default/pods"


def _pods(http: httpx.Client, app: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = http.get(PODS, params={"labelSelector": f"app={app}"}).json()["items"]
    return items


def _replay(http: httpx.Client, path: str, rv: str) -> list[dict[str, Any]]:
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"}
    with http.stream("GET", path, params=params) as resp:
        return [json.loads(line) for line in resp.iter_lines() if line]


def _roll_out(kubeapi: KubeAPI, name: str, manifest: str) -> None:
    """Server-side apply ``manifest`` with kubectl and wait for Deployment ``name``'s rollout."""
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=manifest)
    kubectl(kubeapi.kubeconfig, "rollout", "status", f"deployment/{name}", "--timeout=60s")


def _waiting_reason(pod: dict[str, Any]) -> str | None:
    for cs in pod["status"].get("containerStatuses") or []:
        waiting = cs.get("state", {}).get("waiting")
        if waiting:
            return str(waiting.get("reason"))
    return None


def _events(http: httpx.Client, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = http.get(
        "/api/v1/namespaces/default/events", params={"fieldSelector": f"involvedObject.name={name}"}
    ).json()["items"]
    return items


def test_image_pull_failure_goes_to_image_pull_backoff(kubeapi: KubeAPI, http: httpx.Client) -> None:
    http.post(DEPLOYS, json=_deploy("pull", "registry.example/app:bad"))
    pod = eventually(
        lambda: next((p for p in _pods(http, "pull") if _waiting_reason(p) == "ImagePullBackOff"), None)
    )
    assert pod["status"]["phase"] == "Pending"
    reasons = {e["reason"] for e in _events(http, pod["metadata"]["name"])}
    assert {"Scheduled", "Pulling", "Failed", "BackOff"} <= reasons
    out = kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/pull", "--timeout=1s", check=False)
    assert out.returncode != 0


def test_crashing_container_restarts_in_crash_loop_backoff(http: httpx.Client) -> None:
    http.post(DEPLOYS, json=_deploy("crash", "busybox:crash"))

    def restarted() -> dict[str, Any] | None:
        for p in _pods(http, "crash"):
            cs = (p["status"].get("containerStatuses") or [{}])[0]
            if cs.get("restartCount", 0) >= 2 and _waiting_reason(p) == "CrashLoopBackOff":
                return p
        return None

    pod = eventually(restarted)
    cs = pod["status"]["containerStatuses"][0]
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert not cs["ready"]
    backoffs = [e for e in _events(http, pod["metadata"]["name"]) if e["reason"] == "BackOff"]
    assert len(backoffs) == 1 and backoffs[0]["type"] == "Warning"
    event_path = f"/api/v1/namespaces/default/events/{backoffs[0]['metadata']['name']}"
    # repeats are counted on one Event, as the kubelet's event recorder does
    eventually(lambda: http.get(event_path).json()["count"] >= 2)


def test_pod_that_fits_no_node_stays_pending_unschedulable(http: httpx.Client) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "huge"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "64"}}}]},
    }
    http.post(PODS, json=pod)

    def unschedulable() -> dict[str, Any] | None:
        conds = http.get(f"{PODS}/huge").json()["status"].get("conditions") or []
        return next((c for c in conds if c["type"] == "PodScheduled" and c["status"] == "False"), None)

    cond = eventually(unschedulable)
    assert cond["reason"] == "Unschedulable"
    assert "Insufficient cpu" in cond["message"]
    assert not http.get(f"{PODS}/huge").json()["spec"].get("nodeName")
    assert any(e["reason"] == "FailedScheduling" for e in _events(http, "huge"))


def test_progress_deadline_exceeded(kubeapi: KubeAPI, http: httpx.Client) -> None:
    http.post(DEPLOYS, json=_deploy("stuck", "nginx:doesnotexist", progressDeadlineSeconds=1))

    def exceeded() -> dict[str, Any] | None:
        conds = http.get(f"{DEPLOYS}/stuck").json().get("status", {}).get("conditions") or []
        return next((c for c in conds if c["type"] == "Progressing" and c["status"] == "False"), None)

    assert eventually(exceeded)["reason"] == "ProgressDeadlineExceeded"
    out = kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/stuck", "--timeout=30s", check=False)
    assert out.returncode != 0 and "exceeded its progress deadline" in out.stderr


def test_rolling_update_honours_max_surge_and_max_unavailable(kubeapi: KubeAPI, http: httpx.Client) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    http.post(DEPLOYS, json=_deploy("roll", "nginx:1.26", replicas=4, strategy=strategy))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/roll", "--timeout=60s")
    rv = http.get("/apis/apps/v1/namespaces/default/replicasets").json()["metadata"]["resourceVersion"]
    specs: dict[str, int] = {
        rs["metadata"]["name"]: rs["spec"]["replicas"]
        for rs in http.get("/apis/apps/v1/namespaces/default/replicasets").json()["items"]
    }
    http.patch(
        f"{DEPLOYS}/roll",
        json={"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/roll", "--timeout=60s")
    # replay every change since the update from the watch history
    totals: list[int] = []
    for ev in _replay(http, "/apis/apps/v1/namespaces/default/replicasets", rv):
        rs = ev["object"]
        specs[rs["metadata"]["name"]] = 0 if ev["type"] == "DELETED" else rs["spec"]["replicas"]
        totals.append(sum(specs.values()))
    available = [
        ev["object"].get("status", {}).get("availableReplicas", 0)
        for ev in _replay(http, DEPLOYS, rv)
        if ev["object"]["metadata"]["name"] == "roll"
    ]
    assert totals and max(totals) == 5  # replicas + maxSurge, never more
    assert min(available) >= 4  # maxUnavailable 0: availability never dips
    rss = http.get("/apis/apps/v1/namespaces/default/replicasets").json()["items"]
    by_image = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["spec"]["replicas"] for rs in rss
    }
    assert by_image == {"nginx:1.26": 0, "nginx:1.27": 4}
    d = http.get(f"{DEPLOYS}/roll").json()
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = _pods(http, "roll")
    assert len(pods) == 4 and all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in pods)


def test_endpoint_slices_follow_ready_pods(kubeapi: KubeAPI, http: httpx.Client) -> None:
    _roll_out(kubeapi, "web", deployment(replicas=2) + "---\n" + service(type="ClusterIP"))

    def ready_addresses() -> list[str]:
        slices = http.get(
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            params={"labelSelector": "kubernetes.io/service-name=web"},
        ).json()["items"]
        return sorted(
            a for s in slices for e in s["endpoints"] if e["conditions"]["ready"] for a in e["addresses"]
        )

    assert len(eventually(lambda: len(ready_addresses()) == 2 and ready_addresses())) == 2
    pod_ips = sorted(p["status"]["podIP"] for p in _pods(http, "web"))
    assert ready_addresses() == pod_ips
    kubectl(kubeapi.kubeconfig, "scale", "deployment/web", "--replicas=3")
    eventually(lambda: len(ready_addresses()) == 3)
    ep = http.get("/api/v1/namespaces/default/endpoints/web").json()
    assert len(ep["subsets"][0]["addresses"]) == 3
    assert ep["subsets"][0]["ports"][0]["port"] == 80


def test_nodes_have_capacity_and_metrics_report_usage(kubeapi: KubeAPI, http: httpx.Client) -> None:
    nodes = http.get("/api/v1/nodes").json()["items"]
    assert len(nodes) == 3
    for n in nodes:
        assert n["status"]["capacity"]["cpu"] == "4" and n["status"]["allocatable"]["pods"] == "110"
        assert {c["type"]: c["status"] for c in n["status"]["conditions"]}["Ready"] == "True"
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=2))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    node_metrics = http.get("/apis/metrics.k8s.io/v1beta1/nodes").json()
    assert node_metrics["kind"] == "NodeMetricsList" and len(node_metrics["items"]) == 3
    assert all(
        m["usage"]["cpu"].endswith("n") and m["usage"]["memory"].endswith("Ki") for m in node_metrics["items"]
    )
    pod_metrics = http.get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods").json()["items"]
    assert len(pod_metrics) == 2 and pod_metrics[0]["containers"][0]["name"] == "web"
    one = http.get(
        f"/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/{pod_metrics[0]['metadata']['name']}"
    )
    assert one.status_code == 200 and one.json()["kind"] == "PodMetrics"
    assert http.post("/apis/metrics.k8s.io/v1beta1/nodes", json={}).status_code == 405


def test_scaling_events_and_pod_events(kubeapi: KubeAPI, http: httpx.Client) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=1))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    table = kubectl(kubeapi.kubeconfig, "get", "events").stdout.splitlines()
    assert table[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert any("ScalingReplicaSet" in line and "deployment/web" in line for line in table)
    events = kubectl_json(kubeapi.kubeconfig, "get", "events")["items"]
    reasons = {(e["involvedObject"]["kind"], e["reason"]) for e in events}
    assert {
        ("Deployment", "ScalingReplicaSet"),
        ("ReplicaSet", "SuccessfulCreate"),
        ("Pod", "Scheduled"),
        ("Pod", "Pulling"),
        ("Pod", "Pulled"),
        ("Pod", "Started"),
    } <= reasons


def test_generic_mode_gives_load_balancers_an_ip() -> None:
    with (
        KubeAPI(controllers=simulation(lb_mode="generic", lb_delay=0.01)) as api,
        httpx.Client(base_url=api.url) as http,
    ):
        http.post(
            "/api/v1/namespaces/default/services",
            json={"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}},
        )

        def ingress() -> list[dict[str, Any]]:
            got: list[dict[str, Any]] = (
                http.get("/api/v1/namespaces/default/services/lb")
                .json()["status"]
                .get("loadBalancer", {})
                .get("ingress")
                or []
            )
            return got

        ip = eventually(ingress)[0]["ip"]
        assert ip.startswith("172.18.")


def test_same_seed_same_names() -> None:
    names = []
    for _ in range(2):
        with (
            KubeAPI(seed=42, controllers=simulation(pod_ready_delay=0.05)) as api,
            httpx.Client(base_url=api.url) as http,
        ):
            http.post(DEPLOYS, json=_deploy("det", "nginx", replicas=3))
            eventually(lambda http=http: len(_pods(http, "det")) == 3)  # type: ignore[misc]
            names.append(sorted(p["metadata"]["name"] for p in _pods(http, "det")))
    assert names[0] == names[1]


def test_ingress_gets_an_alb_hostname(http: httpx.Client) -> None:
    ing = ingress_object("web", "www.example.com")
    http.post("/apis/networking.k8s.io/v1/namespaces/default/ingresses", json=ing)

    def hostname() -> str | None:
        obj = http.get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web").json()
        ingress = (obj.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
        return ingress[0].get("hostname") if ingress else None

    host = eventually(hostname)
    assert host.startswith("k8s-default-web-") and host.endswith(".us-east-1.elb.amazonaws.com")


def test_gateways_programmed_when_enabled() -> None:
    gw = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "edge"},
        "spec": {"gatewayClassName": "x", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]},
    }
    with (
        KubeAPI(controllers=simulation(gateways=True, lb_delay=0.01)) as api,
        httpx.Client(base_url=api.url) as http,
    ):
        http.post("/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways", json=gw)

        def programmed() -> dict[str, Any] | None:
            st: dict[str, Any] = (
                http.get("/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways/edge")
                .json()
                .get("status")
                or {}
            )
            return st if st.get("addresses") else None

        st = eventually(programmed)
        assert {c["type"]: c["status"] for c in st["conditions"]} == {
            "Accepted": "True",
            "Programmed": "True",
        }
        assert st["addresses"][0]["type"] == "Hostname"


def test_kubectl_logs_reports_container_state(kubeapi: KubeAPI, http: httpx.Client) -> None:
    kubectl(kubeapi.kubeconfig, "apply", "--server-side", "-f", "-", input=deployment(replicas=1))
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s")
    name = _pods(http, "web")[0]["metadata"]["name"]
    out = kubectl(kubeapi.kubeconfig, "logs", name).stdout
    assert "container web started" in out
    bad = kubectl(kubeapi.kubeconfig, "logs", name, "-c", "nope", check=False)
    assert bad.returncode != 0 and "not valid" in bad.stderr


def test_simulation_can_be_paused(kubeapi: KubeAPI, http: httpx.Client) -> None:
    sim = kubeapi.simulator
    kubeapi.call(lambda: setattr(sim, "enabled", False))
    http.post(DEPLOYS, json=_deploy("paused", "nginx"))
    http.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "marker"}})
    assert http.get("/apis/apps/v1/namespaces/default/replicasets").json()["items"] == []
    kubeapi.call(lambda: setattr(sim, "enabled", True))
    http.patch(
        f"{DEPLOYS}/paused",
        json={"metadata": {"labels": {"go": "now"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    eventually(lambda: len(_pods(http, "paused")) == 1)


def test_namespaces_get_default_service_account_and_root_ca(kubeapi: KubeAPI, http: httpx.Client) -> None:
    assert http.get("/api/v1/namespaces/default/serviceaccounts/default").status_code == 200
    kubectl(kubeapi.kubeconfig, "create", "namespace", "fresh")
    eventually(lambda: http.get("/api/v1/namespaces/fresh/serviceaccounts/default").status_code == 200)
    root = eventually(
        lambda: http.get("/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt").json().get("data")
    )
    assert "ca.crt" in root


def test_what_the_simulation_stores_passes_the_schema(kubeapi: KubeAPI, http: httpx.Client) -> None:
    """The simulation's own writes are not checked against the schema (``Admission.control_plane``),
    so what they leave in the store is: every object after a rollout, a scale-down and a
    LoadBalancer's provisioning, through the emulator's validator."""
    _roll_out(kubeapi, "checked", deployment(name="checked", replicas=3) + "---\n" + service(name="checked"))
    kubectl(kubeapi.kubeconfig, "set", "image", "deployment/checked", "web=nginx:1.28")
    kubectl(kubeapi.kubeconfig, "rollout", "status", "deployment/checked", "--timeout=60s")
    kubectl(kubeapi.kubeconfig, "scale", "deployment/checked", "--replicas=1")
    eventually(lambda: len(_pods(http, "checked")) == 1)
    store = kubeapi.store
    stored = kubeapi.call(
        lambda: [(store.rt_for_key(key, obj), fast_copy(obj)) for key, obj in store.iter_all()]
    )
    validator = SchemaValidator()
    kinds = set()
    for rt, obj in stored:
        assert rt is not None
        assert validator.validate(rt, obj) == [], (rt.kind, obj["metadata"]["name"])
        kinds.add(rt.kind)
    assert {"Deployment", "ReplicaSet", "Pod", "Service", "Endpoints", "EndpointSlice", "Event"} <= kinds
    assert "Node" in kinds
