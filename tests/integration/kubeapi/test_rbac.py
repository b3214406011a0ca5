"""RBAC for ServiceAccount tokens: TokenRequest, 403s, the self reviews, and kumo's DNS controller
running with exactly the roles `kumo render` gives it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from kumo.deploy import load_release
from kumo.deploy.dnscheck import resolve
from kumo.kube import connect
from kumo.render import controller_args
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.kubeapi.catalog import Catalog
from tests.integration.deploy.dnsrun import free_udp_tcp_port
from tests.integration.kubeapi.helpers import kubectl

PODS = "/api/v1/namespaces/default/pods"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
KUMO = str(Path(sys.executable).parent / "kumo")


def _token(http: httpx.Client, namespace: str, name: str) -> str:
    resp = http.post(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["kind"] == "TokenRequest" and body["status"]["expirationTimestamp"]
    return str(body["status"]["token"])


def _reader(http: httpx.Client) -> None:
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot"}}
    assert http.post("/api/v1/namespaces/default/serviceaccounts", json=sa).status_code == 201
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}],
    }
    assert http.post(f"{RBAC}/namespaces/default/roles", json=role).status_code == 201
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "bot-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": "default"}],
    }
    assert http.post(f"{RBAC}/namespaces/default/rolebindings", json=binding).status_code == 201


def test_service_account_tokens_get_what_their_roles_grant(bare: httpx.Client) -> None:
    _reader(bare)
    token = _token(bare, "default", "bot")
    as_bot = {"Authorization": f"Bearer {token}"}
    assert bare.get(PODS, headers=as_bot).status_code == 200
    assert bare.get("/api", headers=as_bot).status_code == 200  # discovery is for everyone
    denied = bare.get("/api/v1/namespaces/kube-system/pods", headers=as_bot)
    assert denied.status_code == 403
    assert denied.json()["message"] == (
        'pods is forbidden: User "system:serviceaccount:default:bot" cannot list resource "pods" '
        'in API group "" in the namespace "kube-system"'
    )
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    assert bare.post("/api/v1/namespaces/default/configmaps", json=cm, headers=as_bot).status_code == 403
    assert bare.get("/api/v1/namespaces/default/configmaps/x").status_code == 404  # nothing stored
    nodes = bare.get("/api/v1/nodes", headers=as_bot).json()
    assert nodes["message"].endswith('cannot list resource "nodes" in API group "" at the cluster scope')

    def can(verb: str, resource: str, namespace: str = "default") -> bool:
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "namespace": namespace}},
        }
        resp = bare.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json=review, headers=as_bot
        )
        assert resp.status_code == 201, resp.text
        return bool(resp.json()["status"]["allowed"])

    assert can("watch", "pods") and not can("delete", "pods") and not can("list", "pods", "kube-system")
    who = bare.post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        headers=as_bot,
    ).json()["status"]["userInfo"]
    assert who["username"] == "system:serviceaccount:default:bot"
    assert "system:serviceaccounts:default" in who["groups"]
    # the kubeconfig's admin may do anything; an unknown token is nobody
    admin = {"Authorization": "Bearer kumo-sandbox"}
    assert bare.get("/api/v1/namespaces/kube-system/pods", headers=admin).status_code == 200
    assert bare.get(PODS, headers={"Authorization": "Bearer nope"}).status_code == 401
    # a token dies with its ServiceAccount
    assert bare.delete("/api/v1/namespaces/default/serviceaccounts/bot").status_code == 200
    assert bare.get(PODS, headers=as_bot).status_code == 401


SPEC = """\
app: hello
target: {cloud: generic}
dns: {zone: sandbox.test, provider: local}
services:
  - name: web
    image: nginx:1.27
    port: 80
    endpoint:
      hostname: web.hello.sandbox.test
      expose: loadbalancer
      tls: "off"
      ports: [{port: 80, protocol: http}]
"""


async def test_dns_controller_runs_with_its_rendered_roles(
    kubeapi: KubeAPI, http: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "kumo.yaml").write_text(SPEC)
    release = load_release(tmp_path / "kumo.yaml", None)
    rbac_kinds = {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    addon = [o for o in release.addons if o["kind"] in rbac_kinds]
    assert {o["kind"] for o in addon} == rbac_kinds
    for obj in addon + [o for o in release.objects if o["kind"] != "Deployment"]:
        _create(http, obj)
    sa = next(o for o in addon if o["kind"] == "ServiceAccount")["metadata"]
    token = _token(http, sa["namespace"], sa["name"])
    kubeconfig = tmp_path / "controller.kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": kubeapi.url}}],
                "users": [{"name": "dns", "user": {"token": token}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "dns"}}],
                "current-context": "c",
            }
        )
    )
    port = free_udp_tcp_port()
    args = [
        a
        for a in controller_args(release.spec)
        if not a.startswith(("--local-db", "--local-listen", "--metrics-address", "--interval"))
    ]
    args += [f"--local-db={tmp_path / 'zone.sqlite'}", f"--local-listen=127.0.0.1:{port}", "--interval=1s"]
    env = {**os.environ, "POD_NAMESPACE": sa["namespace"], "POD_NAME": "kumo-dns-test"}
    log_path = tmp_path / "controller.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [KUMO, *args, "--metrics-address=127.0.0.1:0", f"--kubeconfig={kubeconfig}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            for _ in range(120):
                if await resolve("web.hello.sandbox.test", f"127.0.0.1:{port}"):
                    break
                assert proc.poll() is None, log_path.read_text()
                await asyncio.sleep(0.5)
            else:
                raise AssertionError("the name was never published:\n" + log_path.read_text())
        finally:
            proc.terminate()
            proc.wait(20)
    text = log_path.read_text().lower()
    assert "forbidden" not in text and "403" not in text, text
    lease = http.get(f"/apis/coordination.k8s.io/v1/namespaces/{sa['namespace']}/leases/kumo-dns")
    assert lease.status_code == 200  # leader election worked under the namespaced Role
    # and the same token may not touch what the roles leave out
    denied = http.get("/api/v1/secrets", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403


def _create(http: httpx.Client, obj: dict[str, Any]) -> None:
    rt = Catalog().by_kind(obj["apiVersion"], obj["kind"])
    assert rt is not None, obj["kind"]
    group, _, version = obj["apiVersion"].rpartition("/")
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    ns = obj["metadata"].get("namespace")
    path = f"{base}/namespaces/{ns}/{rt.plural}" if ns else f"{base}/{rt.plural}"
    resp = http.post(path, json=obj)
    assert resp.status_code in (201, 409), (path, resp.text)


async def test_tls_with_a_client_certificate_admin_and_token_users(tmp_path: Path) -> None:
    with KubeAPI(kubeconfig=tmp_path / "kubeconfig", tls=True) as api:
        assert api.url.startswith("https://")
        config = yaml.safe_load(Path(api.kubeconfig).read_text())
        assert config["clusters"][0]["cluster"]["certificate-authority-data"]
        assert set(config["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}
        who = kubectl(api.kubeconfig, "auth", "whoami", "-o", "json").stdout
        assert '"username": "kubernetes-admin"' in who
        # clients that read certificate-authority-data work: kumo's own (lightkube) here
        async with await connect(api.kubeconfig) as kube:
            names = [ns["metadata"]["name"] for ns in await kube.list("v1", "Namespace")]
        assert "kube-system" in names
        kubectl(api.kubeconfig, "create", "serviceaccount", "bot")
        kubectl(api.kubeconfig, "create", "role", "reader", "--verb=get,list,watch", "--resource=pods")
        kubectl(api.kubeconfig, "create", "rolebinding", "r", "--role=reader", "--serviceaccount=default:bot")
        token = kubectl(api.kubeconfig, "create", "token", "bot").stdout.strip()
        as_bot = ["--token", token]
        assert kubectl(api.kubeconfig, *as_bot, "auth", "can-i", "list", "pods").stdout.strip() == "yes"
        denied = kubectl(api.kubeconfig, *as_bot, "auth", "can-i", "delete", "pods", check=False)
        assert denied.returncode == 1 and denied.stdout.strip() == "no"
        forbidden = kubectl(api.kubeconfig, *as_bot, "get", "pods", "-n", "kube-system", check=False)
        assert forbidden.returncode == 1
        assert 'User "system:serviceaccount:default:bot" cannot list resource "pods"' in forbidden.stderr
        whoami = kubectl(api.kubeconfig, *as_bot, "auth", "whoami").stdout
        assert "system:serviceaccount:default:bot" in whoami
