"""DNS controller benchmark: N LoadBalancer Services (default 10,000) against Route 53 on moto server.

Prints one JSON document:
- time to converge from controller start, and provider API calls next to the minimum
  (list pages plus change batches under Route 53's limits);
- provider calls during a simulated idle hour (informer resyncs every minute, the controller's
  housekeeping every minute; time is simulated, not waited for);
- latency from one Service update until the record is at the provider (p50, p99);
- RSS of the controller process;
- the calls external-dns's documented algorithm makes for the same scenario (a full list of every
  zone each --interval, default 1m) and the ratio.

Usage: .venv/bin/python benchmarks/dns_bench.py [--services 10000] [--latency-samples 50] [--rate-limit 5]
The emulator and moto run in their own processes; the controller runs in this one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
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
from kumo.dns.filters import DomainFilter
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.providers.route53 import PAGE_SIZE, Route53Provider
from kumo.dns.runner import DnsRunner, RunOptions
from kumo.errors import ClusterError
from kumo.kube import Conflict, KubeClient, connect
from kumo.sandbox.kubeapi import KubeAPIProcess

ZONE = "bench.example.com"
H = "external-dns.alpha.kubernetes.io/hostname"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], env=env,
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


async def main(args: argparse.Namespace) -> dict[str, Any]:
    moto, moto_url = start_moto()
    os.environ.update(
        AWS_ENDPOINT_URL=moto_url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    tmp = tempfile.TemporaryDirectory()
    emulator = KubeAPIProcess(kubeconfig=Path(tmp.name) / "kubeconfig", seed=1).start()
    out: dict[str, Any] = {"services": args.services, "rate_limit_per_s": args.rate_limit}
    try:
        r53 = boto3.client("route53")
        zone_id = r53.create_hosted_zone(Name=ZONE, CallerReference="bench")["HostedZone"]["Id"].rsplit(
            "/", 1
        )[-1]
        client = await connect(emulator.kubeconfig)
        out["create_services_s"] = round(await create_services(client, args.services, args.concurrency), 2)

        provider = Route53Provider(rate_limit=args.rate_limit, domain_filter=DomainFilter.of([ZONE]))
        ops: list[str] = []
        provider.on_call = ops.append
        dfilter = DomainFilter.of([ZONE])
        runner = DnsRunner(
            provider,
            RunOptions(
                config=ControllerConfig(owner_id="bench", domain_filter=dfilter),
                kubeconfig=emulator.kubeconfig,
                interval=60,
                resync_period=3600,
            ),
        )
        ctrl = runner.controller
        started = time.perf_counter()
        cpu0 = time.process_time()
        task = asyncio.create_task(runner.run())
        names = {f"svc-{i}.{ZONE}" for i in range(args.services)}
        while True:
            if task.done():
                task.result()
            if ctrl.provider_loaded and not ctrl.dirty and names <= set(ctrl.records) and not ctrl.failures:
                break
            await asyncio.sleep(0.05)
        converge = time.perf_counter() - started
        converge_cpu = time.process_time() - cpu0
        stats = await asyncio.to_thread(zone_stats, r53, zone_id)
        a_sets = stats["record_sets"] - 2  # minus SOA and NS
        assert a_sets == 4 * args.services, f"expected {4 * args.services} record sets, found {a_sets}"
        min_batches = max(math.ceil(stats["values"] / 1000), math.ceil(stats["value_chars"] / 32000))
        initial_pages = 1 + 1  # ListHostedZones + ListResourceRecordSets of the (empty) zone
        out["converge"] = {
            "seconds": round(converge, 2),
            "controller_cpu_s": round(converge_cpu, 2),
            "rate_limit_wait_s": round(provider.bucket.waited, 2),
            "record_sets_written": a_sets,
            "provider_calls": len(ops),
            "calls_by_op": {op: ops.count(op) for op in sorted(set(ops))},
            "minimum_calls": initial_pages + min_batches,
            "calls_over_minimum": round(len(ops) / (initial_pages + min_batches), 3),
            "throttled_retries": provider.throttled,
        }

        # latency: one Service update until its record is at the provider
        latencies = []
        for k in range(args.latency_samples):
            new_name = f"moved-{k}.{ZONE}"
            t0 = time.perf_counter()
            await client.patch(
                "v1", "Service", f"svc-{k}", {"metadata": {"annotations": {H: new_name}}}, "default"
            )
            while not await asyncio.to_thread(record_exists, r53, zone_id, new_name):
                await asyncio.sleep(0.01)
            latencies.append(time.perf_counter() - t0)
        while ctrl.dirty or ctrl.failures:
            await asyncio.sleep(0.05)
        out["update_latency_s"] = {
            "samples": len(latencies),
            "p50": round(statistics.median(latencies), 3),
            "p99": round(pct(latencies, 0.99), 3),
            "max": round(max(latencies), 3),
        }

        # a simulated idle hour: every minute, the informers hand every object over again (a resync)
        # and the controller does its housekeeping; time is simulated, the calls are real
        before = provider.calls
        objects = [(inf.kind, obj) for inf in runner.informers for obj in inf.items()]
        sim_started = time.perf_counter()
        for _minute in range(60):
            for kind, obj in objects:
                ctrl.on_object(kind, "RESYNC", obj)
            if ctrl.has_work():
                await ctrl.reconcile()
        idle_calls = provider.calls - before
        record_sets = stats["record_sets"]
        pages = math.ceil(record_sets / int(PAGE_SIZE))
        out["idle_hour"] = {
            "provider_calls": idle_calls,
            "simulated_minutes": 60,
            "simulation_wall_s": round(time.perf_counter() - sim_started, 2),
            "full_resync_calls_at_1h": 1 + pages,
        }
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()

        # external-dns's documented loop: every --interval (1m), list the zones and every record page
        per_sync = 1 + pages
        ext_hour = 60 * per_sync
        ext_converge = per_sync + min_batches
        kumo_hour = idle_calls + (1 + pages)  # including kumo's hourly full resync
        out["external_dns"] = {
            "calls_per_sync": per_sync,
            "calls_idle_hour_at_1m_interval": ext_hour,
            "calls_to_converge": ext_converge,
            "seconds_per_sync_at_5_rps": round(per_sync / 5, 1),
        }
        out["ratio_idle_hour_external_dns_over_kumo"] = round(ext_hour / max(1, kumo_hour), 1)
        out["ratio_idle_hour_excluding_hourly_resync"] = (
            "inf" if idle_calls == 0 else round(ext_hour / idle_calls, 1)
        )
        out["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out["controller_only_inmemory"] = await controller_only(args.services)
        return out
    finally:
        emulator.stop()
        moto.terminate()
        moto.wait(10)
        tmp.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--latency-samples", type=int, default=50)
    ap.add_argument("--rate-limit", type=float, default=5.0, help="provider calls per second (Route 53: 5/s)")
    ap.add_argument("--concurrency", type=int, default=8)
    result = asyncio.run(main(ap.parse_args()))
    print(json.dumps(result, indent=2))
