"""The controller against the Kubernetes API emulator: watches, events, faults, leader failover, the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from kumo.dns.controller import ControllerConfig
from kumo.dns.filters import DomainFilter
from kumo.dns.providers.chaos import FlakyProvider
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.providers.route53 import Route53Provider
from kumo.dns.runner import DnsRunner, RunOptions
from kumo.kube import Conflict, KubeClient, connect
from kumo.kube.timefmt import parse_time
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation
from tests.integration.dns.conftest import Moto

pytestmark = pytest.mark.integration

H = "external-dns.alpha.kubernetes.io/hostname"


def lb_service(name: str, host: str, **extra_ann: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": {H: host, **extra_ann}},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]},
    }


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60.0, what: str = "") -> None:
    """Return as soon as ``check`` holds; fail after ``timeout`` (generous: a loaded 2-core CI machine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = 0.02
    while True:
        if await check():
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or check}")
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.25)


async def _settled(r: DnsRunner) -> bool:
    return r.controller.settled()


@contextlib.asynccontextmanager
async def running(runner: DnsRunner) -> AsyncIterator[asyncio.Task[int]]:
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: _started(runner, task), what="runner start")
        yield task
    finally:
        await _cancel(task)


async def _cancel(task: asyncio.Task[int]) -> None:
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=60)
    assert done, "the runner did not stop within 60s of being cancelled"
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _started(runner: DnsRunner, task: asyncio.Task[int]) -> bool:
    if task.done():
        task.result()
    return runner.started.is_set()


@pytest.fixture
async def kube(kubeapi: KubeAPI) -> AsyncIterator[KubeClient]:
    client = await connect(kubeapi.kubeconfig)
    try:
        yield client
    finally:
        await client.close()


async def zone_records(zone_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    # in a thread: a blocking boto3 call on the event loop would stall the controller under test
    return await asyncio.to_thread(_zone_records, zone_id)


def _zone_records(zone_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    client = boto3.client("route53")
    out = {}
    for page in client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        for r in page["ResourceRecordSets"]:
            out[(r["Name"].rstrip("."), r["Type"])] = r
    return out


def change_zone(zone_id: str, changes: list[dict[str, Any]]) -> None:
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": changes}
    )


def new_zone(name: str = "example.com") -> str:
    resp = boto3.client("route53").create_hosted_zone(Name=name, CallerReference=name)
    return str(resp["HostedZone"]["Id"]).rsplit("/", 1)[-1]


async def test_services_to_route53_events_and_idle(kubeapi: KubeAPI, kube: KubeClient, aws: Moto) -> None:
    zone_id = new_zone()
    provider = Route53Provider(rate_limit=0, domain_filter=DomainFilter.of(["example.com"]))
    opts = RunOptions(
        config=ControllerConfig(owner_id="kumo", domain_filter=DomainFilter.of(["example.com"])),
        kubeconfig=kubeapi.kubeconfig,
        interval=0.5,
        min_event_interval=0.05,
        metrics_address="127.0.0.1:0",
    )
    runner = DnsRunner(provider, opts)
    async with running(runner):
        await kube.create(lb_service("web", "www.example.com"))
        await kube.create(
            lb_service("bad", "ok.example.com,not a name!", **{"external-dns.alpha.kubernetes.io/ttl": "x"})
        )

        async def published() -> bool:
            recs = await zone_records(zone_id)
            return all(
                k in recs
                for k in [("www.example.com", "A"), ("www.example.com", "AAAA"), ("ok.example.com", "A")]
            )

        await eventually(published, what="records in Route 53")
        recs = await zone_records(zone_id)
        assert recs[("www.example.com", "A")]["AliasTarget"]["HostedZoneId"] == "Z35SXDOTRQ7X7K"
        assert ("a-www.example.com", "TXT") in recs

        async def warned() -> bool:
            events = await kube.list("v1", "Event", "default", field_selector="involvedObject.name=bad")
            return any(
                e.get("reason") == "InvalidDNSAnnotation" and e.get("type") == "Warning" for e in events
            )

        await eventually(warned, what="a Warning event on the bad Service")
        # idle: once the work is done, the provider gets no list or change call while nothing
        # changes, only the drift probe (one GetHostedZone per zone each --interval)
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        ops: list[str] = []
        provider.on_call = ops.append
        await asyncio.sleep(1.5)
        assert set(ops) <= {"get_hosted_zone"}, ops
        assert runner.controller.settled()
        # drift: a record deleted by hand is back within a few --interval (no full resync is due)
        www = await zone_records(zone_id)
        await asyncio.to_thread(
            change_zone,
            zone_id,
            [{"Action": "DELETE", "ResourceRecordSet": www[("www.example.com", t)]} for t in ("A", "AAAA")],
        )

        async def repaired() -> bool:
            return ("www.example.com", "A") in await zone_records(zone_id)

        await eventually(repaired, what="the record deleted by hand to be recreated")
        assert "list_resource_record_sets" in ops and runner.controller.metrics.resyncs._value.get() >= 2
        assert runner.health is not None
        async with httpx.AsyncClient() as http:
            base = f"http://127.0.0.1:{runner.health.port}"
            health = await http.get(base + "/healthz")
            metrics = (await http.get(base + "/metrics")).text
        assert health.status_code == 200 and health.json()["ok"] is True
        assert "external_dns_registry_endpoints_total" in metrics
        assert "external_dns_controller_last_sync_timestamp_seconds" in metrics
        assert "kumo_dns_provider_calls_total" in metrics
        counted = next(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("kumo_dns_provider_calls_total{")
        )
        assert counted >= provider.calls - 2  # list, zone and probe calls are counted, not only changes
        # deleting the Service deletes its records
        await kube.delete("v1", "Service", "web", "default")

        async def gone() -> bool:
            return ("www.example.com", "A") not in await zone_records(zone_id)

        await eventually(gone, what="records deleted")
        assert ("a-www.example.com", "TXT") not in await zone_records(zone_id)


async def test_faults_watch_cuts_and_410_converge(tmp_path: Path, aws: Moto) -> None:
    """Provider errors at random, watch streams cut, and 410 Gone: everything converges, nothing lost."""
    with KubeAPI(kubeconfig=tmp_path / "kc", seed=1, window=40, controllers=simulation(lb_delay=0.01)) as api:
        client = await connect(api.kubeconfig)
        inner = InMemoryProvider(zones=["example.com"])
        flaky = FlakyProvider(inner, error_rate=0.3, group_error_rate=0.3, seed=3)
        config = ControllerConfig(owner_id="kumo", retry_base=0.05, retry_cap=0.2)
        runner = DnsRunner(
            flaky, RunOptions(config=config, kubeconfig=api.kubeconfig, interval=0.2, min_event_interval=0.02)
        )
        try:
            async with running(runner) as task:
                for i in range(15):
                    await client.create(lb_service(f"s{i}", f"h{i}.example.com"))
                cm_rt = api.call(lambda: api.store.resource("v1", "ConfigMap"))
                svc_rt = api.call(lambda: api.store.resource("v1", "Service"))
                for round_ in range(3):
                    await asyncio.sleep(0.3)

                    def cut_and_churn(round_: int = round_) -> None:
                        # cut every watch, then write more events than the window holds: the resume gets 410
                        api.store.close_watchers()
                        for j in range(50):
                            api.store.create(cm_rt, "default", {"metadata": {"name": f"churn-{round_}-{j}"}})
                        svc = api.store.get(svc_rt, "default", f"s{round_}")
                        svc["metadata"]["annotations"][H] = f"moved{round_}.example.com"
                        api.store.update(svc_rt, "default", f"s{round_}", svc)

                    api.call(cut_and_churn)
                await client.delete("v1", "Service", "s14", "default")
                expected = {f"h{i}.example.com" for i in range(3, 14)} | {
                    f"moved{r}.example.com" for r in range(3)
                }

                async def converged() -> bool:
                    names = {k.dns_name for k in inner.store if k.record_type == "CNAME"}  # ELB hostnames
                    return names == expected and not runner.controller.failures

                await eventually(converged, what="convergence under faults")
                assert not task.done()
                assert flaky.injected > 0
                assert sum(i.list_count for i in runner.informers) >= 2  # relisted after 410
        finally:
            await client.close()


async def test_leader_failover(kubeapi: KubeAPI, kube: KubeClient, aws: Moto, tmp_path: Path) -> None:
    """A leader killed outright (no release) is replaced once its Lease has expired, and not before."""
    zone_id = new_zone()
    lease_name = "kumo-dns-controller"
    exe = Path(sys.executable).parent / "kumo"
    log_path = tmp_path / "leader.log"
    with open(log_path, "wb") as log:
        leader = subprocess.Popen(
            [str(exe), "dns", "run", "--provider=route53", "--rate-limit=0", "--txt-owner-id=kumo",
             f"--kubeconfig={kubeapi.kubeconfig}", "--leader-elect", "--leader-election-namespace=default",
             f"--leader-election-id={lease_name}", "--lease-duration=2s", "--interval=0.3s",
             "--min-event-sync-interval=20ms", "--metrics-address=", "--log-level=warning"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    b = DnsRunner(
        Route53Provider(rate_limit=0),
        RunOptions(
            config=ControllerConfig(owner_id="kumo"),
            kubeconfig=kubeapi.kubeconfig,
            interval=0.3,
            min_event_interval=0.02,
            leader_elect=True,
            lease_name=lease_name,
            lease_duration=2,
            identity="b",
        ),
    )

    async def lease() -> dict[str, Any]:
        obj = await kube.get("coordination.k8s.io/v1", "Lease", lease_name, "default")
        return (obj or {}).get("spec") or {}

    async def leader_holds() -> bool:
        assert leader.poll() is None, f"the leader exited: {log_path.read_text()[-2000:]}"
        return str((await lease()).get("holderIdentity") or "").endswith(f"/{leader.pid}")

    task_b: asyncio.Task[int] | None = None
    try:
        await eventually(leader_holds, what="the leader process takes the Lease")
        task_b = asyncio.create_task(b.run())
        await eventually(lambda: _started(b, task_b), what="b started")
        await kube.create(lb_service("one", "one.example.com"))
        await eventually(lambda: _has(zone_id, "one.example.com"), what="leader writes")
        # the standby keeps a warm cache of the Services but never writes
        await eventually(lambda: _knows(b, "one.example.com"), what="standby cache")
        assert not b.controller.is_leader
        assert b.provider.calls == 0
        # the leader dies without releasing the lease
        leader.kill()
        await asyncio.to_thread(leader.wait, 30)
        held = await lease()
        assert str(held.get("holderIdentity")).endswith(f"/{leader.pid}"), "a killed leader releases nothing"
        last_renew = parse_time(held.get("renewTime"))
        assert last_renew is not None
        await kube.create(lb_service("two", "two.example.com"))
        await eventually(lambda: _is_leader(b), what="b takes over")
        taken = await lease()
        assert taken.get("holderIdentity") == "b"
        assert taken.get("leaseTransitions") == int(held.get("leaseTransitions") or 0) + 1
        # b waited for the lease to expire: there were never two leaders
        acquired = parse_time(taken.get("acquireTime"))
        assert acquired is not None and acquired >= last_renew + timedelta(seconds=2)
        await eventually(lambda: _has(zone_id, "two.example.com"), what="new leader writes")
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait(30)
        if task_b is not None:
            await _cancel(task_b)


async def _is_leader(r: DnsRunner) -> bool:
    return r.controller.is_leader


async def _knows(r: DnsRunner, name: str) -> bool:
    return name in r.controller.by_name


async def _has(zone_id: str, name: str) -> bool:
    return (name, "A") in await zone_records(zone_id)


def _kumo(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "kumo"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=120)


async def test_cli_once_and_dry_run(kubeapi: KubeAPI, kube: KubeClient, aws: Moto) -> None:
    zone_id = new_zone()
    await kube.create(lb_service("web", "www.example.com"))

    async def has_lb() -> bool:
        svc = await kube.get("v1", "Service", "web", "default")
        return bool(svc and svc.get("status", {}).get("loadBalancer", {}).get("ingress"))

    await eventually(has_lb, what="LB address")
    env = dict(os.environ)
    base = ["dns", "run", "--provider=route53", "--domain-filter=example.com", "--txt-owner-id=kumo",
            f"--kubeconfig={kubeapi.kubeconfig}", "--once", "--metrics-address=",
            "--log-level=warning"]  # fmt: skip
    dry = await asyncio.to_thread(_kumo, [*base, "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert ("www.example.com", "A") not in await zone_records(zone_id)
    real = await asyncio.to_thread(_kumo, base, env)
    assert real.returncode == 0, real.stderr
    assert ("www.example.com", "A") in await zone_records(zone_id)
    bad = await asyncio.to_thread(_kumo, [*base, "--policy=sometimes"], env)
    assert bad.returncode == 2 and "--policy" in bad.stderr and "Traceback" not in bad.stderr


async def test_ingress_source_with_label_filter_and_namespace(kubeapi: KubeAPI, kube: KubeClient) -> None:
    provider = InMemoryProvider(zones=["example.com"])
    from kumo.dns.filters import LabelFilter
    from kumo.dns.sources import SourceConfig

    source = SourceConfig(label_filter=LabelFilter.parse("dns=public"), namespace="default")
    runner = DnsRunner(
        provider,
        RunOptions(
            sources=["service", "ingress"],
            config=ControllerConfig(owner_id="kumo", source=source),
            kubeconfig=kubeapi.kubeconfig,
            interval=0.5,
            min_event_interval=0.02,
        ),
    )

    def ingress(name: str, host: str, labels: dict[str, str]) -> dict[str, Any]:
        backend = {"service": {"name": "web", "port": {"number": 80}}}
        path = {"path": "/", "pathType": "Prefix", "backend": backend}
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"rules": [{"host": host, "http": {"paths": [path]}}]},
        }

    async with running(runner):
        await kube.create(ingress("pub", "shop.example.com", {"dns": "public"}))
        await kube.create(ingress("priv", "admin.example.com", {"dns": "private"}))

        async def set_address(name: str, ip: str) -> None:
            # the emulator's ingress controller may write the status too: retry on a conflict
            for _ in range(20):
                obj = await kube.get("networking.k8s.io/v1", "Ingress", name, "default")
                assert obj is not None
                obj["status"] = {"loadBalancer": {"ingress": [{"ip": ip}]}}
                try:
                    await kube.replace(obj, subresource="status")
                    return
                except Conflict:
                    await asyncio.sleep(0.05)
            raise AssertionError(f"could not set the address of {name}")

        await set_address("pub", "192.0.2.10")
        await set_address("priv", "192.0.2.11")

        async def published() -> bool:
            return any(k.dns_name == "shop.example.com" for k in provider.store)

        await eventually(published, what="the Ingress record")
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        assert not any(k.dns_name == "admin.example.com" for k in provider.store)
        txt = next(e for k, e in provider.store.items() if k.dns_name == "a-shop.example.com")
        assert "external-dns/resource=ingress/default/pub" in txt.targets[0]


class ShiftedClock:
    """The monotonic clock plus an offset the test moves, so a long grace period can be made to pass."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


async def test_delete_grace_period_on_lost_lb_status(kubeapi: KubeAPI, kube: KubeClient) -> None:
    # a grace period no load can outlast while the address is briefly gone; the test moves the clock
    # to its last second later, and the runner's own timer then removes the record
    grace = 3600.0
    clock = ShiftedClock()
    provider = InMemoryProvider(zones=["example.com"])
    runner = DnsRunner(
        provider,
        RunOptions(
            config=ControllerConfig(owner_id="kumo", delete_grace_period=grace),
            kubeconfig=kubeapi.kubeconfig,
            interval=0.2,
            min_event_interval=0.02,
        ),
    )
    runner.controller.clock = clock

    async def present() -> bool:
        return any(k.dns_name == "www.example.com" and k.record_type == "CNAME" for k in provider.store)

    async def absent() -> bool:
        return not await present()

    async with running(runner):
        await kube.create(lb_service("web", "www.example.com"))
        await eventually(present, what="record published")
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        applied = runner.controller.applied_changes
        # the address goes briefly (the simulator gives it back at once): nothing is written
        svc = await kube.get("v1", "Service", "web", "default")
        assert svc is not None
        svc["status"] = {"loadBalancer": {}}
        await kube.replace(svc, subresource="status")
        back: dict[str, Any] = {}

        async def restored() -> bool:
            s = await kube.get("v1", "Service", "web", "default")
            if s and s.get("status", {}).get("loadBalancer", {}).get("ingress"):
                back.update(s)
                return True
            return False

        await eventually(restored, what="address back")
        await eventually(lambda: _seen(runner, back), what="the controller to see the address back")
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        assert not runner.controller.grace
        assert await present() and runner.controller.applied_changes == applied
        # now the load balancer goes for good: kept for the grace period, then removed
        await kube.patch("v1", "Service", "web", {"spec": {"type": "ClusterIP"}}, "default")
        await eventually(lambda: _in_grace(runner), what="grace period started")
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        assert await present(), "kept during the grace period"
        assert runner.controller.applied_changes == applied
        clock.offset += grace - 1.0
        await eventually(absent, what="record removed after the grace period")
        assert not runner.controller.grace


async def _seen(r: DnsRunner, obj: dict[str, Any]) -> bool:
    """The runner's informers have handed ``obj`` (or a later version) to the controller."""
    version = int(obj["metadata"]["resourceVersion"])
    return all(int(i.resource_version or 0) >= version for i in r.informers)


async def _in_grace(r: DnsRunner) -> bool:
    return bool(r.controller.grace)


async def test_gateway_httproute_source(kubeapi: KubeAPI, kube: KubeClient) -> None:
    provider = InMemoryProvider(zones=["example.com"])
    runner = DnsRunner(
        provider,
        RunOptions(
            sources=["gateway-httproute"],
            config=ControllerConfig(owner_id="kumo"),
            kubeconfig=kubeapi.kubeconfig,
            interval=0.5,
            min_event_interval=0.02,
        ),
    )
    gw_api = "gateway.networking.k8s.io/v1"
    async with running(runner):
        gw = await kube.create(
            {
                "apiVersion": gw_api,
                "kind": "Gateway",
                "metadata": {"name": "public", "namespace": "default"},
                "spec": {
                    "gatewayClassName": "x",
                    "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
                },
            }
        )
        await kube.create(
            {
                "apiVersion": gw_api,
                "kind": "HTTPRoute",
                "metadata": {"name": "shop", "namespace": "default"},
                "spec": {"hostnames": ["shop.example.com"], "parentRefs": [{"name": "public"}]},
            }
        )
        gw["status"] = {"addresses": [{"type": "IPAddress", "value": "192.0.2.44"}]}
        await kube.replace(gw, subresource="status")

        async def published() -> bool:
            return any(
                k.dns_name == "shop.example.com" and e.targets == ("192.0.2.44",)
                for k, e in provider.store.items()
            )

        await eventually(published, what="the HTTPRoute record at the Gateway's address")
        txt = next(e for k, e in provider.store.items() if k.dns_name == "a-shop.example.com")
        assert "external-dns/resource=httproute/default/shop" in txt.targets[0]


async def test_item11_only_the_leaders_pod_is_labelled_for_the_dns_service(
    kubeapi: KubeAPI, kube: KubeClient, tmp_path: Path
) -> None:
    """With the local provider only the leader serves DNS; the kumo-dns Service selects the Pod that
    carries kumo.dev/dns-serving=true, which follows the Lease, also when the leader dies."""
    from kumo.dns.providers.local import LocalProvider
    from kumo.dns.serving import SERVING_LABEL
    from kumo.render.addons.dns_controller import SERVING_LABEL as RENDERED_LABEL

    assert SERVING_LABEL == RENDERED_LABEL
    for pod in ("dns-a", "dns-b"):
        await kube.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": pod, "namespace": "default"},
                "spec": {"containers": [{"name": "c", "image": "kumo:test"}]},
            }
        )

    async def labelled() -> dict[str, str | None]:
        pods = await kube.list("v1", "Pod", "default")
        return {p["metadata"]["name"]: (p["metadata"].get("labels") or {}).get(SERVING_LABEL) for p in pods}

    db, zone, lease_name = tmp_path / "zone.sqlite", "sandbox.test", "kumo-dns-serving"
    exe = Path(sys.executable).parent / "kumo"
    with open(tmp_path / "leader.log", "wb") as log:
        leader = subprocess.Popen(
            [str(exe), "dns", "run", "--provider=local", f"--local-zone={zone}", f"--local-db={db}",
             "--local-listen=127.0.0.1:0", "--txt-owner-id=kumo", f"--kubeconfig={kubeapi.kubeconfig}",
             "--leader-elect", "--leader-election-namespace=default", f"--leader-election-id={lease_name}",
             "--lease-duration=2s", "--interval=0.3s", "--metrics-address=", "--log-level=warning"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "POD_NAME": "dns-a"},
        )  # fmt: skip
    b = DnsRunner(
        LocalProvider(db, zone, listen="127.0.0.1:0"),
        RunOptions(
            config=ControllerConfig(owner_id="kumo"),
            kubeconfig=kubeapi.kubeconfig,
            interval=0.3,
            leader_elect=True,
            lease_name=lease_name,
            lease_namespace="default",
            lease_duration=2,
            identity="b",
            serving_pod="dns-b",
        ),
    )

    async def is_(expected: dict[str, str | None]) -> bool:
        assert leader.returncode is None or leader.returncode == -9, (tmp_path / "leader.log").read_text()
        return await labelled() == expected

    task_b: asyncio.Task[int] | None = None
    try:
        await eventually(lambda: is_({"dns-a": "true", "dns-b": None}), what="the leader labels its Pod")
        task_b = asyncio.create_task(b.run())
        await eventually(lambda: _started(b, task_b), what="b started")
        assert not b.controller.is_leader
        assert await labelled() == {"dns-a": "true", "dns-b": None}  # a standby serves nothing
        leader.kill()  # no chance to take its own label off
        await asyncio.to_thread(leader.wait, 30)
        await eventually(lambda: is_({"dns-a": None, "dns-b": "true"}), what="the new leader moves the label")
        assert b.controller.is_leader
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait(30)
        if task_b is not None:
            await _cancel(task_b)
