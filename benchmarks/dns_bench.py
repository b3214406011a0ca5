"""DNS controller benchmark: N LoadBalancer Services (default 10,000) against Route 53 on moto server.

Everything is measured on a real, long-running ``kumo dns run`` process (the emulator and moto run
in their own processes too), and printed as one JSON document:
- first sync: time from the controller's start until every record set is at Route 53, and the
  provider calls it took (from the process's own ``kumo_dns_provider_calls_total``, lists
  included) next to the minimum (one zone page, one record page, the change batches);
- RSS of the controller process, read from /proc from outside (now and peak);
- an idle period in real time (``--idle-seconds``, default 180), calls counted and reported per hour;
- create latency: a new Service created until its record is at Route 53, p50/p99 over
  ``--latency-samples`` (default 100) samples;
- external-dns's cost for the same zone, computed from its algorithm (controller.RunOnce: every
  --interval it lists the zones and every record page, unless --provider-cache-time keeps the
  list; changes go in batches of --aws-batch-change-size / -values / -bytes): its first sync from
  the empty zone, and an idle hour with its default flags and with --provider-cache-time.

Usage: .venv/bin/python benchmarks/dns_bench.py [--services 10000] [--latency-samples 100]
       [--idle-seconds 180] [--rate-limit 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.providers.route53 import PAGE_SIZE
from kumo.errors import ClusterError
from kumo.kube import Conflict, KubeClient, connect
from kumo.sandbox.kubeapi import KubeAPIProcess

ZONE = "bench.example.com"
H = "external-dns.alpha.kubernetes.io/hostname"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# moto 5.2's ChangeResourceRecordSets tests every CREATE for membership in the zone's journal of all
# past changes, a Python list of dicts (``value in the_zone.rr_changes``): one dict comparison per
# past change, so writing n record sets costs O(n^2) (83 % of moto's time at 12,000 changes; the
# 10,000-Service run had written 34,000 of 40,000 record sets after 38 min). With --indexed-moto
# the moto server runs with that one membership test backed by a set of the same changes in
# canonical JSON: the same answers, in O(1). Nothing else in moto (or in kumo) changes.
MOTO_JOURNAL_INDEX = """
import json, sys
from moto.route53 import models
from moto.server import main

class IndexedChangeList(models.ChangeList):
    def __init__(self, *args):
        super().__init__(*args)
        self.keys = {self.key(item) for item in self}

    @staticmethod
    def key(item):
        return json.dumps(item, sort_keys=True, default=str)

    def append(self, item):
        super().append(item)
        self.keys.add(self.key(item))

    def __contains__(self, item):
        item["ResourceRecordSet"]["Name"] = item["ResourceRecordSet"]["Name"].strip(".")
        return self.key(item) in self.keys

models.ChangeList = IndexedChangeList
main(sys.argv[1:])
"""


def start_moto(indexed: bool = True) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    cmd = [sys.executable, "-c", MOTO_JOURNAL_INDEX] if indexed else [str(exe)]
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not start")


def service(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{i}", "namespace": "default", "annotations": {H: f"svc-{i}.{ZONE}"}},
        # no node ports: 10,000 Services would exhaust 30000-32767 (as on a real cluster)
        "spec": {
            "type": "LoadBalancer",
            "allocateLoadBalancerNodePorts": False,
            "selector": {"app": f"a{i}"},
            "ports": [{"port": 80}],
        },
    }


async def create_services(client: KubeClient, n: int, concurrency: int) -> float:
    started = time.perf_counter()
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            for attempt in range(8):
                try:
                    await client.create(service(i))
                    return
                except Conflict:
                    return  # an earlier attempt went through
                except ClusterError:  # the emulator is busy: back off and retry
                    await asyncio.sleep(0.2 * 2**attempt)
            raise RuntimeError(f"could not create svc-{i}")

    await asyncio.gather(*(one(i) for i in range(n)))
    # wait for every LoadBalancer to get its address (the simulator assigns ELB hostnames)
    while True:
        items = await client.list("v1", "Service", "default")
        ready = sum(1 for s in items if (s.get("status") or {}).get("loadBalancer", {}).get("ingress"))
        if ready >= n:
            return time.perf_counter() - started
        await asyncio.sleep(0.5)


def record_exists(r53: Any, zone_id: str, name: str) -> bool:
    resp = r53.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=name, StartRecordType="A", MaxItems="1"
    )
    sets = resp.get("ResourceRecordSets", [])
    return bool(sets) and sets[0]["Name"].rstrip(".") == name and sets[0]["Type"] == "A"


def zone_stats(r53: Any, zone_id: str) -> dict[str, int]:
    count = value_chars = values = 0
    for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        for rr in page["ResourceRecordSets"]:
            count += 1
            if rr.get("AliasTarget"):
                values += 1
                value_chars += len(rr["AliasTarget"]["DNSName"])
            for v in rr.get("ResourceRecords", []):
                values += 1
                value_chars += len(v["Value"])
    return {"record_sets": count, "values": values, "value_chars": value_chars}


async def controller_only(n: int) -> dict[str, float]:
    """kumo's own cost, without moto or the emulator: the in-memory provider, same Services."""
    provider = InMemoryProvider(zones=[ZONE])
    ctrl = Controller(provider, ControllerConfig(owner_id="bench"))

    def svc(i: int, host: str) -> dict[str, Any]:
        obj = service(i)
        obj["metadata"]["annotations"][H] = host
        obj["status"] = {"loadBalancer": {"ingress": [{"hostname": f"lb-{i}.us-east-1.elb.amazonaws.com"}]}}
        return obj

    objs = [svc(i, f"svc-{i}.{ZONE}") for i in range(n)]
    t0 = time.perf_counter()
    for obj in objs:
        ctrl.on_object("Service", "ADDED", obj)
    t1 = time.perf_counter()
    while ctrl.dirty:  # a pass plans at most max_names_per_pass names
        await ctrl.reconcile()
    t2 = time.perf_counter()
    for obj in objs:
        ctrl.on_object("Service", "RESYNC", obj)
    t3 = time.perf_counter()
    samples = []
    for k in range(50):
        ctrl.on_object("Service", "MODIFIED", svc(k, f"moved-{k}.{ZONE}"))
        s0 = time.perf_counter()
        await ctrl.reconcile()
        samples.append(time.perf_counter() - s0)
    return {
        "events_s": round(t1 - t0, 2),
        "first_sync_s": round(t2 - t1, 2),
        "resync_of_all_objects_s": round(t3 - t2, 2),
        "one_update_reconcile_p50_ms": round(statistics.median(samples) * 1000, 2),
        "one_update_reconcile_p99_ms": round(pct(samples, 0.99) * 1000, 2),
    }


def pct(data: list[float], q: float) -> float:
    ordered = sorted(data)
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def metric(port: int, name: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def rss_mb(pid: int) -> dict[str, float]:
    text = Path(f"/proc/{pid}/status").read_text()
    values = {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M)}
    return {"rss_mb": round(values["VmRSS"] / 1024, 1), "peak_rss_mb": round(values["VmHWM"] / 1024, 1)}


def adopted(port: int, services: int) -> bool:
    """The controller read the zone, has every Service's endpoints, and has nothing left to plan."""
    try:
        return (
            metric(port, "kumo_dns_full_resyncs_total") >= 1
            and metric(port, "external_dns_source_endpoints_total") >= services
            and metric(port, "kumo_dns_reconciles_total") >= 1
            and metric(port, "kumo_dns_dirty_names") == 0
        )
    except OSError:  # not serving /metrics yet
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def record_set_count(r53: Any, zone_id: str) -> int:
    return int(r53.get_hosted_zone(Id=zone_id)["HostedZone"]["ResourceRecordSetCount"])


def external_dns_cost(
    record_sets: int, zones: int, changes: int, values: int, value_chars: int
) -> dict[str, Any]:
    """external-dns v0.22's AWS calls, from its code: Records() lists the zones (100 a page) and
    every record page (300 a page) of each zone; ApplyChanges submits batches of at most 1000
    changes, 1000 values and 32,000 value bytes, 1 s apart (--aws-batch-change-interval)."""
    zone_pages = math.ceil(zones / 100)
    pages = zones * max(1, math.ceil(record_sets / int(PAGE_SIZE)))
    per_list = zone_pages + pages
    batches = max(math.ceil(changes / 1000), math.ceil(values / 1000), math.ceil(value_chars / 32000))
    return {
        "calls_per_full_list": per_list,
        "first_sync_from_empty_zone": {"calls": zone_pages + zones + batches, "batches": batches,
                                       "min_seconds_for_batch_interval": batches - 1},
        "idle_hour_default_flags": 60 * per_list,
        "idle_hour_provider_cache_time_15m": 4 * per_list,
        "idle_hour_provider_cache_time_1h": 1 * per_list,
        "note": "default --interval=1m; with --provider-cache-time the list is reused until it expires",
    }  # fmt: skip


async def main(args: argparse.Namespace) -> dict[str, Any]:
    moto, moto_url = start_moto(indexed=args.indexed_moto)
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=moto_url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    os.environ.update({k: env[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_DEFAULT_REGION")})  # fmt: skip
    tmp = tempfile.TemporaryDirectory()
    emulator = KubeAPIProcess(kubeconfig=Path(tmp.name) / "kubeconfig", seed=1).start()
    out: dict[str, Any] = {
        "services": args.services,
        "rate_limit_per_s": args.rate_limit,
        "indexed_moto": args.indexed_moto,
        "load_average_at_start": os.getloadavg(),
    }
    controller: subprocess.Popen[bytes] | None = None
    try:
        r53 = boto3.client("route53")
        zone_id = r53.create_hosted_zone(Name=ZONE, CallerReference="bench")["HostedZone"]["Id"].rsplit(
            "/", 1
        )[-1]
        client = await connect(emulator.kubeconfig)
        out["create_services_s"] = round(await create_services(client, args.services, args.concurrency), 2)
        port = free_port()
        exe = Path(sys.executable).parent / "kumo"
        argv = [str(exe), "dns", "run", "--provider=aws", "--source=service", f"--domain-filter={ZONE}",
                "--txt-owner-id=bench", f"--kubeconfig={emulator.kubeconfig}",
                f"--rate-limit={args.rate_limit}", f"--metrics-address=127.0.0.1:{port}",
                "--log-level=warning"]  # fmt: skip
        out["command"] = " ".join(["kumo", *argv[1:4], "..."])
        started = time.perf_counter()
        controller = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        want = 4 * args.services + 2  # A and AAAA ALIAS, 2 TXT each, plus SOA and NS
        while await asyncio.to_thread(record_set_count, r53, zone_id) < want:
            if controller.poll() is not None:
                raise RuntimeError(controller.stderr.read().decode() if controller.stderr else "exited")
            await asyncio.sleep(1.0)
        first_sync = time.perf_counter() - started
        await asyncio.sleep(2)  # the last batch's metrics
        calls = metric(port, "kumo_dns_provider_calls_total")
        stats = await asyncio.to_thread(zone_stats, r53, zone_id)
        min_batches = max(math.ceil(stats["values"] / 1000), math.ceil(stats["value_chars"] / 32000))
        minimum = 2 + min_batches  # ListHostedZones + one page of the empty zone + the batches
        out["first_sync"] = {
            "seconds": round(first_sync, 1),
            "record_sets_written": stats["record_sets"] - 2,
            "provider_calls": int(calls),
            "minimum_calls": minimum,
            "calls_over_minimum": round(calls / minimum, 3),
        }
        out["after_first_sync"] = rss_mb(controller.pid)

        # idle, in real time: nothing changes; calls are the drift probe (GetHostedZone each --interval)
        before = metric(port, "kumo_dns_provider_calls_total")
        await asyncio.sleep(args.idle_seconds)
        idle = metric(port, "kumo_dns_provider_calls_total") - before
        pages = math.ceil(stats["record_sets"] / int(PAGE_SIZE))
        out["idle"] = {
            "window_s": args.idle_seconds,
            "provider_calls": int(idle),
            "calls_per_hour": round(idle * 3600 / args.idle_seconds, 1),
            "plus_hourly_full_resync": 1 + pages,
        }

        # create latency: a new Service until its A record is at Route 53
        latencies = []
        for k in range(args.latency_samples):
            name = f"new-{k}.{ZONE}"
            obj = service(args.services + k)
            obj["metadata"]["annotations"][H] = name
            t0 = time.perf_counter()
            await client.create(obj)
            while not await asyncio.to_thread(record_exists, r53, zone_id, name):
                await asyncio.sleep(0.02)
            latencies.append(time.perf_counter() - t0)
        out["create_latency_s"] = {
            "samples": len(latencies),
            "p50": round(statistics.median(latencies), 3),
            "p99": round(pct(latencies, 0.99), 3),
            "max": round(max(latencies), 3),
        }
        out["controller_process"] = rss_mb(controller.pid)

        # adoption: a second process (a restart, an upgrade) against the zone as it now is: reads it,
        # finds every record already right, writes nothing
        stop(controller)
        services = args.services + args.latency_samples
        started = time.perf_counter()
        controller = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not await asyncio.to_thread(adopted, port, services):
            if controller.poll() is not None:
                raise RuntimeError(controller.stderr.read().decode() if controller.stderr else "exited")
            await asyncio.sleep(0.5)
        out["adoption_restart"] = {
            "seconds_until_settled": round(time.perf_counter() - started, 1),
            "provider_calls": int(metric(port, "kumo_dns_provider_calls_total")),
            "changes_written": int(metric(port, "kumo_dns_changes_total")),
            **rss_mb(controller.pid),
        }
        await client.close()
        out["external_dns"] = external_dns_cost(
            stats["record_sets"], 1, stats["record_sets"] - 2, stats["values"], stats["value_chars"]
        )
        kumo_hour = out["idle"]["calls_per_hour"] + out["idle"]["plus_hourly_full_resync"]
        out["ratio_idle_hour_external_dns_default_over_kumo"] = round(
            out["external_dns"]["idle_hour_default_flags"] / kumo_hour, 1
        )
        out["controller_only_inmemory"] = await controller_only(args.services)
        out["load_average_at_end"] = os.getloadavg()
        return out
    finally:
        if controller is not None:
            stop(controller)
        emulator.stop()
        moto.terminate()
        moto.wait(10)
        tmp.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--latency-samples", type=int, default=100)
    ap.add_argument("--idle-seconds", type=float, default=180)
    ap.add_argument("--rate-limit", type=float, default=5.0, help="provider calls per second (Route 53: 5/s)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument(
        "--indexed-moto",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="moto with its change journal's membership test indexed (see MOTO_JOURNAL_INDEX)",
    )
    result = asyncio.run(main(ap.parse_args()))
    print(json.dumps(result, indent=2))
