"""The cloud tests use the DNS tests' moto server (one per session, reset before each test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from tests.integration.dns.conftest import Moto, aws, moto_server

__all__ = ["Moto", "aws", "moto_server"]

ROOT = Path(__file__).resolve().parents[3]
ONLINE_APP = ROOT / "examples" / "online-app" / "kumo.yaml"


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
