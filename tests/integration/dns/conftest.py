"""Real peers for the DNS tests: moto server (Route 53), BIND9 (RFC 2136) and kumo's local DNS server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lb_service(
    name: str, host: str, address: dict[str, str], prefix: str = "external-dns.alpha.kubernetes.io/"
) -> dict[str, object]:
    """A LoadBalancer Service named ``host`` by annotation, its load balancer at ``address``."""
    return {
        "metadata": {"name": name, "namespace": "default", "annotations": {f"{prefix}hostname": host}},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [address]}},
    }


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@dataclass
class Moto:
    url: str

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=60).read()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Moto]:
    port = free_port()
    env = dict(
        os.environ,
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        MOTO_ACM_VALIDATION_WAIT="1",
        MOTO_EC2_LOAD_DEFAULT_AMIS="false",  # kumo needs no AMI; loading them makes each reset slow
    )
    exe = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/moto-api/", proc)
        yield Moto(url)
    finally:
        _stop(proc)


@pytest.fixture
def aws(moto_server: Moto, monkeypatch: pytest.MonkeyPatch) -> Iterator[Moto]:
    """A clean moto and an environment that points boto3 (and kumo subprocesses) at it."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_server


def find_exe(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError(f"{name} not found: scripts/setup.sh installs bind9, bind9-utils and bind9-dnsutils")


@dataclass
class Bind:
    port: int
    zone: str
    key_name: str
    secret: str
    algorithm: str = "hmac-sha256"


ZONE = "bind.test"


def _tsig_key(key_name: str) -> tuple[str, str]:
    out = subprocess.run(
        [find_exe("tsig-keygen"), "-a", "hmac-sha256", key_name],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    secret = out.stdout.split('secret "', 1)[1].split('"', 1)[0]
    return out.stdout, secret


@pytest.fixture
def bind9(tmp_path: Path) -> Iterator[Bind]:
    """A real BIND9 (``named -g``) on a free loopback port, authoritative for ``bind.test`` with TSIG."""
    with start_bind(tmp_path) as server:
        yield server


@contextlib.contextmanager
def start_bind(
    tmp_path: Path, zone: str = ZONE, key_name: str = "kumo-key", secret: str = ""
) -> Iterator[Bind]:
    """BIND9 authoritative for ``zone``, updates and transfers allowed with the TSIG key (hmac-sha256)."""
    ZONE = zone
    if secret:
        key_conf = f'key "{key_name}" {{\n\talgorithm hmac-sha256;\n\tsecret "{secret}";\n}};\n'
    else:
        key_conf, secret = _tsig_key(key_name)
    port = free_port()
    (tmp_path / "key.conf").write_text(key_conf)
    (tmp_path / f"{ZONE}.zone").write_text(
        f"$TTL 300\n@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 60\n"
        f"@ IN NS ns1.{ZONE}.\nns1 IN A 127.0.0.1\n"
    )
    (tmp_path / "named.conf").write_text(
        f"""
include "{tmp_path}/key.conf";
options {{
    directory "{tmp_path}";
    pid-file "{tmp_path}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    allow-query {{ any; }};
}};
controls {{ }};
zone "{ZONE}" {{
    type primary;
    file "{tmp_path}/{ZONE}.zone";
    allow-update {{ key {key_name}; }};
    allow-transfer {{ key {key_name}; }};
}};
"""
    )
    log = open(tmp_path / "named.log", "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(
        [find_exe("named"), "-g", "-c", str(tmp_path / "named.conf")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60  # named starts in well under a second, unless the machine is loaded
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"named exited: {(tmp_path / 'named.log').read_text()[-2000:]}")
            probe = subprocess.run(
                [
                    find_exe("dig"),
                    "+short",
                    "+time=1",
                    "+tries=1",
                    "-p",
                    str(port),
                    "@127.0.0.1",
                    f"ns1.{ZONE}",
                    "A",
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if probe.stdout.strip() == "127.0.0.1":
                break
            if time.monotonic() > deadline:
                raise RuntimeError("named did not answer within 60s")
            time.sleep(0.1)
        yield Bind(port, ZONE, key_name, secret)
    finally:
        _stop(proc)
        log.close()


def dig(port: int, name: str, rtype: str = "A", tcp: bool = False) -> list[str]:
    # two tries of 5s: one slow or lost UDP answer on a loaded machine is not a failure
    args = [find_exe("dig"), "+short", "+time=5", "+tries=2", "-p", str(port), "@127.0.0.1", name, rtype]
    if tcp:
        args.insert(1, "+tcp")
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60)
    return sorted(line for line in out.stdout.splitlines() if line)
