"""moto server over HTTP for the cloud tests: one per module, reset before each test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.dns.conftest import Moto, _stop, _wait_http, free_port

ROOT = Path(__file__).resolve().parents[3]
ONLINE_APP = ROOT / "examples" / "online-app" / "kumo.yaml"


@pytest.fixture(scope="module")
def moto_module() -> Iterator[Moto]:
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACM_VALIDATION_WAIT="1")
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
