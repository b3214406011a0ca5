"""`kumo dns run` as a local process for deploy tests: a free port for its DNS server, and the
controller itself, started in `kumo-system` and stopped (killed if it hangs) when the test ends."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .conftest import KUMO

KUBECTL = str(Path(KUMO[0]).parent / "kubectl")


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1: the local provider serves DNS on both."""
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


def _lease_exists(kubeconfig: str) -> bool:
    lease = subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, "-n", "kumo-system", "get", "lease/kumo-dns"],
        capture_output=True,
    )
    return lease.returncode == 0


@contextmanager
def local_controller(
    kubeconfig: str, tmp_path: Path, args: Sequence[str], *, wait_for_lease: bool = False
) -> Iterator[str]:
    """`kumo dns run ARGS` with a local zone served on 127.0.0.1; yields HOST:PORT of that server.
    With wait_for_lease, returns once it leads: `kumo up` waits for names only while a controller is
    live."""
    port = free_udp_tcp_port()
    subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, "create", "namespace", "kumo-system"],
        check=True,
        capture_output=True,
    )
    with (tmp_path / "dns.log").open("w") as log:
        proc = subprocess.Popen(
            [
                *KUMO,
                "dns",
                "run",
                *args,
                f"--local-db={tmp_path / 'zone.db'}",
                f"--local-listen=127.0.0.1:{port}",
                "--interval=1s",
                "--metrics-address=",
                f"--kubeconfig={kubeconfig}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if wait_for_lease:
                for _ in range(200):
                    if _lease_exists(kubeconfig):
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
