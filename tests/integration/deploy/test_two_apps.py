"""Several apps in one cluster: one DNS controller serves every release's zone with its owner id,
picked up by watch; `kumo up` of one app never changes what another's names need; the last
`kumo down` says so and --prune-addons removes the add-on; another tool's external-dns is left alone."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest

from kumo.deploy.dnscheck import resolve
from kumo.render import render_addons
from kumo.spec import load_spec

from .conftest import kumo
from .dnsrun import KUBECTL, local_controller

pytestmark = pytest.mark.integration


def app_spec(app: str, zone: str, owner: str, *, provider: str = "local", controller: bool = False) -> str:
    return f"""app: {app}
target:
  cloud: generic
dns:
  zone: {zone}
  provider: {provider}
  ownerId: {owner}
  controller:
    enabled: {"true" if controller else "false"}
services:
  - name: web
    image: nginx:1.27
    replicas: 1
    endpoint:
      hostname: web.{zone}
      expose: loadbalancer
      tls: "off"
"""


@pytest.fixture
def shared_controller(kubeapi: Any, tmp_path: Path) -> Iterator[str]:
    """One controller for the cluster, serving the zones the releases register; yields HOST:PORT."""
    args = [
        "--source=service",
        "--provider=local",
        "--local-zone=sandbox.test",
        "--zones-configmap=kumo-system/kumo-dns-zones",
        "--leader-elect",
        "--leader-election-id=kumo-dns",
        "--leader-election-namespace=kumo-system",
    ]
    # Leading before the first `kumo up`: it waits for names only while a controller holds the Lease.
    with local_controller(kubeapi.kubeconfig, tmp_path, args, wait_for_lease=True) as server:
        yield server


def txt_owner(server: str, name: str) -> str:
    host, port = server.split(":")
    answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.TXT), host, port=int(port), timeout=2)
    texts = [b"".join(r.strings).decode() for rrset in answer.answer for r in rrset]
    return next((t.split("owner=")[1].split(",")[0] for t in texts if "owner=" in t), "")


async def test_two_apps_with_different_zones_keep_their_names(
    kubeapi: Any, tmp_path: Path, shared_controller: str
) -> None:
    shop, blog = tmp_path / "shop.yaml", tmp_path / "blog.yaml"
    shop.write_text(app_spec("shop", "shop.sandbox.test", "shop-owner"))
    blog.write_text(app_spec("blog", "blog.sandbox.test", "blog-owner"))
    base = ["--kubeconfig", kubeapi.kubeconfig, "--dns-server", shared_controller, "--dns-timeout", "60"]
    first = kumo("up", str(shop), *base, "--output", "json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["dns"]["web.shop.sandbox.test"]["resolves"], first.stderr
    second = kumo("up", str(blog), *base, "--output", "json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["dns"]["web.blog.sandbox.test"]["resolves"], second.stderr

    # Both names are kept, each owned by its own release's owner id.
    assert await resolve("web.shop.sandbox.test", shared_controller)
    assert txt_owner(shared_controller, "cname-web.shop.sandbox.test") == "shop-owner"
    assert txt_owner(shared_controller, "cname-web.blog.sandbox.test") == "blog-owner"
    zones = json.loads(
        subprocess.run(
            [
                KUBECTL,
                "--kubeconfig",
                kubeapi.kubeconfig,
                "-n",
                "kumo-system",
                "get",
                "cm/kumo-dns-zones",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert set(zones["data"]) == {"shop.shop", "blog.blog"}

    # Down of one app removes its name and its zone; the other's stays.
    kumo("down", str(shop), "--kubeconfig", kubeapi.kubeconfig, check=True)
    for _ in range(60):
        if not await resolve("web.shop.sandbox.test", shared_controller):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the first app's name was not removed after its kumo down")
    assert await resolve("web.blog.sandbox.test", shared_controller)


def test_deploying_another_app_does_not_change_the_shared_controller(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(app_spec("shop", "shop.example.com", "shop", provider="route53", controller=True))
    second.write_text(app_spec("blog", "blog.example.org", "blog", provider="route53", controller=True))

    def addon(path: Path) -> list[dict[str, Any]]:
        spec = load_spec(path).model_copy(
            update={
                "target": load_spec(path).target.model_copy(
                    update={"account_id": "123456789012", "region": "us-east-1"}
                )
            }
        )
        return render_addons(spec)

    assert addon(first) == addon(second)
    (deployment,) = [o for o in addon(first) if o["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--zones-configmap=kumo-system/kumo-dns-zones" in args
    assert not [a for a in args if a.startswith(("--domain-filter", "--txt-owner-id"))]


def test_last_down_offers_to_prune_the_addon_and_a_foreign_external_dns_is_left_alone(
    kubeapi: Any, tmp_path: Path
) -> None:
    path = tmp_path / "kumo.yaml"
    path.write_text(app_spec("solo", "solo.sandbox.test", "solo", controller=True))
    base = ["--kubeconfig", kubeapi.kubeconfig, "--dns-timeout", "0"]
    kumo("up", str(path), *base, check=True)
    kubectl = [KUBECTL, "--kubeconfig", kubeapi.kubeconfig]
    assert (
        subprocess.run(
            [*kubectl, "-n", "kumo-system", "get", "deploy/kumo-dns"], capture_output=True
        ).returncode
        == 0
    )
    kept = kumo("down", str(path), "--kubeconfig", kubeapi.kubeconfig, check=True)
    assert "last kumo release using the DNS controller" in kept.stderr and "--prune-addons" in kept.stderr
    kumo("up", str(path), *base, check=True)
    pruned = kumo("down", str(path), "--kubeconfig", kubeapi.kubeconfig, "--prune-addons", check=True)
    assert "removing the DNS controller" in pruned.stderr
    gone = subprocess.run([*kubectl, "-n", "kumo-system", "get", "deploy/kumo-dns"], capture_output=True)
    assert gone.returncode != 0

    # An external-dns installed by another tool (here: its Helm chart's labels) is not fought over.
    subprocess.run([*kubectl, "create", "namespace", "external-dns"], check=True, capture_output=True)
    subprocess.run(
        [
            *kubectl,
            "-n",
            "external-dns",
            "create",
            "deployment",
            "external-dns",
            "--image=registry.k8s.io/external-dns/external-dns:v0.22.0",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *kubectl,
            "-n",
            "external-dns",
            "label",
            "deployment/external-dns",
            "app.kubernetes.io/name=external-dns",
        ],
        check=True,
        capture_output=True,
    )
    beside = kumo("up", str(path), *base, check=True)
    assert "external-dns is already installed by another tool (external-dns/external-dns)" in beside.stderr
    assert (
        subprocess.run(
            [*kubectl, "-n", "kumo-system", "get", "deploy/kumo-dns"], capture_output=True
        ).returncode
        != 0
    )
