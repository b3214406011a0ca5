"""What a user sees: per-object actions, history with images, status by release revision, output that
is not hard-wrapped into a pipe, --version, completion, no pointless wait for a name, aws placeholders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kumo.deploy import DeployOptions, load_release, up

from .conftest import KUMO, ROOT, SpecFile, kumo
from .test_diff_clean import FACTS

pytestmark = pytest.mark.integration


def kumo_piped(*args: str) -> subprocess.CompletedProcess[str]:
    """kumo into a pipe, with no COLUMNS set: what a CI log or `| grep` gets."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["NO_COLOR"] = "1"
    return subprocess.run([*KUMO, *args], capture_output=True, text=True, timeout=120, env=env)


def test_version_and_completion() -> None:
    version = kumo("--version", check=True)
    assert version.stdout.startswith("kumo ")
    assert "Kubernetes 1.29 to 1.33" in version.stdout
    assert "--install-completion" in kumo("--help", check=True).stdout
    env = {**os.environ, "_KUMO_COMPLETE": "complete_bash", "COMP_WORDS": "kumo ro", "COMP_CWORD": "1"}
    completed = subprocess.run(KUMO, capture_output=True, text=True, timeout=60, env=env)
    assert completed.stdout.split() == ["rollback"]


def test_up_says_what_changed_history_shows_images_status_uses_the_release_revision(
    spec: SpecFile, kubeapi: Any
) -> None:
    base = ["--kubeconfig", kubeapi.kubeconfig, "--dns-timeout", "0"]
    first = kumo("up", str(spec.path), *base, check=True)
    assert "deployment/web (hello) created" in first.stderr
    again = kumo("up", str(spec.path), *base, "--output", "json", check=True)
    actions = {(a["kind"], a["action"]) for a in json.loads(again.stdout)["applied"]}
    assert actions == {
        ("Namespace", "unchanged"),
        ("Service", "unchanged"),
        ("Deployment", "unchanged"),
        ("NetworkPolicy", "unchanged"),
    }
    spec.write(image="nginx:1.28")
    third = kumo("up", str(spec.path), *base, check=True)
    assert "deployment/web (hello) configured" in third.stderr
    assert "service/web (hello) unchanged" in third.stderr
    assert "(1 configured, 3 unchanged, 0 pruned)" in third.stdout

    history = kumo_piped("history", str(spec.path), "--kubeconfig", kubeapi.kubeconfig)
    lines = history.stdout.splitlines()
    assert "IMAGES" in lines[0]
    # One line per revision, however long, since stdout is not a terminal.
    assert len(lines) == 4, history.stdout
    assert "nginx:1.27" in lines[1] and "nginx:1.28" in lines[3]

    status = kumo_piped("status", str(spec.path), "--kubeconfig", kubeapi.kubeconfig)
    assert "revision 3 deployed by" in status.stdout
    assert "rollout rev" not in status.stdout  # the Deployment's own counter is not the release's
    assert "current nginx:1.28" in status.stdout


def test_up_does_not_wait_for_a_name_no_controller_will_publish(spec: SpecFile, kubeapi: Any) -> None:
    result = kumo(
        "up", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, "--dns-timeout", "600", "--output", "json"
    )
    assert result.returncode == 0, result.stderr
    assert "no DNS controller is running" in result.stderr
    assert f"kumo dns run -f {spec.path}" in result.stderr
    assert "waiting for web.hello.sandbox.test" not in result.stderr
    assert json.loads(result.stdout)["dns"]["web.hello.sandbox.test"]["resolves"] is False


def test_read_only_commands_on_aws_say_what_is_missing_and_show_the_rest(
    kubeapi: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No AWS account answers (a closed port), as before the cloud step or without credentials.
    for name, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    path = ROOT / "examples" / "online-app" / "kumo.yaml"
    base = ["--kubeconfig", kubeapi.kubeconfig]
    options = DeployOptions(kubeconfig=kubeapi.kubeconfig, timeout=60, dns_timeout=0, lock_timeout=30)
    import asyncio

    asyncio.run(up(load_release(path, None, FACTS), options))  # as after the cloud step
    status = kumo("status", str(path), *base)
    assert status.returncode == 0, status.stderr
    assert "${kumo:aws-account-id}" in status.stderr and "not filled in yet" in status.stderr
    assert "revision 1 deployed by" in status.stdout
    history = kumo("history", str(path), *base, "--output", "json")
    assert history.returncode == 0 and json.loads(history.stdout)["revisions"][0]["revision"] == 1
    diff = kumo("diff", str(path), *base)
    assert diff.returncode == 0, diff.stderr
    assert "? Service nginx in online-app (skipped: holds values the cloud step fills)" in diff.stdout
    assert "no differences in what could be compared" in diff.stdout
    gated = kumo("diff", str(path), *base, "--exit-code")
    assert gated.returncode == 3, gated.stdout + gated.stderr  # no verdict without every value
    assert "could not compare everything" in gated.stderr


def test_dns_run_takes_its_settings_from_the_spec(tmp_path: Path) -> None:
    # --help explains it; a bad spec is named; a spec without dns is refused with exit 2.
    assert "-f" in kumo("dns", "run", "--help", check=True).stdout
    nodns = tmp_path / "kumo.yaml"
    nodns.write_text("app: x\ntarget:\n  cloud: generic\nservices:\n  - name: web\n    image: nginx\n")
    refused = kumo("dns", "run", "-f", str(nodns), "--once")
    assert refused.returncode == 2 and "has no dns section" in refused.stderr
