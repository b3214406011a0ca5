"""`kumo diff` can gate CI: right after `kumo up`, it finds nothing, for every example and environment,
and for generated specs; its exit codes are kubectl diff's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kumo.cli.app import app
from kumo.deploy import DeployOptions, diff_release, load_release, up
from kumo.kube import connect
from kumo.render import CloudFacts
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation
from kumo.spec import load_spec

from .conftest import ROOT, kumo

pytestmark = pytest.mark.integration

EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/kumo.yaml"))
#: What the cloud step would have filled in for the aws examples.
FACTS = CloudFacts(
    account_id="123456789012",
    certificate_arns={
        host: f"arn:aws:acm:ap-northeast-1:123456789012:certificate/{i}"
        for i, host in enumerate(
            ["nginx.example.com", "staging.nginx.example.com", "api.example.com", "staging.api.example.com"]
        )
    },
)
#: GKE's ManagedCertificate is a custom resource; a GKE cluster has its definition installed.
MANAGED_CERTIFICATE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "managedcertificates.networking.gke.io"},
    "spec": {
        "group": "networking.gke.io",
        "scope": "Namespaced",
        "names": {
            "kind": "ManagedCertificate",
            "plural": "managedcertificates",
            "singular": "managedcertificate",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            }
        ],
    },
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[KubeAPI]:
    with KubeAPI(
        kubeconfig=tmp_path / "kubeconfig",
        seed=0,
        controllers=simulation(pod_ready_delay=0.05, lb_delay=0.02),
    ) as api:
        yield api


def _envs(example: str) -> list[str | None]:
    spec = load_spec(ROOT / "examples" / example / "kumo.yaml")
    return [None, *sorted(spec.environments)]


async def _settled(kubeconfig: str, objects: list[dict[str, Any]]) -> None:
    """Until the Deployment controller has observed every Deployment's latest generation."""
    async with await connect(kubeconfig) as client:
        for obj in objects:
            if obj["kind"] != "Deployment":
                continue
            meta = obj["metadata"]
            for _ in range(200):
                live = await client.get("apps/v1", "Deployment", meta["name"], meta["namespace"]) or {}
                observed = (live.get("status") or {}).get("observedGeneration")
                if observed == live["metadata"].get("generation"):
                    break
                await asyncio.sleep(0.05)


def _diff_exit(path: Path, kubeconfig: str, env: str | None) -> tuple[int, str]:
    args = ["diff", str(path), "--kubeconfig", kubeconfig, "--exit-code", *(["--env", env] if env else [])]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_and_environment_diffs_clean_right_after_up(example: str, cluster: KubeAPI) -> None:
    path = ROOT / "examples" / example / "kumo.yaml"
    options = DeployOptions(kubeconfig=cluster.kubeconfig, timeout=60, dns_timeout=0, lock_timeout=30)

    # The emulator runs no Gateway controller, so nothing would mark a Gateway programmed: this
    # test does not wait for readiness, only for the Deployment controller to have seen each change.
    options.wait = False

    async def install_crds() -> None:
        async with await connect(cluster.kubeconfig) as client:
            await client.apply(MANAGED_CERTIFICATE_CRD, "test", force=True)

    asyncio.run(install_crds())
    for env in _envs(example):
        rendered = load_release(path, env, FACTS)
        asyncio.run(up(rendered, options))
        asyncio.run(_settled(cluster.kubeconfig, rendered.addons + rendered.objects))
        if rendered.spec.target.cloud == "aws":
            # No CLI flag supplies cloud facts yet (the cloud step will); the same diff, in-process.
            assert not asyncio.run(diff_release(rendered, options)).changed, (example, env)
            continue
        code, output = _diff_exit(path, cluster.kubeconfig, env)
        assert (code, output.strip()) == (0, "no differences"), (example, env)


def test_diff_exit_codes_are_kubectl_diffs(cluster: KubeAPI, tmp_path: Path) -> None:
    path = ROOT / "examples" / "hello-generic" / "kumo.yaml"
    base = ["--kubeconfig", cluster.kubeconfig]
    options = DeployOptions(kubeconfig=cluster.kubeconfig, timeout=60, dns_timeout=0, lock_timeout=30)
    asyncio.run(up(load_release(path, "dev"), options))

    assert kumo("diff", str(path), *base, "--env", "dev", "--exit-code").returncode == 0
    changed = kumo("diff", str(path), *base, "--exit-code")  # another environment: all to create
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert kumo("diff", str(path), *base).returncode == 0  # without --exit-code, differences are output
    bad = tmp_path / "kumo.yaml"
    bad.write_text("app: x\nservices: 3\n")
    assert kumo("diff", str(bad), *base, "--exit-code").returncode == 2
    unreachable = tmp_path / "kubeconfig"
    unreachable.write_text(Path(cluster.kubeconfig).read_text().replace(cluster.url, "http://127.0.0.1:9"))
    failed = kumo("diff", str(path), "--kubeconfig", str(unreachable), "--exit-code")
    assert failed.returncode == 3, failed.stdout + failed.stderr


_images = st.sampled_from(["nginx:1.27", "nginx:1.28", "ghcr.io/example/api:1.0.0"])
_names = st.sampled_from(["web", "api", "worker"])


@st.composite
def _specs(draw: Any) -> str:
    names = draw(st.lists(_names, min_size=1, max_size=2, unique=True))
    blocks = []
    for i, name in enumerate(names):
        port = draw(st.sampled_from([80, 8080]))
        block = (
            f"  - name: {name}\n    image: {draw(_images)}\n    replicas: {draw(st.integers(1, 3))}\n"
            f"    port: {port}\n"
        )
        if draw(st.booleans()):
            block += f"    env:\n      LOG_LEVEL: {draw(st.sampled_from(['info', 'debug']))}\n"
        expose = draw(st.sampled_from(["loadbalancer", "ingress", None]))
        if expose is not None:
            block += (
                f"    endpoint:\n      hostname: {name}{i}.prop.test\n      expose: {expose}\n"
                '      tls: "off"\n'
            )
        blocks.append(block)
    return (
        "app: prop\ntarget:\n  cloud: generic\ndns:\n  zone: prop.test\n  provider: local\n"
        "services:\n" + "".join(blocks)
    )


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeAPI]:
    with KubeAPI(
        kubeconfig=tmp_path_factory.mktemp("prop") / "kubeconfig",
        seed=0,
        controllers=simulation(pod_ready_delay=0.05, lb_delay=0.02),
    ) as api:
        yield api


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_specs())
def test_up_then_diff_is_always_clean(text: str, shared_cluster: KubeAPI, tmp_path: Path) -> None:
    path = tmp_path / "kumo.yaml"
    path.write_text(text)
    rendered = load_release(path, None)
    options = DeployOptions(kubeconfig=shared_cluster.kubeconfig, timeout=60, dns_timeout=0, lock_timeout=30)
    # Each example is an update of the one before (same release): a changed spec, then clean.
    asyncio.run(up(rendered, options))
    diff = asyncio.run(diff_release(rendered, options))
    assert not diff.changed, [o.as_dict() for o in diff.objects if o.action != "unchanged"]
