"""external-dns's own argument lists start ``kumo dns run`` and publish as external-dns would.

The Helm chart's defaults and the AWS tutorial against moto (Route 53) and the emulator; the RFC 2136
tutorial against BIND9 configured with the tutorial's zone and TSIG key. Only where the servers are
(and ``--once``, ``--kubeconfig``) is added.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from kumo.kube import KubeClient, connect
from kumo.sandbox.kubeapi import KubeAPI
from tests.integration.dns.conftest import Moto, dig, start_bind
from tests.integration.dns.external_dns_args import AWS_TUTORIAL, HELM_DEFAULTS, RFC2136_TUTORIAL, override

pytestmark = pytest.mark.integration

H = "external-dns.alpha.kubernetes.io/"


def kumo(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "kumo"
    return subprocess.run(
        [str(exe), "dns", "run", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=120,
    )


def service(name: str, host: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": {H + "hostname": host}},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]},
    }


async def with_lb(kube: KubeClient, name: str) -> None:
    for _ in range(600):
        svc = await kube.get("v1", "Service", name, "default")
        if svc and (svc.get("status") or {}).get("loadBalancer", {}).get("ingress"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} got no load balancer address")


def names(zone_id: str) -> set[tuple[str, str]]:
    r53 = boto3.client("route53")
    sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(s["Name"].rstrip("."), s["Type"]) for s in sets}


async def test_helm_defaults_and_aws_tutorial_publish_to_route53(kubeapi: KubeAPI, aws: Moto) -> None:
    r53 = boto3.client("route53")
    zone_id = r53.create_hosted_zone(Name="example.com", CallerReference="t")["HostedZone"]["Id"]
    kube = await connect(str(kubeapi.kubeconfig))
    try:
        await kube.create(service("helm", "helm.example.com"))
        await kube.create(service("tutorial", "tutorial.example.com"))
        await with_lb(kube, "helm")
        await with_lb(kube, "tutorial")
    finally:
        await kube.close()
    plumbing = [f"--kubeconfig={kubeapi.kubeconfig}", "--once", "--metrics-address="]
    # with the chart's defaults, helm.example.com is the default owner's, tutorial.example.com too;
    # so the tutorial (another owner) runs first and takes its own name
    tutorial = await asyncio.to_thread(kumo, [*AWS_TUTORIAL, *plumbing])
    assert tutorial.returncode == 0, tutorial.stderr
    assert ("tutorial.example.com", "A") in names(zone_id)
    assert ("a-tutorial.example.com", "TXT") in names(zone_id)
    helm = await asyncio.to_thread(kumo, [*HELM_DEFAULTS, *plumbing])
    assert helm.returncode == 0, helm.stderr
    got = names(zone_id)
    assert {("helm.example.com", "A"), ("helm.example.com", "AAAA"), ("a-helm.example.com", "TXT")} <= got
    # logrus text format: time="..." level=info msg="..."
    assert "Traceback" not in helm.stderr


async def test_rfc2136_tutorial_publishes_to_bind(kubeapi: KubeAPI, tmp_path: Path) -> None:
    secret = next(a.split("=", 1)[1] for a in RFC2136_TUTORIAL if a.startswith("--rfc2136-tsig-secret="))
    with start_bind(tmp_path, "k8s.example.org", "externaldns-key", secret) as server:
        kube = await connect(str(kubeapi.kubeconfig))
        try:
            await kube.create(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "metadata": {
                        "name": "app",
                        "namespace": "default",
                        "annotations": {H + "target": "192.0.2.10"},
                    },
                    "spec": {"rules": [{"host": "app.k8s.example.org"}]},
                }
            )
        finally:
            await kube.close()
        args = override(RFC2136_TUTORIAL, rfc2136_host="127.0.0.1", rfc2136_port=str(server.port))
        done = await asyncio.to_thread(
            kumo,
            [
                *args,
                f"--kubeconfig={kubeapi.kubeconfig}",
                "--once",
                "--metrics-address=",
                "--log-format=json",
            ],
        )
        assert done.returncode == 0, done.stderr
        assert dig(server.port, "app.k8s.example.org") == ["192.0.2.10"]
        assert dig(server.port, "external-dns-a-app.k8s.example.org", "TXT")
        # a second run reads the zone through a TSIG-signed transfer and changes nothing
        again = await asyncio.to_thread(
            kumo,
            [
                *args,
                f"--kubeconfig={kubeapi.kubeconfig}",
                "--once",
                "--metrics-address=",
                "--log-level=debug",
            ],
        )
        assert again.returncode == 0, again.stderr
        assert "CREATE" not in again.stderr


@pytest.mark.parametrize(
    "args", [HELM_DEFAULTS, AWS_TUTORIAL, RFC2136_TUTORIAL], ids=["helm", "aws", "rfc2136"]
)
def test_the_tutorials_without_their_servers_fail_cleanly(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No kubeconfig anywhere: a clear error, exit 2, no traceback (the parse path accepted every flag)."""
    from kumo.cli.app import main

    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(sys, "argv", ["kumo", "dns", "run", *args, "--once", "--metrics-address="])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "no kubeconfig found" in err and "Traceback" not in err
