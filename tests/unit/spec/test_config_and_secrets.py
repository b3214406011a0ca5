"""Configuration and secrets in the spec: env from Secret/ConfigMap keys, envFrom, files through a
hashed ConfigMap, CPU as a number; every field described; docs/spec.md generated from the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kumo.cli.app import app
from kumo.errors import SpecError
from kumo.render import render_app, validate_objects
from kumo.spec import field_reference, json_schema, load_spec

ROOT = Path(__file__).resolve().parents[3]
SPEC = """app: cfg
target:
  cloud: generic
services:
  - name: web
    image: nginx:1.27
    env:
      API_URL: http://api:8080
      DB_PASSWORD: {secret: db, key: password}
      FLAG: {configMap: flags, key: feature, optional: true}
    envFrom:
      - configMap: settings
      - secret: db-env
        prefix: DB_
    files:
      /etc/app/config.json: conf/app.json
    resources:
      requests: {cpu: 0.5, memory: 64Mi}
  - name: api
    image: nginx:1.27
    port: 8080
"""


def write(tmp_path: Path, text: str = SPEC, config: str = '{"a": 1}\n') -> Path:
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "conf" / "app.json").write_text(config)
    path = tmp_path / "kumo.yaml"
    path.write_text(text)
    return path


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def web_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (web,) = [o for o in by_kind(objects, "Deployment") if o["metadata"]["name"] == "web"]
    container: dict[str, Any] = web["spec"]["template"]["spec"]["containers"][0]
    return container


def test_env_reads_keys_of_secrets_and_config_maps_and_env_from_loads_them_whole(tmp_path: Path) -> None:
    objects = render_app(load_spec(write(tmp_path)))
    container = web_container(objects)
    env = {e["name"]: e for e in container["env"]}
    assert env["API_URL"] == {"name": "API_URL", "value": "http://api:8080"}
    assert env["DB_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert env["FLAG"]["valueFrom"] == {
        "configMapKeyRef": {"name": "flags", "key": "feature", "optional": True}
    }
    assert container["envFrom"] == [
        {"configMapRef": {"name": "settings"}},
        {"prefix": "DB_", "secretRef": {"name": "db-env"}},
    ]
    assert container["resources"]["requests"]["cpu"] == "0.5"  # a number, as Kubernetes accepts it
    # No Secret is ever rendered from the spec: they are only referred to.
    assert by_kind(objects, "Secret") == []
    assert validate_objects(objects) == []


def test_files_travel_in_a_config_map_named_by_their_content(tmp_path: Path) -> None:
    objects = render_app(load_spec(write(tmp_path)))
    (config_map,) = by_kind(objects, "ConfigMap")
    name = config_map["metadata"]["name"]
    assert name.startswith("web-files-")
    assert config_map["data"] == {"etc_app_config.json": '{"a": 1}\n'}
    container = web_container(objects)
    assert {
        "name": "kumo-files",
        "mountPath": "/etc/app/config.json",
        "subPath": "etc_app_config.json",
        "readOnly": True,
    } in container["volumeMounts"]
    (web,) = [o for o in by_kind(objects, "Deployment") if o["metadata"]["name"] == "web"]
    volumes = web["spec"]["template"]["spec"]["volumes"]
    assert {"name": "kumo-files", "configMap": {"name": name}} in volumes
    # Another content, another name: the Pod template changes, so the Deployment rolls.
    changed = render_app(load_spec(write(tmp_path, config='{"a": 2}\n')))
    assert by_kind(changed, "ConfigMap")[0]["metadata"]["name"] != name
    # The same content gives the same name (no roll on an unrelated change).
    again = render_app(load_spec(write(tmp_path, config='{"a": 1}\n')))
    assert by_kind(again, "ConfigMap")[0]["metadata"]["name"] == name


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("/etc/app/config.json: conf/app.json", "no file"),  # replaced below by a missing file
        ("/etc/app/config.json: ../../etc/passwd", "inside its directory"),
        ("etc/app.json: conf/app.json", "absolute file path"),
    ],
)
def test_bad_files_are_located(tmp_path: Path, change: str, expected: str) -> None:
    text = SPEC.replace("/etc/app/config.json: conf/app.json", change)
    path = write(tmp_path, text)
    if expected == "no file":
        (tmp_path / "conf" / "app.json").unlink()
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert f"{path}:16:" in caught.value.message
    assert expected in caught.value.message


def test_a_value_from_names_exactly_one_source(tmp_path: Path) -> None:
    text = SPEC.replace("{secret: db, key: password}", "{secret: db, configMap: x, key: password}")
    with pytest.raises(SpecError) as caught:
        load_spec(write(tmp_path, text))
    assert f"{tmp_path / 'kumo.yaml'}:9:" in caught.value.message
    assert "exactly one of secret or configMap" in caught.value.message


def test_new_fields_are_described_in_the_schema() -> None:
    definitions = json_schema()["$defs"]
    for model in ("Service", "ValueFrom", "EnvFrom", "Resources"):
        for name, field in definitions[model]["properties"].items():
            assert field.get("description"), f"{model}.{name} has no description"


def test_docs_spec_md_is_generated_from_the_schema() -> None:
    current = (ROOT / "docs" / "spec.md").read_text()
    assert current == field_reference(), "run: kumo schema --format markdown > docs/spec.md"
    printed = CliRunner().invoke(app, ["schema", "--format", "markdown"])
    assert printed.exit_code == 0 and printed.output == current
