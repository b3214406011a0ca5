"""kumo's resident server (kumo.cli.server): the real ``kumo`` executable, cold and served.

Each test has its own runtime directory (XDG_RUNTIME_DIR), so its server is its own, and stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kumo.cli import served

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[3]
EXAMPLE = ROOT / "examples/hello-generic/kumo.yaml"
KUMO = str(Path(sys.executable).parent / "kumo")


class Cli:
    """``kumo`` with one runtime directory; ``cold=True`` runs without a server."""

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "NO_COLOR": "1", "COLUMNS": "100"}
        self.env.pop("KUMO_SERVER", None)

    def run(
        self, *args: str | Path, cold: bool = False, cwd: Path = ROOT, **env: str
    ) -> subprocess.CompletedProcess[str]:
        full = {**self.env, **env, **({"KUMO_SERVER": "off"} if cold else {})}
        return subprocess.run(
            [KUMO, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=full, timeout=120
        )

    def popen(self, *args: str | Path, cold: bool = False, job: bool = False) -> subprocess.Popen[str]:
        """``job``: in a process group of its own, as a shell starts a job (a group whose parent is
        in another group of the session, so that the kernel stops it on SIGTSTP; it ignores that
        signal in an orphaned group, as pytest's may be under a CI runner)."""
        env = {**self.env, **({"KUMO_SERVER": "off"} if cold else {})}
        return subprocess.Popen(
            [KUMO, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            process_group=0 if job else None,
        )

    def servers(self) -> list[dict[str, Any]]:
        result = self.run("server", "status", "--output", "json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout)["servers"])

    def wait_for_server(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = [s for s in self.servers() if s["current"]]
            if current and Path(current[0]["socket"]).exists():
                return current[0]
            time.sleep(0.1)
        raise AssertionError(f"no server started in {self.runtime}: {os.listdir(self.runtime)}")

    def commands_served(self) -> int:
        return int(next(s for s in self.servers() if s["current"])["commands"])


@pytest.fixture
def cli() -> Iterator[Cli]:
    # Short: a Unix socket's path has at most 107 bytes, and pytest's tmp_path can be longer.
    runtime = Path(tempfile.mkdtemp(prefix="kumo-srv-"))
    tool = Cli(runtime)
    yield tool
    tool.run("server", "stop")
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def served_cli(cli: Cli) -> Cli:
    """A Cli whose server is up: the first served command (cold) starts it."""
    assert cli.run("render", EXAMPLE).returncode == 0
    cli.wait_for_server()
    return cli


class SilentApi:
    """A TCP server that accepts and never answers: a command talking to it waits until stopped.
    ``closed`` is set when the client's connection goes away."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connected = threading.Event()
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        self.connected.set()
        while conn.recv(65536):
            pass
        self.closed.set()

    def kubeconfig(self, directory: Path) -> Path:
        port = self.listener.getsockname()[1]
        path = directory / "kubeconfig"
        path.write_text(
            f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u, namespace: default}}}}]
current-context: c
"""
        )
        return path


def test_the_first_served_command_starts_a_server_and_the_next_ones_run_in_it(cli: Cli) -> None:
    first = cli.run("render", EXAMPLE)
    assert first.returncode == 0, first.stderr
    server = cli.wait_for_server()
    assert server["commands"] == 0
    assert Path(server["socket"]).parent == cli.runtime / "kumo"
    assert (os.stat(server["socket"]).st_mode & 0o777) == 0o600
    second = cli.run("render", EXAMPLE)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert cli.commands_served() == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("render", "examples/hello-generic/kumo.yaml"), 0),
        (("plan", "examples/online-app/kumo.yaml", "--output", "json"), 0),
        (("render", "missing.yaml"), 2),
        (("render", "examples/hello-generic/kumo.yaml", "--no-such-option"), 2),
        (("up", "--help"), 0),
    ],
)
def test_a_served_command_prints_and_exits_as_a_cold_one(
    served_cli: Cli, args: tuple[str, ...], code: int
) -> None:
    cold = served_cli.run(*args, cold=True)
    before = served_cli.commands_served()
    warm = served_cli.run(*args)
    assert served_cli.commands_served() == before + 1
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.returncode == code, warm.stderr


def test_the_child_has_the_clients_directory_and_environment(served_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "kumo.yaml").write_text(EXAMPLE.read_text())
    missing = tmp_path / "no-such-kubeconfig"
    result = served_cli.run("status", "kumo.yaml", cwd=tmp_path, KUBECONFIG=str(missing))
    assert result.returncode == 2, result.stderr
    assert f"no kubeconfig found (looked at {missing})" in result.stderr
    assert served_cli.commands_served() == 1


def test_interrupt_reaches_the_command_in_the_server(served_cli: Cli, tmp_path: Path) -> None:
    outcomes = []
    for cold in (True, False):
        api = SilentApi()
        before = served_cli.commands_served()
        process = served_cli.popen("status", EXAMPLE, "--kubeconfig", api.kubeconfig(tmp_path), cold=cold)
        assert api.connected.wait(30), "the command never reached the API"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert api.closed.wait(10)
        assert served_cli.commands_served() == before + (0 if cold else 1)
        outcomes.append((process.returncode, out, err))
    assert outcomes[0][0] == 130
    assert outcomes[0][2].strip().splitlines()[-1] == "interrupted"
    assert outcomes[1] == outcomes[0]


def test_a_killed_client_takes_its_command_with_it(served_cli: Cli, tmp_path: Path) -> None:
    api = SilentApi()
    process = served_cli.popen("status", EXAMPLE, "--kubeconfig", api.kubeconfig(tmp_path))
    assert api.connected.wait(30), "the command never reached the API"
    process.kill()
    process.wait(timeout=10)
    # The child in the server noticed its client is gone and died: its connection to the API closed.
    assert api.closed.wait(10), "the command went on without its client"


def test_a_terminated_client_ends_as_a_cold_one_would(served_cli: Cli, tmp_path: Path) -> None:
    api = SilentApi()
    process = served_cli.popen("status", EXAMPLE, "--kubeconfig", api.kubeconfig(tmp_path))
    assert api.connected.wait(30), "the command never reached the API"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGTERM
    assert api.closed.wait(10)


def test_switched_off_no_server_is_started(cli: Cli) -> None:
    for _ in range(2):
        assert cli.run("render", EXAMPLE, cold=True).returncode == 0
    time.sleep(1)
    assert cli.servers() == []
    assert not any(name.endswith(".sock") for name in os.listdir(cli.runtime / "kumo"))


def test_commands_that_own_their_process_are_never_served(served_cli: Cli) -> None:
    result = served_cli.run("dns", "run", "--help")
    assert result.returncode == 0
    assert served_cli.commands_served() == 0


def test_a_runtime_directory_others_can_write_is_not_used(tmp_path: Path) -> None:
    runtime = tmp_path / "open"
    runtime.mkdir()
    (runtime / "kumo").mkdir(mode=0o777)
    os.chmod(runtime / "kumo", 0o777)
    cli = Cli(runtime)
    first = cli.run("render", EXAMPLE)
    assert first.returncode == 0, first.stderr
    time.sleep(1.5)
    assert os.listdir(runtime / "kumo") == []
    status = cli.run("server", "status")
    assert status.returncode == 1
    assert "no usable runtime directory" in status.stderr


def test_an_idle_server_exits(cli: Cli) -> None:
    assert cli.run("render", EXAMPLE, KUMO_SERVER_IDLE="1").returncode == 0
    deadline = time.monotonic() + 30
    seen = False
    while time.monotonic() < deadline:
        servers = cli.servers()
        seen = seen or bool(servers)
        if seen and not servers:
            break
        time.sleep(0.2)
    assert seen and cli.servers() == []
    assert not any(name.endswith(".sock") for name in os.listdir(cli.runtime / "kumo"))


def test_stop_stops_the_server(served_cli: Cli) -> None:
    result = served_cli.run("server", "stop", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["stopped"]) == 1
    assert served_cli.servers() == []
    # The next command runs cold (and starts a new server).
    assert served_cli.run("render", EXAMPLE).returncode == 0


def test_the_fingerprint_follows_the_code_and_the_import_time_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "kumo"
    (package / "cli").mkdir(parents=True)
    (package / "cli" / "app.py").write_text("x = 1\n")
    monkeypatch.setattr(served, "_PACKAGE", str(package))
    first = served.fingerprint()
    assert served.fingerprint() == first
    (package / "cli" / "app.py").write_text("x = 22\n")
    changed = served.fingerprint()
    assert changed != first
    monkeypatch.setenv("LC_ALL", "C")
    assert served.fingerprint() != changed


def test_a_served_command_loads_nothing_but_the_client_in_its_own_process(served_cli: Cli) -> None:
    probe = (
        "import atexit, sys\n"
        f"sys.path[0] = {str(Path(KUMO).parent)!r}  # as in the kumo script: the server's sys.path\n"
        "watched = ('kumo', 'typer', 'pydantic', 'httpx2', 'yaml', 'ruamel', 'rich')\n"
        "atexit.register(lambda: print('LOADED=' + ','.join(sorted(m for m in sys.modules"
        " if m.split('.')[0] in watched)), file=sys.stderr))\n"
        f"sys.argv = ['kumo', 'render', {str(EXAMPLE)!r}]\n"
        "from kumo.cli import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=served_cli.env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert served_cli.commands_served() == 1
    loaded = result.stderr.strip().splitlines()[-1].removeprefix("LOADED=").split(",")
    assert loaded == ["kumo", "kumo.cli", "kumo.cli.areas", "kumo.cli.launcher", "kumo.cli.served"]


def test_a_stopped_client_stops_its_command_and_continues_it(served_cli: Cli, tmp_path: Path) -> None:
    api = SilentApi()
    process = served_cli.popen("status", EXAMPLE, "--kubeconfig", api.kubeconfig(tmp_path), job=True)
    assert api.connected.wait(30), "the command never reached the API"
    child = _child_of_server(served_cli)
    process.send_signal(signal.SIGTSTP)  # what Ctrl-Z sends
    assert _wait_for_state(process.pid, "T") and _wait_for_state(child, "T")
    process.send_signal(signal.SIGCONT)
    assert _wait_for_state(child, "SR")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130


def _child_of_server(cli: Cli) -> int:
    server = next(s for s in cli.servers() if s["current"])
    children = Path(f"/proc/{server['pid']}/task/{server['pid']}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _wait_for_state(pid: int, states: str, timeout: float = 10) -> bool:
    """Whether the process reaches one of ``states`` (letters of /proc/PID/stat) in ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces, so split after its ')'.
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in states:
            return True
        time.sleep(0.05)
    return False
