"""moto server over HTTP for the cloud tests: one per module, reset before each test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.dns.conftest import Moto, _stop, _wait_http, free_port

ROOT = Path(__file__).resolve().parents[3]
ONLINE_APP = ROOT / "examples" / "online-app" / "kumo.yaml"


@pytest.fixture(scope="module")
def moto_module() -> Iterator[Moto]:
    port = free_port()
    env = dict(
        os.environ,
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        MOTO_ACM_VALIDATION_WAIT="1",
        MOTO_EC2_LOAD_DEFAULT_AMIS="false",  # kumo needs no AMI; loading them makes each reset slow
    )
    exe = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/moto-api/", proc)
        yield Moto(url)
    finally:
        _stop(proc)


@pytest.fixture
def aws(moto_module: Moto, monkeypatch: pytest.MonkeyPatch) -> Iterator[Moto]:
    """A clean moto and an environment that points boto3 (and kumo subprocesses) at it."""
    moto_module.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_module.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_module


def kumo(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """The kumo CLI as a subprocess, with the test's environment (AWS_ENDPOINT_URL at moto)."""
    full = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    exe = str(Path(sys.executable).parent / "kumo")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout, env=full)


class WriteCounter:
    """Counts the AWS calls that are not reads, through botocore's before-call event on a session."""

    READS = ("Describe", "Get", "List")

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.calls: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)
        if not model.name.startswith(self.READS):
            self.writes.append(model.name)


def counted_session() -> tuple[boto3.session.Session, WriteCounter]:
    session = boto3.session.Session()
    counter = WriteCounter()
    session.events.register("before-call.*.*", counter)
    return session, counter


def spec_variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """examples/online-app/kumo.yaml with some text replaced, written under tmp_path."""
    text = ONLINE_APP.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "kumo.yaml"
    path.write_text(text)
    return path


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line containing ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
