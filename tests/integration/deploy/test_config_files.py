"""A changed file rolls the Deployment (new hashed ConfigMap); the old one is pruned; diff stays clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kumo.deploy import DeployOptions, diff_release, load_release, up
from kumo.kube import KubeClient

pytestmark = pytest.mark.integration

SPEC = """app: cfg
target:
  cloud: generic
services:
  - name: web
    image: nginx:1.27
    replicas: 1
    env:
      DB_PASSWORD: {secret: db, key: password}
    envFrom:
      - configMap: settings
    files:
      /etc/app/config.json: app.json
    resources:
      requests: {cpu: 0.5, memory: 64Mi}
"""


async def test_a_changed_file_rolls_the_deployment(
    tmp_path: Path, options: DeployOptions, kube: KubeClient
) -> None:
    await kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cfg"}})
    await kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "cfg"},
            "stringData": {"password": "s3cret"},
        }
    )
    await kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "cfg"},
            "data": {"MODE": "a"},
        }
    )
    (tmp_path / "kumo.yaml").write_text(SPEC)
    (tmp_path / "app.json").write_text('{"v": 1}\n')
    first = await up(load_release(tmp_path / "kumo.yaml", None), options)
    assert not (await diff_release(load_release(tmp_path / "kumo.yaml", None), options)).changed

    def config_maps(result: Any) -> set[str]:
        return {r.name for r in result.applied if r.kind == "ConfigMap"}

    (old,) = config_maps(first)
    (tmp_path / "app.json").write_text('{"v": 2}\n')
    second = await up(load_release(tmp_path / "kumo.yaml", None), options)
    (new,) = config_maps(second)
    assert new != old
    assert {(r.kind, r.name) for r in second.pruned} == {("ConfigMap", old)}
    assert second.actions[next(r for r in second.applied if r.kind == "Deployment")] == "configured"
    deployment = await kube.get("apps/v1", "Deployment", "web", "cfg")
    assert deployment is not None
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "kumo-files", "configMap": {"name": new}} in volumes
    assert not (await diff_release(load_release(tmp_path / "kumo.yaml", None), options)).changed
