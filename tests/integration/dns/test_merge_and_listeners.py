"""On the emulator: Services sharing a name are one record set; routes meet their Gateway listeners."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kumo.dns.controller import ControllerConfig
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.runner import DnsRunner, RunOptions
from kumo.kube import KubeClient, connect
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation
from tests.integration.dns.test_controller_kube import _settled, eventually, running

pytestmark = pytest.mark.integration

H = "external-dns.alpha.kubernetes.io/hostname"


@pytest.fixture(scope="module")
def generic_kubeapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeAPI]:
    """One emulator for the module: load balancers get IPs (not ELB hostnames), Gateways addresses."""
    path: Path = tmp_path_factory.mktemp("kubeapi")
    with KubeAPI(
        kubeconfig=path / "kubeconfig",
        seed=0,
        bookmark_interval=1.0,
        controllers=simulation(lb_delay=0.05, lb_mode="generic", gateways=True),
    ) as api:
        yield api


@pytest.fixture
async def kube(generic_kubeapi: KubeAPI) -> AsyncIterator[KubeClient]:
    client = await connect(generic_kubeapi.kubeconfig)
    try:
        yield client
    finally:
        await client.close()


def runner_for(api: KubeAPI, provider: InMemoryProvider, *sources: str) -> DnsRunner:
    return DnsRunner(
        provider,
        RunOptions(
            sources=list(sources or ["service"]),
            config=ControllerConfig(owner_id="kumo"),
            kubeconfig=api.kubeconfig,
            interval=0.5,
            min_event_interval=0.02,
        ),
    )


def lb_service(name: str, host: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": {H: host}},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]},
    }


def resource_of(provider: InMemoryProvider, txt_name: str) -> str:
    for key, ep in provider.store.items():
        if key.dns_name == txt_name and key.record_type == "TXT":
            return ep.targets[0].split("external-dns/resource=")[1].split(",")[0].strip('"')
    return ""


async def test_services_at_one_name_are_one_record_set(generic_kubeapi: KubeAPI, kube: KubeClient) -> None:
    provider = InMemoryProvider(zones=["merge.test"])
    runner = runner_for(generic_kubeapi, provider)

    async def ips_of(name: str) -> str:
        svc = await kube.get("v1", "Service", name, "default")
        assert svc is not None
        return str(
            ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress", [{}])[0].get("ip", "")
        )

    def a_record() -> tuple[str, ...]:
        found = [e.targets for k, e in provider.store.items() if k.record_type == "A"]
        return tuple(sorted(found[0])) if found else ()

    async with running(runner):
        await kube.create(lb_service("web-b", "www.merge.test"))
        await kube.create(lb_service("web-a", "www.merge.test"))

        async def both_published() -> bool:
            want = sorted([await ips_of("web-a"), await ips_of("web-b")])
            return all(want) and sorted(a_record()) == want

        await eventually(both_published, what="one A record set with both Services' addresses")
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        assert [k.record_type for k in provider.store if k.dns_name == "www.merge.test"] == ["A"]
        assert resource_of(provider, "a-www.merge.test") == "service/default/web-a"

        b_ip = await ips_of("web-b")
        await kube.delete("v1", "Service", "web-a", "default")

        async def only_b() -> bool:
            return (
                a_record() == (b_ip,) and resource_of(provider, "a-www.merge.test") == "service/default/web-b"
            )

        await eventually(only_b, what="the other Service's address alone, and its ownership")
        await kube.delete("v1", "Service", "web-b", "default")

        async def gone() -> bool:
            return not provider.store

        await eventually(gone, what="the record set and its TXT record deleted")
