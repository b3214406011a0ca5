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


GW_API = "gateway.networking.k8s.io/v1"


def http_route(name: str, namespace: str, hosts: list[str], **ref: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"parentRefs": [{"name": "edge", "namespace": "default", **ref}]}
    if hosts:
        spec["hostnames"] = hosts
    return {
        "apiVersion": GW_API,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


async def test_routes_meet_the_gateway_listeners(generic_kubeapi: KubeAPI, kube: KubeClient) -> None:
    provider = InMemoryProvider(zones=["gw.test"])
    runner = runner_for(generic_kubeapi, provider, "gateway-httproute")
    team = {"from": "Selector", "selector": {"matchLabels": {"team": "shop"}}}
    listeners = [
        {
            "name": "apps",
            "port": 80,
            "protocol": "HTTP",
            "hostname": "*.apps.gw.test",
            "allowedRoutes": {"namespaces": {"from": "All"}},
        },
        {"name": "www", "port": 80, "protocol": "HTTP", "hostname": "www.gw.test"},  # Same namespace
        {
            "name": "team",
            "port": 8443,
            "protocol": "HTTPS",
            "hostname": "*.team.gw.test",
            "allowedRoutes": {"namespaces": team},
        },
    ]

    def published() -> set[str]:
        return {k.dns_name for k in provider.store if k.record_type != "TXT"}

    async with running(runner):
        await kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        await kube.create(
            {
                "apiVersion": GW_API,
                "kind": "Gateway",
                "metadata": {"name": "edge", "namespace": "default"},
                "spec": {"gatewayClassName": "x", "listeners": listeners},
            }
        )
        # only the names a listener takes; a route without hostnames takes its listener's
        await kube.create(http_route("shop", "shop", ["a.apps.gw.test", "b.other.gw.test", "t.team.gw.test"]))
        await kube.create(http_route("home", "default", [], sectionName="www"))
        await kube.create(http_route("stray", "shop", [], sectionName="www"))  # www admits only default

        async def first() -> bool:
            return published() == {"a.apps.gw.test", "www.gw.test"}

        await eventually(first, what="the names the listeners admit")
        await eventually(lambda: _settled(runner), what="the controller to finish its work")
        assert published() == {"a.apps.gw.test", "www.gw.test"}
        # the namespace joins the team listener's selector: its name follows
        await kube.patch("v1", "Namespace", "shop", {"metadata": {"labels": {"team": "shop"}}})

        async def labelled() -> bool:
            return published() == {"a.apps.gw.test", "www.gw.test", "t.team.gw.test"}

        await eventually(labelled, what="the route's name on the listener selecting its namespace")
        # the route picks one listener by port: the others' names go
        await kube.patch(
            GW_API,
            "HTTPRoute",
            "shop",
            {"spec": {"parentRefs": [{"name": "edge", "namespace": "default", "port": 8443}]}},
            "shop",
        )

        async def by_port() -> bool:
            return published() == {"www.gw.test", "t.team.gw.test"}

        await eventually(by_port, what="only the listener on the parentRef's port")
