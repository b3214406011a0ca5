"""Rendered objects and the plan, checked against real peers: kubectl applies the seed's
manifests to the Kubernetes API emulator, and the DNS controller started with the rendered
arguments publishes exactly the records the plan expected."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from kumo.plan import build_plan
from kumo.render import CloudFacts, controller_args, find_placeholders, render, to_yaml_stream
from kumo.sandbox.kubeapi import KubeAPI
from kumo.spec import load_spec

ROOT = Path(__file__).parents[3]
BIN = Path(sys.executable).parent
FACTS = CloudFacts(
    account_id="123456789012",
    certificate_arns={"nginx.example.com": "arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"},
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def test_seed_manifests_apply_and_the_controller_publishes_the_planned_records(
    kubeapi: KubeAPI, tmp_path: Path
) -> None:
    # The seed, with the in-memory provider so the controller needs no cloud.
    text = (
        (ROOT / "examples/online-app/kumo.yaml")
        .read_text()
        .replace("provider: route53", "provider: inmemory")
    )
    (tmp_path / "kumo.yaml").write_text(text)
    spec = load_spec(tmp_path / "kumo.yaml")
    objects = render(spec, facts=FACTS)
    assert find_placeholders(objects) == []
    (tmp_path / "all.yaml").write_text(to_yaml_stream(objects))

    kubectl = str(BIN / "kubectl")
    applied = _run(
        kubectl,
        "--kubeconfig",
        str(kubeapi.kubeconfig),
        "apply",
        "--server-side",
        "-f",
        str(tmp_path / "all.yaml"),
    )
    assert applied.returncode == 0, applied.stderr
    assert len(applied.stdout.strip().splitlines()) == len(objects)

    hostname = ""
    for _ in range(100):
        got = _run(
            kubectl,
            "--kubeconfig",
            str(kubeapi.kubeconfig),
            "get",
            "service",
            "nginx",
            "-n",
            "online-app",
            "-o",
            "json",
        )
        ingress = json.loads(got.stdout).get("status", {}).get("loadBalancer", {}).get("ingress", [])
        if ingress:
            hostname = ingress[0]["hostname"]
            break
        time.sleep(0.05)
    assert hostname.endswith(".elb.amazonaws.com")

    args = [a for a in controller_args(spec) if not a.startswith("--metrics-address")]
    synced = _run(
        str(BIN / "kumo"),
        *args,
        "--metrics-address=",
        "--kubeconfig",
        str(kubeapi.kubeconfig),
        "--once",
        "--dry-run",
    )
    assert synced.returncode == 0, synced.stderr
    published = re.findall(
        r"dry-run CREATE (\S+) (\S+) -> (.+)$", synced.stdout + synced.stderr, re.MULTILINE
    )

    plan = build_plan(spec)
    assert plan.dns is not None
    expected = [(r.name, r.type, hostname if r.type != "TXT" else r.target) for r in plan.dns.records]
    assert sorted(published) == sorted(expected)
