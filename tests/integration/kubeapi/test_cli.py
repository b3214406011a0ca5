"""``kumo sandbox kubeapi`` in the foreground, as a user runs it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.kubeapi.helpers import eventually, kubectl, kubectl_json

KUMO = str(Path(sys.executable).with_name("kumo"))


def test_foreground_command_writes_kubeconfig_and_serves(tmp_path: Path) -> None:
    kc = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            KUMO,
            "sandbox",
            "kubeapi",
            "--port",
            "0",
            "--kubeconfig",
            str(kc),
            "--seed",
            "1",
            "--ready-delay",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in first
        assert kc.exists()
        nodes = eventually(lambda: kubectl_json(str(kc), "get", "nodes")["items"])
        assert [n["metadata"]["name"] for n in nodes] == ["kumo-node-0", "kumo-node-1", "kumo-node-2"]
        assert "kumo-sandbox" in kubectl(str(kc), "config", "current-context").stdout
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(20)
    assert code == 0


def test_bad_flags_exit_2_without_traceback(tmp_path: Path) -> None:
    out = subprocess.run(
        [KUMO, "sandbox", "kubeapi", "--port", "70000", "--kubeconfig", str(tmp_path / "kc")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--port must be between 0 and 65535" in out.stderr
    assert "Traceback" not in out.stderr
    out = subprocess.run(
        [KUMO, "sandbox", "kubeapi", "--lb-mode", "gcp", "--kubeconfig", str(tmp_path / "kc")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "--lb-mode" in out.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        out = subprocess.run(
            [KUMO, "sandbox", "kubeapi", "--port", str(port), "--kubeconfig", str(tmp_path / "kc")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "Traceback" not in out.stderr


def test_json_output_for_scripts(tmp_path: Path) -> None:
    import json

    kc = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [KUMO, "sandbox", "kubeapi", "--kubeconfig", str(kc), "--no-simulate", "--output", "json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["url"].startswith("http://127.0.0.1:") and ready["kubeconfig"] == str(kc)
        assert kubectl_json(str(kc), "get", "nodes")["items"] == []  # no simulation, no nodes
    finally:
        proc.terminate()
        proc.wait(20)
