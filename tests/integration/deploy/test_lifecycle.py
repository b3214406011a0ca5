"""diff with drift made by kubectl, pruning, status, preview environments, down, and bad input."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from kumo.deploy import DeployOptions, diff_release, down, release_status, up
from kumo.kube import KubeClient

from .conftest import ROOT, SpecFile, kumo

pytestmark = pytest.mark.integration


KUBECTL = str(ROOT / ".venv" / "bin" / "kubectl")


def kubectl(kubeconfig: str, *args: str) -> str:
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_drift_made_with_kubectl_shows_in_diff(
    spec: SpecFile, options: DeployOptions, kubeapi: Any
) -> None:
    await up(spec.render(), options)
    base = ["--kubeconfig", kubeapi.kubeconfig]
    clean = kumo("diff", str(spec.path), *base, "--exit-code")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no differences" in clean.stdout

    kubectl(kubeapi.kubeconfig, "-n", "hello", "scale", "deployment/web", "--replicas=5")
    kubectl(kubeapi.kubeconfig, "-n", "hello", "set", "image", "deployment/web", "web=nginx:hacked")
    drift = kumo("diff", str(spec.path), *base, "--exit-code")
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "~ Deployment web in hello (update)" in drift.stdout
    assert "spec.replicas: 5 -> 2   (changed by kubectl" in drift.stdout
    assert (
        'spec.template.spec.containers[name=web].image: "nginx:hacked" -> "nginx:1.27"   (changed by kubectl'
        in (drift.stdout)
    )

    # A change in kumo.yaml shows too, against the live (drifted) value.
    spec.write(replicas=3)
    edited = json.loads(kumo("diff", str(spec.path), *base, "--output", "json").stdout)
    changes = {c["path"]: c for o in edited["objects"] for c in o["changes"]}
    assert changes["spec.replicas"]["live"] == 5
    assert changes["spec.replicas"]["desired"] == 3

    # kumo up owns its fields again (server-side apply with force), so the drift is gone.
    await up(spec.render(), options)
    assert kumo("diff", str(spec.path), *base, "--exit-code").returncode == 0


async def test_objects_no_longer_rendered_are_pruned(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    spec.write(services=["web", "api"])
    await up(spec.render(), options)
    assert await kube.get("apps/v1", "Deployment", "api", "hello") is not None
    spec.write(services=["web"])
    preview = await diff_release(spec.render(), options)
    pruned = {(o.ref.kind, o.ref.name) for o in preview.objects if o.action == "prune"}
    gone = {("Deployment", "api"), ("Service", "api"), ("NetworkPolicy", "api")}
    assert pruned == gone
    result = await up(spec.render(), options)
    assert {(r.kind, r.name) for r in result.pruned} == gone
    assert await kube.get("apps/v1", "Deployment", "api", "hello") is None
    assert await kube.get("v1", "Service", "api", "hello") is None
    assert await kube.get("apps/v1", "Deployment", "web", "hello") is not None


async def test_status_gives_an_operators_first_look(
    spec: SpecFile, options: DeployOptions, kubeapi: Any
) -> None:
    await up(spec.render(), options)
    await up(spec.write(image="nginx:1.28").render(), options)
    out = kumo("status", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, "--output", "json", check=True)
    view = json.loads(out.stdout)
    (web,) = view["services"]
    assert (web["desired"], web["running"], web["pending"]) == (2, 2, 0)
    assert web["rollouts"][0]["current"] is True
    assert web["rollouts"][0]["images"] == ["nginx:1.28"]
    # An old Pod may still be terminating right after the rollout: it is listed, not pending.
    live = [p for p in web["pods"] if not p["terminating"]]
    assert len(live) == 2
    assert all(p["ready"] and p["restarts"] == 0 for p in live)
    (endpoint,) = view["endpoints"]
    assert endpoint["type"] == "LoadBalancer"
    assert endpoint["address"]
    assert view["dns"] == [
        {"hostname": "web.hello.sandbox.test", "resolves": False, "answers": [], "state": "not resolving yet"}
    ]
    assert view["revision"]["revision"] == 2
    assert view["revision"]["deployedBy"]
    assert view["events"], "recent events are listed"
    text = kumo("status", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, check=True).stdout
    assert "desired 2  running 2  pending 0" in text
    assert "not resolving yet" in text


async def test_a_terminating_pod_is_listed_but_not_pending(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    pods = await kube.list("v1", "Pod", "hello", label_selector="app.kubernetes.io/name=web")
    held = pods[0]["metadata"]["name"]
    # A finalizer nobody removes keeps the deleted Pod terminating; its ReplicaSet replaces it.
    await kube.patch("v1", "Pod", held, {"metadata": {"finalizers": ["test.kumo.dev/hold"]}}, "hello")
    await kube.delete("v1", "Pod", held, "hello")
    try:
        for _ in range(100):
            (web,) = (await release_status(spec.render(), options))["services"]
            if web["running"] == 2:
                break
            await asyncio.sleep(0.1)
        assert (web["desired"], web["running"], web["pending"]) == (2, 2, 0)
        assert [p["name"] for p in web["pods"] if p["terminating"]] == [held]
        assert len(web["pods"]) == 3
    finally:
        await kube.patch("v1", "Pod", held, {"metadata": {"finalizers": None}}, "hello")


async def test_preview_environment_whole_life(spec: SpecFile, kubeapi: Any, kube: KubeClient) -> None:
    base = ["--kubeconfig", kubeapi.kubeconfig, "--env", "pr-42"]
    created = kumo("up", str(spec.path), *base, "--dns-timeout", "0", "--output", "json", check=True)
    result = json.loads(created.stdout)
    assert result["namespace"] == "hello-pr-42"
    assert result["release"] == "hello-pr-42"
    assert result["urls"] == ["http://pr-42.web.hello.sandbox.test"]
    service = await kube.get("v1", "Service", "web", "hello-pr-42")
    assert service is not None
    assert "pr-42.web.hello.sandbox.test" in json.dumps(service["metadata"].get("annotations", {}))
    assert service["metadata"]["labels"]["kumo.dev/env"] == "pr-42"
    assert await kube.get("v1", "Namespace", "hello") is None, "the base environment is untouched"
    status = json.loads(kumo("status", str(spec.path), *base, "--output", "json", check=True).stdout)
    assert status["services"][0]["running"] == 2
    removed = json.loads(kumo("down", str(spec.path), *base, "--output", "json", check=True).stdout)
    assert removed["namespaceDeleted"] is True
    assert await kube.get("v1", "Namespace", "hello-pr-42") is None
    assert await kube.list("v1", "Secret", "hello-pr-42") == []


async def test_down_removes_the_release(
    spec: SpecFile, options: DeployOptions, kubeapi: Any, kube: KubeClient
) -> None:
    await up(spec.render(), options)
    out = kumo("down", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, check=True)
    assert "removed hello and its namespace" in out.stdout
    assert await kube.get("v1", "Namespace", "hello") is None
    again = kumo("down", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, check=True)
    assert "not installed" in again.stderr


async def test_down_keeps_a_namespace_other_releases_still_use(
    tmp_path: Path, options: DeployOptions, kube: KubeClient
) -> None:
    first = SpecFile(tmp_path / "one.yaml").write(app="one", namespace="shared", services=["a"])
    second = SpecFile(tmp_path / "two.yaml").write(app="two", namespace="shared", services=["b"])
    await up(first.render(), options)
    await up(second.render(), options)
    result = await down(first.render(), options)
    assert result.namespace_deleted is False
    assert await kube.get("apps/v1", "Deployment", "a", "shared") is None
    assert await kube.get("apps/v1", "Deployment", "b", "shared") is not None
    assert await kube.get("v1", "Namespace", "shared") is not None
    result = await down(second.render(), options)
    assert result.namespace_deleted is True


async def _snapshot(kube: KubeClient) -> dict[str, list[str]]:
    found = {}
    for api_version, kind in (
        ("v1", "Namespace"),
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("v1", "Secret"),
        ("coordination.k8s.io/v1", "Lease"),
    ):
        found[kind] = sorted(
            f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
            for o in await kube.list(api_version, kind)
        )
    return found


async def test_bad_input_is_a_clear_error_and_changes_nothing(
    spec: SpecFile, kubeapi: Any, kube: KubeClient, tmp_path: Path
) -> None:
    before = await _snapshot(kube)
    base = ["--kubeconfig", kubeapi.kubeconfig, "--dns-timeout", "0"]

    missing_context = kumo("up", str(spec.path), *base, "--context", "prod-eu")
    assert missing_context.returncode == 2
    assert "context 'prod-eu' not found" in missing_context.stderr
    assert "available contexts:" in missing_context.stderr
    assert "Traceback" not in missing_context.stderr

    invalid = tmp_path / "bad.yaml"
    invalid.write_text(spec.path.read_text().replace("replicas: 2", "replicas: -1"))
    bad_spec = kumo("up", str(invalid), *base)
    assert bad_spec.returncode == 2
    assert f"{invalid}:" in bad_spec.stderr
    assert "replicas" in bad_spec.stderr
    assert "Traceback" not in bad_spec.stderr

    # A deployer whose roles allow only namespace team-a cannot deploy into team-b: kumo stops at
    # the first refusal, names the namespace and the missing permission, and changes nothing.
    kubeconfig, token = await _team_a_deployer(kube, kubeapi, tmp_path)
    assert await _can_create_deployments(kubeapi, token, "team-a")
    assert not await _can_create_deployments(kubeapi, token, "team-b")
    into_b = SpecFile(tmp_path / "team-b.yaml").write(namespace="team-b")
    before = await _snapshot(kube)
    namespace_b = await kube.get("v1", "Namespace", "team-b")
    assert namespace_b is not None
    forbidden = kumo("up", str(into_b.path), "--kubeconfig", str(kubeconfig), "--dns-timeout", "0")
    assert forbidden.returncode == 1, forbidden.stdout + forbidden.stderr
    assert "Namespace team-b" in forbidden.stderr
    assert (
        'User "system:serviceaccount:team-a:deployer" cannot patch resource "namespaces"' in forbidden.stderr
    )
    assert "nothing was changed" in forbidden.stderr
    assert "RBAC permissions" in forbidden.stderr
    assert "Traceback" not in forbidden.stderr
    assert await _snapshot(kube) == before
    after = await kube.get("v1", "Namespace", "team-b")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == namespace_b["metadata"]["resourceVersion"]


async def _can_create_deployments(kubeapi: Any, token: str, namespace: str) -> bool:
    """What `kubectl auth can-i create deployments -n NAMESPACE` asks (kubectl sends no token over
    plain HTTP, so the review is posted directly)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": namespace,
                "verb": "create",
                "group": "apps",
                "resource": "deployments",
            }
        },
    }
    async with httpx.AsyncClient(base_url=kubeapi.url, headers={"Authorization": f"Bearer {token}"}) as http:
        resp = await http.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json=review)
    assert resp.status_code == 201, resp.text
    return bool(resp.json()["status"]["allowed"])


async def _team_a_deployer(kube: KubeClient, kubeapi: Any, tmp_path: Path) -> tuple[Path, str]:
    """A kubeconfig with a ServiceAccount token whose Role allows everything in team-a, and whose
    ClusterRole lets it read namespaces and apply team-a's own; team-b exists but is not its."""
    rbac = "rbac.authorization.k8s.io/v1"
    subject = [{"kind": "ServiceAccount", "name": "deployer", "namespace": "team-a"}]
    for obj in (
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "deployer", "namespace": "team-a"},
        },
        {
            "apiVersion": rbac,
            "kind": "Role",
            "metadata": {"name": "deploy", "namespace": "team-a"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        },
        {
            "apiVersion": rbac,
            "kind": "RoleBinding",
            "metadata": {"name": "deployer", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deploy"},
            "subjects": subject,
        },
        {
            "apiVersion": rbac,
            "kind": "ClusterRole",
            "metadata": {"name": "team-a-namespace"},
            "rules": [
                {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
                {
                    "apiGroups": [""],
                    "resources": ["namespaces"],
                    "verbs": ["patch", "update"],
                    "resourceNames": ["team-a"],
                },
            ],
        },
        {
            "apiVersion": rbac,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "deployer-team-a-namespace"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "team-a-namespace",
            },
            "subjects": subject,
        },
    ):
        await kube.create(obj)
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    async with httpx.AsyncClient(base_url=kubeapi.url) as http:
        resp = await http.post("/api/v1/namespaces/team-a/serviceaccounts/deployer/token", json=request)
    assert resp.status_code == 201, resp.text
    token = str(resp.json()["status"]["token"])
    path = tmp_path / "deployer.kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": kubeapi.url}}],
        "users": [{"name": "deployer", "user": {"token": token}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "deployer", "namespace": "team-a"}}],
        "current-context": "c",
    }
    path.write_text(json.dumps(config))
    return path, token


@pytest.mark.parametrize("kind", ["missing-file"])
def test_missing_file_is_a_usage_error(kind: str, tmp_path: Path) -> None:
    result = kumo("up", str(tmp_path / "kumo.yaml"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


async def test_item13_down_fails_while_the_namespace_stays_terminating(
    spec: SpecFile, options: DeployOptions, kube: KubeClient
) -> None:
    from kumo.errors import ClusterError

    await up(spec.render(), options)
    held = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "namespace": "hello"}}
    held["metadata"]["finalizers"] = ["example.com/keep"]  # type: ignore[index]
    await kube.create(held)
    options.timeout = 1
    with pytest.raises(ClusterError, match="namespace hello is still terminating after 1s"):
        await down(spec.render(), options)
    assert await kube.get("v1", "Namespace", "hello") is not None
    await kube.patch("v1", "ConfigMap", "held", {"metadata": {"finalizers": None}}, "hello")
