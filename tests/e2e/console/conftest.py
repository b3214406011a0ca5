"""One emulator, one deploy of examples/hello-generic, one DNS controller and one `kumo console`
(as the child process the sandbox starts) for this package; Chromium from Debian through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "hello-generic" / "kumo.yaml"
KUMO = str(Path(sys.executable).parent / "kumo")
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
CHROMIUM = "/usr/bin/chromium"
#: Where screenshots go; the README's are copies of a run's.
ARTIFACTS = Path(os.environ.get("KUMO_ARTIFACTS", ROOT / "build" / "artifacts")) / "console"
#: Generous bound for the browser to show a change; the benchmark measures the real latency.
SHOWN = 15_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def wait_until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class ConsoleRun:
    url: str  # the printed URL, with ?token=
    base: str
    token: str
    kubeconfig: str
    dns_url: str

    def kubectl(self, *args: str) -> str:
        return run(KUBECTL, "--kubeconfig", self.kubeconfig, *args).stdout

    http: httpx.Client

    def api(self, path: str) -> Any:
        response = self.http.get(path, headers={"Authorization": f"Bearer {self.token}"})
        response.raise_for_status()
        return response.json()


def _start(args: list[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, env={**os.environ, "NO_COLOR": "1"}
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="package")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRun]:
    tmp = tmp_path_factory.mktemp("console")
    with KubeAPI(
        kubeconfig=tmp / "kubeconfig", seed=0, controllers=simulation(pod_ready_delay=0.2, lb_delay=0.05)
    ) as api:
        run(KUMO, "up", str(EXAMPLE), "--kubeconfig", api.kubeconfig, "--dns-timeout", "0")
        metrics_port = free_port()
        dns = _start(
            [
                KUMO, "dns", "run", "--source", "ingress", "--provider", "local",
                "--domain-filter", "sandbox.test", "--txt-owner-id", "kumo-sandbox",
                "--local-db", str(tmp / "zone.db"), "--local-zone", "sandbox.test",
                "--local-listen", f"127.0.0.1:{free_port()}", "--interval", "1s",
                "--metrics-address", f"127.0.0.1:{metrics_port}", "--kubeconfig", api.kubeconfig,
            ],
            tmp / "dns.log",
        )  # fmt: skip
        dns_url = f"http://127.0.0.1:{metrics_port}/status.json"
        proc = _start(
            [
                KUMO, "console", "--kubeconfig", api.kubeconfig, "--address", "127.0.0.1:0",
                "--dns-status-url", dns_url, "--metrics-interval", "1",
            ],
            tmp / "console.log",
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("console: http://127.0.0.1:"), (line, (tmp / "console.log").read_text())
            url = line.removeprefix("console: ")
            base, _, token = url.partition("/?token=")
            wait_until(lambda: httpx.get(base + "/healthz").status_code == 200, "the console to sync")
            with httpx.Client(base_url=base, timeout=10) as http:
                yield ConsoleRun(url, base, token, api.kubeconfig, dns_url, http)
        finally:
            _stop(proc)
            _stop(dns)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; never a downloaded browser.

    Started and stopped with this package (not pytest-playwright's session-wide browser): sync
    Playwright keeps an event loop running in the main thread while it lives, which would break
    every pytest-asyncio test that runs after it.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
