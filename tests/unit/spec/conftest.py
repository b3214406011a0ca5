"""Helpers for spec tests: write a kumo.yaml and load it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

BASE = """\
app: shop
target:
  cloud: aws
  region: ap-northeast-1
dns:
  zone: example.com
services:
  - name: web
    image: nginx:1.27
    replicas: 2
    port: 80
    endpoint:
      hostname: www.example.com
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def _write(text: str) -> Path:
        path = tmp_path / "kumo.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write
