"""Kubernetes API emulator at scale: 10,000 Services, 5,000 Pods, 20 concurrent watchers.

Runs the emulator as a subprocess (simulation off, so only the API is measured) and prints JSON:
the time to list 10,000 Services (server answer and client decode), watch fan-out latency from
write to delivery at each of 20 watchers (p50/p99), write throughput, and the server's RSS.

    .venv/bin/python benchmarks/kubeapi_bench.py [--services 10000] [--pods 5000] [--watchers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

from kumo.sandbox.kubeapi import KubeAPIProcess


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def service(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{i}", "labels": {"app": f"app-{i % 100}", "tier": "web"}},
        "spec": {"selector": {"app": f"app-{i % 100}"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"pod-{i}", "labels": {"app": f"app-{i % 100}"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 8080}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }
            ]
        },
    }


def create_all(url: str, path: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    """Load objects from several threads (one keep-alive connection each)."""
    chunks = [bodies[i::concurrency] for i in range(concurrency)]

    def load(chunk: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            for body in chunk:
                resp = client.post(
                    path, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
                )
                if resp.status_code != 201:
                    raise RuntimeError(f"create failed: {resp.status_code} {resp.text[:200]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(load, chunks))
    return time.perf_counter() - start


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        KubeAPIProcess(kubeconfig=Path(tmp) / "kubeconfig", simulate=False) as api,
    ):
        assert api.pid is not None
        limits = httpx.Limits(max_connections=args.concurrency + args.watchers + 4)
        async with httpx.AsyncClient(base_url=api.url, timeout=120, limits=limits) as client:
            rss_start = rss_mib(api.pid)
            svc_secs = await asyncio.to_thread(
                create_all,
                api.url,
                "/api/v1/namespaces/default/services",
                [service(i) for i in range(args.services)],
                args.concurrency,
            )
            pod_secs = await asyncio.to_thread(
                create_all,
                api.url,
                "/api/v1/namespaces/default/pods",
                [pod(i) for i in range(args.pods)],
                args.concurrency,
            )

            list_times, decode_times, sizes = [], [], []
            for _ in range(args.list_repeats):
                t0 = time.perf_counter()
                resp = await client.get("/api/v1/services")
                body = resp.content
                t1 = time.perf_counter()
                items = orjson.loads(body)["items"]
                t2 = time.perf_counter()
                assert len(items) == args.services, len(items)
                list_times.append(t1 - t0)
                decode_times.append(t2 - t1)
                sizes.append(len(body))
            t0 = time.perf_counter()
            selected = (await client.get("/api/v1/pods", params={"labelSelector": "app=app-7"})).json()[
                "items"
            ]
            selector_secs = time.perf_counter() - t0
            assert len(selected) == args.pods // 100

            # fan-out: every watcher must see every write
            rv = (await client.get("/api/v1/namespaces/default/configmaps")).json()["metadata"][
                "resourceVersion"
            ]
            sent: dict[str, float] = {}
            latencies: list[float] = []
            ready = 0

            async def watcher() -> None:
                nonlocal ready
                seen = 0
                async with client.stream(
                    "GET",
                    "/api/v1/namespaces/default/configmaps",
                    params={"watch": "true", "resourceVersion": rv},
                ) as resp:
                    ready += 1
                    async for line in resp.aiter_lines():
                        if not line:
                            continue
                        now = time.perf_counter()
                        ev = orjson.loads(line)
                        latencies.append(now - sent[ev["object"]["metadata"]["name"]])
                        seen += 1
                        if seen == args.events:
                            return

            tasks = [asyncio.create_task(watcher()) for _ in range(args.watchers)]
            while ready < args.watchers:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            for i in range(args.events):
                name = f"cm-{i}"
                sent[name] = time.perf_counter()
                await client.post(
                    "/api/v1/namespaces/default/configmaps",
                    json={"metadata": {"name": name}, "data": {"i": str(i)}},
                )
                await asyncio.sleep(args.event_gap)
            await asyncio.wait_for(asyncio.gather(*tasks), 120)
            rss_end = rss_mib(api.pid)

    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "services": args.services,
        "pods": args.pods,
        "watchers": args.watchers,
        "create_services_per_s": round(args.services / svc_secs, 1),
        "create_pods_per_s": round(args.pods / pod_secs, 1),
        "list_10k_services_s": {
            "median": round(statistics.median(list_times), 4),
            "min": round(min(list_times), 4),
        },
        "list_decode_s": round(statistics.median(decode_times), 4),
        "list_bytes": sizes[0],
        "list_pods_label_selector_s": round(selector_secs, 4),
        "watch_fanout_events": len(latencies),
        "watch_fanout_ms": {
            "p50": round(p(0.50), 2),
            "p99": round(p(0.99), 2),
            "max": round(latencies[-1] * 1000, 2),
        },
        "server_rss_mib": {"start": round(rss_start, 1), "end": round(rss_end, 1)},
        "aims": {"list_under_1s": statistics.median(list_times) < 1.0, "rss_under_1gib": rss_end < 1024},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--pods", type=int, default=5_000)
    ap.add_argument("--watchers", type=int, default=20)
    ap.add_argument("--events", type=int, default=200, help="writes observed by every watcher")
    ap.add_argument("--event-gap", type=float, default=0.005, help="seconds between watched writes")
    ap.add_argument("--concurrency", type=int, default=8, help="concurrent writers while loading")
    ap.add_argument("--list-repeats", type=int, default=5)
    print(json.dumps(asyncio.run(run(ap.parse_args())), indent=2))


if __name__ == "__main__":
    main()
