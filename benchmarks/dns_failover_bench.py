"""DNS controller leader failover: how long after the leader dies does the standby lead and publish.

Starts the Kubernetes API emulator (simulation on, so LoadBalancer Services get ELB hostnames) and
two real ``kumo dns run --leader-elect --provider=local`` processes sharing one SQLite zone, each
with its own embedded DNS server port. Each run SIGKILLs the process that holds the Lease (no
release, as a crashed node), creates a Service right after, and measures from the kill:

- ``takeover_s``: until the standby holds the Lease (its ``acquireTime``; same host, same clock);
- ``published_s``: until the new Service's record is answered by the new leader's DNS server
  (dnspython over UDP, from this process);
- ``lb_address_s``: until the emulator gave the Service its load balancer hostname (part of
  ``published_s`` that is not the controller's).

A replacement standby is started after each run, so every run has a warm standby; each kill comes
after a random delay (0 to one lease duration, ``--seed``). Prints one JSON document with each run,
p50/max, the lease duration and takeover/lease-duration. The holder renews every duration/3 and
a standby tries again right when the Lease it read expires, so a takeover comes 2/3 to 1 lease
duration after a kill (ratio <= 1, plus the time of one API call).

Usage: .venv/bin/python benchmarks/dns_failover_bench.py [--runs 5] [--lease-duration 3] [--seed 1]
Everything listens on 127.0.0.1; every wait is bounded; the processes are stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import httpx

from kumo.kube import KubeClient, connect
from kumo.kube.timefmt import parse_time
from kumo.sandbox.kubeapi import KubeAPIProcess

ZONE = "failover.test"
LEASE = "kumo-dns-failover"
NAMESPACE = "default"
H = "external-dns.alpha.kubernetes.io/hostname"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Controller:
    """One ``kumo dns run`` process."""

    proc: subprocess.Popen[bytes]
    dns_port: int
    health_port: int
    log_path: Path
    log: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def start_controller(workdir: Path, kubeconfig: str, lease_duration: int, n: int) -> Controller:
    dns_port, health_port = free_port(), free_port()
    exe = Path(sys.executable).parent / "kumo"
    log_path = workdir / f"controller-{n}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by Controller.stop, after the process
    proc = subprocess.Popen(
        [str(exe), "dns", "run", "--provider=local", f"--local-zone={ZONE}",
         f"--local-db={workdir / 'zone.sqlite'}", f"--local-listen=127.0.0.1:{dns_port}",
         f"--domain-filter={ZONE}", "--txt-owner-id=bench", f"--kubeconfig={kubeconfig}",
         "--leader-elect", f"--leader-election-namespace={NAMESPACE}", f"--leader-election-id={LEASE}",
         f"--lease-duration={lease_duration}s", f"--metrics-address=127.0.0.1:{health_port}",
         "--log-level=info"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return Controller(proc, dns_port, health_port, log_path, log)


async def until(check: Callable[[], Awaitable[Any]], timeout: float, what: str, pause: float = 0.01) -> Any:
    """The first truthy result of ``check``; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(pause)


async def lease_spec(client: KubeClient) -> dict[str, Any]:
    obj = await client.get("coordination.k8s.io/v1", "Lease", LEASE, NAMESPACE)
    return dict((obj or {}).get("spec") or {})


def holder_pid(spec: dict[str, Any]) -> int | None:
    """The pid in a ``user@host/pid`` identity (kumo's default), None for another holder."""
    _, _, pid = str(spec.get("holderIdentity") or "").rpartition("/")
    return int(pid) if pid.isdigit() else None


async def serving(http: httpx.AsyncClient, c: Controller) -> bool:
    """The process synced its informers and serves /healthz (whatever it says: a standby is healthy)."""
    if c.proc.poll() is not None:
        raise RuntimeError(f"controller {c.pid} exited with {c.proc.returncode}:\n{c.tail()}")
    try:
        await http.get(f"http://127.0.0.1:{c.health_port}/healthz", timeout=1.0)
    except httpx.HTTPError:
        return False
    return True


async def answered(port: int, name: str) -> bool:
    """The DNS server on ``port`` answers ``name`` with a record (the Service's CNAME)."""
    query = dns.message.make_query(name, "A")
    try:
        response = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=0.1)
    except (dns.exception.DNSException, OSError):
        return False  # not serving yet: the local provider's server starts when its process leads
    return response.rcode() == dns.rcode.NOERROR and any(
        rr.name.to_text().rstrip(".") == name for rr in response.answer
    )


def service(name: str, host: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": {H: host}},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]},
    }


def wall(dt: datetime) -> float:
    return dt.replace(tzinfo=dt.tzinfo or UTC).timestamp()


async def one_run(
    i: int, client: KubeClient, procs: dict[int, Controller], delay: float, bound: float
) -> dict[str, Any]:
    # a crash comes at any moment: a random delay puts the kill at a random phase of the leader's
    # renewals and the standby's polls (right after a start it would always fall just after a poll)
    await asyncio.sleep(delay)
    held = await lease_spec(client)
    leader = procs[holder_pid(held) or -1]
    standby = next(c for pid, c in procs.items() if pid != leader.pid)
    host = f"run-{i}.{ZONE}"
    last_renew = parse_time(held.get("renewTime"))

    kill_wall = time.time()
    kill_mono = time.monotonic()
    os.kill(leader.pid, signal.SIGKILL)
    await asyncio.to_thread(leader.proc.wait, 30)
    await client.create(service(f"run-{i}", host))

    async def has_address() -> bool:
        svc = await client.get("v1", "Service", f"run-{i}", NAMESPACE)
        return bool(((svc or {}).get("status") or {}).get("loadBalancer", {}).get("ingress"))

    async def taken() -> dict[str, Any] | None:
        spec = await lease_spec(client)
        return spec if holder_pid(spec) == standby.pid else None

    async def timed(check: Callable[[], Awaitable[Any]], what: str, pause: float) -> tuple[float, Any]:
        result = await until(check, bound, what, pause)
        return time.monotonic() - kill_mono, result

    (lb_s, _), (seen_s, spec), (published_s, _) = await asyncio.gather(
        timed(has_address, "the Service's load balancer address", 0.02),
        timed(taken, "the standby to hold the Lease", 0.02),
        timed(lambda: answered(standby.dns_port, host), f"{host} at the new leader's DNS server", 0.01),
    )
    # the new leader serves what the dead one wrote, too (it re-read the shared zone on taking over)
    if not await answered(standby.dns_port, f"warmup.{ZONE}"):
        raise RuntimeError(f"the new leader {standby.pid} lost the warm-up record:\n{standby.tail()}")
    acquired = parse_time(spec.get("acquireTime"))
    assert acquired is not None and last_renew is not None
    takeover_s = wall(acquired) - kill_wall
    procs.pop(leader.pid).stop()
    return {
        "run": i,
        "kill_delay_s": round(delay, 3),
        "takeover_s": round(takeover_s, 3),
        "takeover_seen_by_poll_s": round(seen_s, 3),
        "published_s": round(published_s, 3),
        "published_after_takeover_s": round(published_s - takeover_s, 3),
        "lb_address_s": round(lb_s, 3),
        "kill_after_last_renew_s": round(kill_wall - wall(last_renew), 3),
        "lease_taken_after_last_renew_s": round(wall(acquired) - wall(last_renew), 3),
        "lease_transitions": int(spec.get("leaseTransitions") or 0),
    }


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 3), "max": round(max(values), 3)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    duration = args.lease_duration
    bound = 10.0 * duration + 30.0  # generous: a loaded machine, never forever
    tmp = tempfile.TemporaryDirectory(prefix="kumo-failover-")
    workdir = Path(tmp.name)
    procs: dict[int, Controller] = {}
    runs: list[dict[str, Any]] = []
    this = asyncio.current_task()
    if this is not None:  # SIGTERM cancels the run, so the finally blocks below stop every process
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, this.cancel)
    emulator = KubeAPIProcess(kubeconfig=workdir / "kubeconfig", seed=1)
    started = 0
    rng = random.Random(args.seed)
    try:
        emulator.start()
        client = await connect(emulator.kubeconfig)
        try:
            async with httpx.AsyncClient() as http:

                async def spawn() -> None:
                    nonlocal started
                    c = start_controller(workdir, emulator.kubeconfig, duration, started)
                    started += 1
                    procs[c.pid] = c
                    await until(lambda: serving(http, c), bound, f"controller {c.pid} to start", 0.05)

                await spawn()
                await spawn()

                async def led() -> bool:
                    return holder_pid(await lease_spec(client)) in procs

                await until(led, bound, "one controller to hold the Lease", 0.05)
                # the leader works before the first kill: a Service published through it
                first = next(iter(procs.values()))
                await client.create(service("warmup", f"warmup.{ZONE}"))

                async def warm() -> bool:
                    leader = procs[holder_pid(await lease_spec(client)) or first.pid]
                    return await answered(leader.dns_port, f"warmup.{ZONE}")

                await until(warm, bound, "the warm-up record", 0.05)
                for i in range(args.runs):
                    delay = rng.uniform(0, duration)
                    runs.append(await one_run(i, client, procs, delay, bound))
                    await spawn()  # a fresh warm standby for the next run
                    print(json.dumps(runs[-1]), file=sys.stderr)
        finally:
            await client.close()
    finally:
        for c in procs.values():
            c.stop()
        emulator.stop()
        tmp.cleanup()
    takeovers = [r["takeover_s"] for r in runs]
    return {
        "runs": runs,
        "lease_duration_s": duration,
        "renew_period_s": round(max(0.2, duration / 3), 3),
        "takeover_s": summary(takeovers),
        "published_s": summary([r["published_s"] for r in runs]),
        "published_after_takeover_s": summary([r["published_after_takeover_s"] for r in runs]),
        "lb_address_s": summary([r["lb_address_s"] for r in runs]),
        "ratio_takeover_over_lease_duration": {
            "p50": round(statistics.median(takeovers) / duration, 3),
            "max": round(max(takeovers) / duration, 3),
        },
        "ratio_lease_taken_after_last_renew_over_lease_duration_min": round(
            min(r["lease_taken_after_last_renew_s"] for r in runs) / duration, 3
        ),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5, help="failovers to measure")
    ap.add_argument("--lease-duration", type=int, default=3, help="seconds (kumo dns run --lease-duration)")
    ap.add_argument("--seed", type=int, default=1, help="of the random delay before each kill")
    parsed = ap.parse_args()
    if parsed.runs < 1 or parsed.lease_duration < 1:
        ap.error("--runs and --lease-duration must be at least 1")
    result = asyncio.run(main(parsed))
    print(json.dumps(result, indent=2))
