"""kumo console at scale: 5,000 Pods across 200 releases in the emulator.

The emulator (`kumo sandbox kubeapi --nodes 50`) and the console (`kumo console`) run as child
processes; this script populates the cluster through the API (a release history Secret, a
Deployment of 25 replicas and a Service per release, 10 releases per namespace) and waits until
the simulated Pods are Ready. It then measures:

- server time of the overview and of an app page, p50/p99, each request made right after a change
  (a Deployment's annotation patched and seen by the console), so no cached view is reused;
  measured as loopback round trips from this process;
- change-to-browser latency, p50/p99: from sending a scale request to the emulator until headless
  Chromium (Playwright, /usr/bin/chromium) shows the new count on the overview, without a reload;
- the console's RSS, read from /proc/PID/status (outside the process), after sync and with 10 tabs;
- API-server requests per minute with 0 and with 10 browsers open, over the same scripted
  minute of changes (one scale every 2 s), counted by the console's Kubernetes client (every
  request, watches included; exposed as `api_requests` on /healthz).

Run: .venv/bin/python benchmarks/console_bench.py [--releases 200] [--replicas 25] [--rounds 100]
     [--latency-samples 100] [--window 60]
Prints one JSON document. Aims (issue 11): < 300 ms, < 1 s, < 300 MB, same rate with 10 browsers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from kumo.deploy import ReleaseStore, Revision
from kumo.kube import KubeClient, connect

KUMO = str(Path(sys.executable).parent / "kumo")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PER_NAMESPACE = 10


def in_thread(fn: Any) -> Any:
    """Run ``fn()`` in another thread: sync Playwright keeps an event loop running in this one."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summary(values_ms: list[float]) -> dict[str, float | None]:
    # a p99 from fewer than 100 samples is not a p99: then only the max of n is reported
    p99 = pct(values_ms, 0.99) if len(values_ms) >= 100 else None
    top = round(max(values_ms), 1)
    return {"p50_ms": pct(values_ms, 0.5), "p99_ms": p99, "max_ms": top, "n": len(values_ms)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def names(i: int) -> tuple[str, str]:
    return f"bench-{i // PER_NAMESPACE:02d}", f"app{i:03d}"


def deployment(namespace: str, release: str, replicas: int) -> dict[str, Any]:
    labels = {"kumo.dev/app": release, "kumo.dev/env": "default", "kumo.dev/release": release}
    selector = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": release}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": release, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**labels, **selector}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ]
                },
            },
        },
    }


def service(namespace: str, release: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": release,
            "namespace": namespace,
            "labels": {"kumo.dev/release": release},
            "annotations": {"external-dns.alpha.kubernetes.io/hostname": f"{release}.bench.test"},
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": release},
            "ports": [{"port": 80, "targetPort": 80}],
        },
    }


async def populate(client: KubeClient, releases: int, replicas: int) -> None:
    semaphore = asyncio.Semaphore(4)
    for ns in sorted({names(i)[0] for i in range(releases)}):
        await client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    async def one(i: int) -> None:
        ns, release = names(i)
        async with semaphore:
            manifests = [deployment(ns, release, replicas), service(ns, release)]
            await ReleaseStore(client, release, ns).save(
                Revision(
                    number=1,
                    status="deployed",
                    deployed_by="bench",
                    deployed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    description="benchmark",
                    images={"web/web": "nginx:1.27"},
                    manifests=manifests,
                    spec={"app": release},
                    env="default",
                )
            )
            for obj in manifests:
                await client.apply(obj, force=True)

    await asyncio.gather(*(one(i) for i in range(releases)))


async def wait_ready(client: KubeClient, want: int, timeout: float) -> float:
    start = time.monotonic()
    while True:
        deployments = await client.list("apps/v1", "Deployment")
        ready = sum(int((d.get("status") or {}).get("readyReplicas") or 0) for d in deployments)
        if ready >= want:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {ready}/{want} Pods ready after {timeout:.0f}s")
        await asyncio.sleep(5)


def health(http: httpx.Client) -> dict[str, Any]:
    return dict(http.get("/healthz").json())


def wait_version_after(http: httpx.Client, version: int) -> None:
    deadline = time.monotonic() + 30
    while health(http)["version"] <= version:
        if time.monotonic() > deadline:
            raise SystemExit("the console did not see a change within 30 s")
        time.sleep(0.01)


async def server_times(
    client: KubeClient, http: httpx.Client, path: str, rounds: int, releases: int
) -> list[float]:
    times: list[float] = []
    for i in range(rounds):
        version = health(http)["version"]
        ns, release = names(i % releases)
        await client.patch(
            "apps/v1",
            "Deployment",
            release,
            {"metadata": {"annotations": {"bench/tick": str(time.time_ns())}}},
            ns,
        )
        wait_version_after(http, version)
        start = time.perf_counter()
        response = http.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def browser_latency(
    kubeconfig: str, url: str, releases: int, replicas: int, rounds: int
) -> tuple[list[float], Any]:
    from playwright.sync_api import sync_playwright

    latencies: list[float] = []

    def scale(ns: str, release: str, count: int) -> None:
        in_thread(lambda: asyncio.run(_scale(ns, release, count)))

    async def _scale(ns: str, release: str, count: int) -> None:
        async with await connect(kubeconfig) as client:
            await client.patch("apps/v1", "Deployment", release, {"spec": {"replicas": count}}, ns)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="load")
        page.wait_for_timeout(1000)
        for i in range(rounds):
            ns, release = names((i * 7) % releases)
            target = replicas + (1 if i % 2 == 0 else 0)
            selector = f"#app-{ns}-{release} [data-field=count]"
            current = page.text_content(selector) or ""
            want_suffix = f"/{target}"
            if current.endswith(want_suffix):
                target += 1
                want_suffix = f"/{target}"
            start = time.perf_counter()
            scale(ns, release, target)
            page.wait_for_function(
                "([sel, suffix]) => { const e = document.querySelector(sel); "
                "return e && e.textContent.endsWith(suffix); }",
                arg=[selector, want_suffix],
                polling="raf",
                timeout=30_000,
            )
            latencies.append((time.perf_counter() - start) * 1000)
            scale(ns, release, replicas)
            page.wait_for_timeout(300)
        browser.close()
    return latencies, None


def request_rate(kubeconfig: str, http: httpx.Client, releases: int, replicas: int, window: float) -> float:
    """API requests per minute over ``window`` seconds of one scale every 2 s."""

    async def changes() -> None:
        async with await connect(kubeconfig) as client:
            end = time.monotonic() + window
            i = 0
            while time.monotonic() < end:
                ns, release = names((i * 13) % releases)
                count = replicas + (i % 2)
                await client.patch("apps/v1", "Deployment", release, {"spec": {"replicas": count}}, ns)
                i += 1
                await asyncio.sleep(2)

    before = health(http)["api_requests"]
    start = time.monotonic()
    in_thread(lambda: asyncio.run(changes()))
    after = health(http)["api_requests"]
    return round((after - before) * 60 / (time.monotonic() - start), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=100, help="server-time samples per page")
    parser.add_argument("--latency-samples", type=int, default=100, help="change-to-browser samples")
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    pods = args.releases * args.replicas
    nodes = max(3, pods // 100 + 1)
    result: dict[str, Any] = {"releases": args.releases, "pods": pods, "nodes": nodes}

    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = str(Path(tmp) / "kubeconfig")
        emulator = subprocess.Popen(
            [KUMO, "sandbox", "kubeapi", "--port", "0", "--kubeconfig", kubeconfig, "--nodes", str(nodes),
             "--ready-delay", "0.5", "--output", "json"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        console: subprocess.Popen[str] | None = None
        try:
            assert emulator.stdout is not None
            json.loads(emulator.stdout.readline())

            async def setup() -> float:
                # A long timeout: with thousands of Pods to simulate, the emulator answers slowly.
                async with await connect(kubeconfig, timeout=300) as client:
                    start = time.monotonic()
                    await populate(client, args.releases, args.replicas)
                    await wait_ready(client, pods, timeout=1800)
                    return time.monotonic() - start

            progress(f"populating {args.releases} releases, {pods} Pods")
            result["populate_s"] = round(asyncio.run(setup()), 1)
            progress("starting the console")
            console = subprocess.Popen(
                [KUMO, "console", "--kubeconfig", kubeconfig, "--address", "127.0.0.1:0"],
                stdout=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
            )  # fmt: skip
            assert console.stdout is not None
            url = console.stdout.readline().strip().removeprefix("console: ")
            base, _, token = url.partition("/?token=")
            started = time.monotonic()
            with httpx.Client(
                base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
            ) as http:
                while http.get("/healthz").status_code != 200:
                    time.sleep(0.1)
                result["console_sync_s"] = round(time.monotonic() - started, 1)
                time.sleep(3)
                result["rss_mb_synced"] = rss_mb(console.pid)

                async def timings() -> dict[str, Any]:
                    async with await connect(kubeconfig) as client:
                        ns, release = names(args.releases // 2)
                        overview = await server_times(client, http, "/", args.rounds, args.releases)
                        app = await server_times(
                            client, http, f"/apps/{ns}/{release}", args.rounds, args.releases
                        )
                        api = await server_times(client, http, "/api/apps", args.rounds, args.releases)
                        return {
                            "overview_html": summary(overview),
                            "app_page_html": summary(app),
                            "api_apps_json": summary(api),
                        }

                progress("server times")
                result["server_time"] = asyncio.run(timings())
                progress("change-to-browser latency")
                latencies, _ = browser_latency(
                    kubeconfig, url, args.releases, args.replicas, args.latency_samples
                )
                result["change_to_browser"] = summary(latencies)

                progress("request rate, 0 browsers")
                result["api_requests_per_min_0_browsers"] = request_rate(
                    kubeconfig, http, args.releases, args.replicas, args.window
                )
                # 10 tabs on the overview, each with its own event stream.
                from playwright.sync_api import sync_playwright

                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                    )
                    tabs = [browser.new_page() for _ in range(10)]
                    for tab in tabs:
                        tab.goto(url, wait_until="load")
                    deadline = time.monotonic() + 30
                    while health(http)["subscribers"] < 10 and time.monotonic() < deadline:
                        time.sleep(0.1)
                    result["subscribers"] = health(http)["subscribers"]
                    progress("request rate, 10 browsers")
                    result["api_requests_per_min_10_browsers"] = request_rate(
                        kubeconfig, http, args.releases, args.replicas, args.window
                    )
                    refetches = [t.evaluate("performance.getEntriesByType('resource').length") for t in tabs]
                    result["tab_page_refetches"] = sum(refetches)
                    result["rss_mb_10_browsers"] = rss_mb(console.pid)
                    browser.close()
        finally:
            for proc in (console, emulator):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
