"""The real ``kumo`` executable: schema, render and plan, bad input, and help texts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).parents[3]
SEED = ROOT / "examples/online-app/kumo.yaml"
KUMO = str(Path(sys.executable).parent / "kumo")


def kumo(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUMO, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={
            "PATH": str(Path(sys.executable).parent),
            "COLUMNS": "100",
            "NO_COLOR": "1",
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
        },
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "app: shop\ntarget:\n  cloud: aws\n  region: ap-northeast-1\nservices:\n"
            "  - name: web\n    image: nginx\n    replicas: -2\n",
            "kumo.yaml:8:15: services[0].replicas: expected a number >= 0, found -2",
        ),
        (
            "app: shop\ntarget:\n\tcloud: aws\n",
            "kumo.yaml:3:1: a tab is used for indentation; YAML allows only spaces",
        ),
        ("", "kumo.yaml:1:1: the file is empty"),
        ("app: shop\napp: shop\n", 'kumo.yaml:2:1: duplicate key "app"; each key may appear once'),
        (
            "app: shop\ntarget:\n  cloud: generic\nservices:\n  - name: web\n    imgae: nginx\n",
            "kumo.yaml:6:5: services[0].imgae: unknown key 'imgae'; did you mean 'image'?",
        ),
    ],
    ids=["negative-replicas", "tab", "empty", "duplicate-key", "did-you-mean"],
)
def test_bad_spec_exits_2_with_a_located_message_and_no_traceback(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "kumo.yaml").write_text(text)
    result = kumo("plan", "kumo.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert f"error: {expected}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "hint: Run `kumo schema`" in result.stderr
    assert result.stdout == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = kumo("render", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: nope.yaml: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_render_prints_a_yaml_stream() -> None:
    result = kumo("render", SEED)
    assert result.returncode == 0, result.stderr
    objects = list(YAML(typ="safe").load_all(result.stdout))
    assert [o["kind"] for o in objects][-4:] == ["Namespace", "Deployment", "Service", "NetworkPolicy"]
    service = objects[-2]
    assert service["spec"]["ports"][0] == {"name": "https", "port": 443, "targetPort": 80, "protocol": "TCP"}
    assert "note: ${kumo:aws-account-id}, ${kumo:acm-certificate-arn:nginx.example.com} are filled in" in (
        result.stderr
    )


def test_render_with_env_into_a_directory_and_check(tmp_path: Path) -> None:
    result = kumo("render", SEED, "--env", "staging", "--check", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 13
    deployment = YAML(typ="safe").load(
        (tmp_path / "out" / "11-online-app-staging-deployment-nginx.yaml").read_text()
    )
    assert deployment["spec"]["replicas"] == 1
    assert deployment["metadata"]["labels"]["kumo.dev/env"] == "staging"


def test_render_for_another_profile(tmp_path: Path) -> None:
    result = kumo(
        "render", ROOT / "examples/hello-generic/kumo.yaml", "--profile", "gcp", "--region", "asia-northeast1"
    )
    assert result.returncode == 0, result.stderr
    kinds = [o["kind"] for o in YAML(typ="safe").load_all(result.stdout)]
    ingress = next(o for o in YAML(typ="safe").load_all(result.stdout) if o["kind"] == "Ingress")
    assert "Ingress" in kinds and "ingressClassName" not in ingress["spec"]  # GKE reads the class annotation
    assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "gce"
    bad = kumo("render", SEED, "--profile", "openstack")
    assert bad.returncode == 2
    assert "--profile: expected aws, gcp, azure or generic, found 'openstack'" in bad.stderr
    incompatible = kumo("render", SEED, "--profile", "generic")
    assert incompatible.returncode == 2
    assert (
        "--profile generic: services[0].endpoint.tls: a load balancer Service on generic cannot"
        in incompatible.stderr
    )


def test_plan_text_shows_resources_objects_and_records() -> None:
    result = kumo("plan", SEED)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "kumo plan: app online-app on aws (ap-northeast-1), namespace online-app" in out
    assert "+ AWS::EKS::Nodegroup online-app-default" in out
    assert "t3.medium min 1 / max 1 / desired 1" in out
    assert "+ AWS::IAM::Role online-app-kumo-dns" in out
    assert "+ AWS::CertificateManager::Certificate nginx.example.com" in out
    assert "online-app (app)" in out and "Deployment/nginx" in out and "ClusterRole/kumo-dns" in out
    assert "nginx.example.com A ALIAS -> <load balancer address, known after apply>" in out
    assert "TXT a-nginx.example.com (ttl 300)" in out
    assert "TXT aaaa-nginx.example.com (ttl 300)" in out
    assert "${kumo:acm-certificate-arn:nginx.example.com}" in out


def test_plan_json_for_scripts() -> None:
    result = kumo("plan", SEED, "--env", "staging", "--output", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["apiVersion"] == "kumo.dev/plan/v1"
    assert data["env"] == "staging"
    assert data["namespace"] == "online-app-staging"
    assert [r["type"] for r in data["dns"]["records"]] == ["A", "AAAA", "TXT", "TXT"]


def test_schema_is_json() -> None:
    result = kumo("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "kumo.yaml"


@pytest.mark.parametrize(
    "command", [[], ["schema"], ["render"], ["plan"]], ids=["kumo", "schema", "render", "plan"]
)
def test_help_has_a_summary_and_an_example(command: list[str]) -> None:
    result = kumo(*command, "--help")
    assert result.returncode == 0
    lines = [line.strip(" │") for line in result.stdout.splitlines()]
    text = "\n".join(lines)
    assert "Example: kumo" in text
    summary = next(line for line in lines if line and not line.startswith("Usage"))
    assert summary.endswith(".") and len(summary) < 110


def test_every_command_in_the_tree_has_a_summary_and_an_example() -> None:
    import typer

    from kumo.cli.app import app

    def walk(command: Any, path: str) -> list[tuple[str, Any]]:
        found = [(path, command)]
        for name, sub in getattr(command, "commands", {}).items():  # a group (typer vendors click)
            found += walk(sub, f"{path} {name}")
        return found

    commands = walk(typer.main.get_command(app), "kumo")
    assert {"kumo schema", "kumo render", "kumo plan"} <= {path for path, _ in commands}
    for path, command in commands:
        text = command.help or ""
        summary = text.strip().splitlines()[0] if text.strip() else ""
        assert summary.endswith("."), f"{path}: no one-line summary"
        if not hasattr(command, "commands"):  # groups list their commands, which carry the examples
            assert "Example: kumo" in text, f"{path}: no Example"


def test_item02_deep_nesting_exits_2_without_a_traceback(tmp_path: Path) -> None:
    base = "app: shop\ntarget:\n  cloud: generic\nservices:\n  - name: web\n    image: nginx\n"
    (tmp_path / "kumo.yaml").write_text(base + "junk: " + "[" * 400 + "]" * 400 + "\n")
    result = kumo("render", "kumo.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: kumo.yaml:7:" in result.stderr and "nested more than 64 levels deep" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
