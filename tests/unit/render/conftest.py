"""Helpers for render tests: specs from YAML text, and picking objects out of a render."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kumo.spec import Spec, load_spec

SpecFactory = Callable[..., Spec]


def spec_text(
    cloud: str = "aws",
    endpoint: str = "",
    *,
    region: str | None = None,
    extra_service: str = "",
    dns: str = "",
    top: str = "",
    image: str = "nginx:1.27",
    port: int = 80,
    provider: str | None = None,
) -> str:
    regions = {"aws": "ap-northeast-1", "gcp": "asia-northeast1", "azure": "japaneast", "generic": None}
    region = region or regions[cloud]
    provider = provider or {"aws": "route53", "gcp": "webhook", "azure": "webhook", "generic": "local"}[cloud]
    if provider == "webhook":
        provider += "\n  webhook:\n    url: http://dns-webhook.kumo-system.svc:8888"
    text = f"app: shop\ntarget:\n  cloud: {cloud}\n"
    if region:
        text += f"  region: {region}\n"
    text += top
    text += f"dns:\n  zone: example.com\n  provider: {provider}\n  ownerId: shop-owner\n{dns}"
    text += f"services:\n  - name: web\n    image: {image}\n    port: {port}\n"
    text += "    endpoint:\n      hostname: www.example.com\n"
    text += textwrap.indent(textwrap.dedent(endpoint), "      ") if endpoint else ""
    text += extra_service
    return text


@pytest.fixture
def make_spec(tmp_path: Path) -> SpecFactory:
    def _make(*args: Any, **kwargs: Any) -> Spec:
        path = tmp_path / "kumo.yaml"
        path.write_text(spec_text(*args, **kwargs), encoding="utf-8")
        return load_spec(path)

    return _make


def pick(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def kinds(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]
