"""Helpers for deploy tests: specs written per test, the kumo CLI as a subprocess, a kube client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kumo.deploy import DeployOptions, ObjectProgress, Ref, Reporter, load_release
from kumo.deploy.rendering import Rendered
from kumo.kube import KubeClient, connect

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "hello-generic" / "kumo.yaml"
KUMO = [str(Path(sys.executable).parent / "kumo")]


def spec_text(
    app: str = "hello",
    image: str = "nginx:1.27",
    replicas: int = 2,
    services: list[str] | None = None,
    namespace: str | None = None,
) -> str:
    names = services or ["web"]
    blocks = []
    for name in names:
        blocks.append(
            f"""  - name: {name}
    image: {image}
    replicas: {replicas}
    port: 80
    endpoint:
      hostname: {name}.{app}.sandbox.test
      expose: loadbalancer
      tls: "off"
      ports:
        - port: 80
          protocol: http
"""
        )
    header = f"app: {app}\n" + (f"namespace: {namespace}\n" if namespace else "")
    return f"""{header}target:
  cloud: generic
dns:
  zone: sandbox.test
  provider: local
  controller:
    enabled: false
services:
{"".join(blocks)}"""


class SpecFile:
    """A kumo.yaml in a temporary directory that a test rewrites between deploys."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, **kwargs: Any) -> SpecFile:
        self.path.write_text(spec_text(**kwargs))
        return self

    def render(self, env: str | None = None) -> Rendered:
        return load_release(self.path, env)


@pytest.fixture
def spec(tmp_path: Path) -> SpecFile:
    return SpecFile(tmp_path / "kumo.yaml").write()


@pytest.fixture
def options(kubeapi: Any) -> DeployOptions:
    return DeployOptions(kubeconfig=kubeapi.kubeconfig, timeout=60, dns_timeout=0, lock_timeout=30)


@pytest.fixture
async def kube(kubeapi: Any) -> AsyncIterator[KubeClient]:
    async with await connect(kubeapi.kubeconfig) as client:
        yield client


class Recorder(Reporter):
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.actions: list[tuple[str, Ref]] = []
        self.snapshots: list[list[ObjectProgress]] = []

    def message(self, text: str) -> None:
        self.messages.append(text)

    def applied(self, ref: Ref, action: str) -> None:
        self.actions.append((action, ref))

    def progress(self, objects: list[ObjectProgress]) -> None:
        self.snapshots.append(list(objects))


def kumo(*args: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run([*KUMO, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(
            f"kumo {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


#: Runs kumo's CLI as the ``kumo`` script does and, at exit, prints which of argv[1] it imported.
_PROBE = """
import atexit, sys
watched = sys.argv[1].split(",")
atexit.register(lambda: print("LOADED=" + ",".join(m for m in watched if m in sys.modules), file=sys.stderr))
sys.argv = ["kumo", *sys.argv[2:]]
from kumo.cli import main
main()
"""


def kumo_loading(modules: tuple[str, ...], *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``kumo ARGS`` (stderr not a terminal); also return which of ``modules`` it imported."""
    # No server: what this process imports is the question, not what a server's child does.
    env = {**os.environ, "COLUMNS": "200", "KUMO_SERVER": "off"}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    command = [sys.executable, "-c", _PROBE, ",".join(modules), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    assert last.startswith("LOADED="), result.stderr[-2000:]
    return result, [m for m in last.removeprefix("LOADED=").split(",") if m]


async def pods_of(kube: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    pods = await kube.list("v1", "Pod", namespace)
    return [
        p
        for p in pods
        if p["metadata"]["name"].startswith(f"{name}-") and not p["metadata"].get("deletionTimestamp")
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions", [])
    )


def image_of(obj: dict[str, Any]) -> str:
    spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
    return str(spec["containers"][0]["image"])
