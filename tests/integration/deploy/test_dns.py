"""kumo up waits for the name, as published by kumo's own DNS controller (`kumo dns run`, provider local)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kumo.deploy.dnscheck import resolve

from .conftest import KUMO, SpecFile, kumo

pytestmark = pytest.mark.integration
KUBECTL = str(Path(KUMO[0]).parent / "kubectl")


def free_udp_tcp_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port


@pytest.fixture
def dns_controller(kubeapi: Any, spec: SpecFile, tmp_path: Path) -> Iterator[str]:
    """The DNS controller, run locally from the spec (`kumo dns run -f`), serving the zone on 127.0.0.1;
    yields HOST:PORT. It leads through the add-on's Lease, which is how `kumo up` knows it is live."""
    port = free_udp_tcp_port()
    subprocess.run(
        [KUBECTL, "--kubeconfig", kubeapi.kubeconfig, "create", "namespace", "kumo-system"],
        check=True,
        capture_output=True,
    )
    log = (tmp_path / "dns.log").open("w")
    proc = subprocess.Popen(
        [
            *KUMO,
            "dns",
            "run",
            "-f",
            str(spec.path),
            "--interval=1s",
            f"--local-db={tmp_path / 'zone.db'}",
            f"--local-listen=127.0.0.1:{port}",
            "--metrics-address=",
            f"--kubeconfig={kubeapi.kubeconfig}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(200):  # until it leads: `kumo up` waits for names only while a controller is live
            lease = subprocess.run(
                [KUBECTL, "--kubeconfig", kubeapi.kubeconfig, "-n", "kumo-system", "get", "lease/kumo-dns"],
                capture_output=True,
            )
            if lease.returncode == 0:
                break
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


async def test_up_waits_for_the_name_and_down_lets_the_controller_remove_it(
    spec: SpecFile, kubeapi: Any, dns_controller: str, tmp_path: Path
) -> None:
    base = ["--kubeconfig", kubeapi.kubeconfig, "--dns-server", dns_controller]
    result = kumo("up", str(spec.path), *base, "--dns-timeout", "60", "--output", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    answers = out["dns"]["web.hello.sandbox.test"]
    assert answers["resolves"] is True, result.stderr
    assert answers["answers"][0].endswith(".elb.amazonaws.com")
    assert "web.hello.sandbox.test resolves to" in result.stderr
    status = json.loads(kumo("status", str(spec.path), *base, "--output", "json", check=True).stdout)
    assert status["dns"][0]["state"].startswith("resolves to ")
    kumo("down", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, check=True)
    # The controller notices the Service is gone and deletes the record it owns.
    for _ in range(60):
        if not await resolve("web.hello.sandbox.test", dns_controller):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the record was not removed after kumo down")
    # The controller logs each record it writes, at info level.
    logged = (tmp_path / "dns.log").read_text()
    assert 'level=info msg="created web.hello.sandbox.test CNAME' in logged, logged
    assert 'level=info msg="deleted web.hello.sandbox.test CNAME' in logged, logged
