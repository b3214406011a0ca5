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
from kumo.render import CloudFacts, controller_args, dns_objects, find_placeholders, render, to_yaml_stream
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation
from kumo.spec import load_spec

ROOT = Path(__file__).parents[3]
BIN = Path(sys.executable).parent
FACTS = CloudFacts(
    account_id="123456789012",
    certificate_arns={"nginx.example.com": "arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"},
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def _apply_and_sync(
    kubeconfig: Path, spec_path: Path, tmp_path: Path
) -> tuple[list[tuple[str, str, str]], str]:
    """kubectl-apply the rendered objects, wait for the endpoint's address, run the controller once."""
    spec = load_spec(spec_path)
    objects = render(spec, facts=FACTS)
    assert find_placeholders(objects) == []
    (tmp_path / "all.yaml").write_text(to_yaml_stream(objects))
    kubectl = [str(BIN / "kubectl"), "--kubeconfig", str(kubeconfig)]
    applied = _run(*kubectl, "apply", "--server-side", "-f", str(tmp_path / "all.yaml"))
    assert applied.returncode == 0, applied.stderr
    assert len(applied.stdout.strip().splitlines()) == len(objects)

    (dns_object,) = dns_objects(spec)
    kind, meta = dns_object["kind"].lower(), dns_object["metadata"]
    address = ""
    for _ in range(100):
        got = _run(*kubectl, "get", kind, meta["name"], "-n", meta["namespace"], "-o", "json")
        published = json.loads(got.stdout).get("status", {}).get("loadBalancer", {}).get("ingress", [])
        if published:
            address = published[0].get("hostname") or published[0]["ip"]
            break
        time.sleep(0.05)
    assert address

    args = [a for a in controller_args(spec) if not a.startswith(("--metrics-address", "--local-"))]
    synced = _run(
        str(BIN / "kumo"), *args, "--metrics-address=", "--kubeconfig", str(kubeconfig),
        "--once", "--dry-run", "--log-format=json",
    )  # fmt: skip
    assert synced.returncode == 0, synced.stderr
    # JSON log lines (logrus's keys), so the record text is read back unescaped
    messages = [json.loads(line)["msg"] for line in synced.stderr.splitlines() if line.startswith("{")]
    pattern = re.compile(r"dry-run CREATE (\S+) (\S+) -> (.+)")
    records = [m.groups() for m in map(pattern.fullmatch, messages) if m]
    return [(str(n), str(t), str(v)) for n, t, v in records], address


def _expected(spec_path: Path, address: str) -> list[tuple[str, str, str]]:
    plan = build_plan(load_spec(spec_path))
    assert plan.dns is not None
    return sorted((r.name, r.type, address if r.type != "TXT" else r.target) for r in plan.dns.records)


def test_seed_manifests_apply_and_the_controller_publishes_the_planned_records(
    kubeapi: KubeAPI, tmp_path: Path
) -> None:
    # The seed, with the in-memory provider so the controller needs no cloud: an ELB hostname, a CNAME.
    text = (
        (ROOT / "examples/online-app/kumo.yaml")
        .read_text()
        .replace("provider: route53", "provider: inmemory")
    )
    (tmp_path / "kumo.yaml").write_text(text)
    records, address = _apply_and_sync(kubeapi.kubeconfig, tmp_path / "kumo.yaml", tmp_path)
    assert address.endswith(".elb.amazonaws.com")
    assert sorted(records) == _expected(tmp_path / "kumo.yaml", address)
    assert [r[1] for r in sorted(records)] == ["TXT", "CNAME"]


def test_generic_ingress_gets_an_address_and_an_a_record(tmp_path: Path) -> None:
    text = (
        (ROOT / "examples/hello-generic/kumo.yaml")
        .read_text()
        .replace("provider: local", "provider: inmemory")
    )
    (tmp_path / "kumo.yaml").write_text(text)
    with KubeAPI(
        kubeconfig=tmp_path / "kubeconfig", seed=0, controllers=simulation(lb_mode="generic", lb_delay=0.05)
    ) as api:
        records, address = _apply_and_sync(api.kubeconfig, tmp_path / "kumo.yaml", tmp_path)
    assert re.fullmatch(r"[0-9.]+", address)
    assert sorted(records) == _expected(tmp_path / "kumo.yaml", address)
    assert sorted(r[1] for r in records) == ["A", "TXT"]
