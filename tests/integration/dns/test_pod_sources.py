"""NodePort and headless Services against the emulator (simulated Nodes, StatefulSet Pods and their
EndpointSlices), and the controller's watches against the ClusterRole the table of sources gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kumo.dns.controller import ControllerConfig
from kumo.dns.endpoint import MANAGED_TYPES
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.runner import DnsRunner, RunOptions
from kumo.dns.sources import SourceConfig
from kumo.kube import Conflict, KubeClient, connect
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.kubeapi.catalog import Catalog
from kumo.sourcekinds import SOURCE_KINDS, rbac_rules
from tests.integration.dns.test_controller_kube import eventually, running

pytestmark = pytest.mark.integration

A = "external-dns.alpha.kubernetes.io/"


@pytest.fixture
async def client(kubeapi: KubeAPI) -> AsyncIterator[KubeClient]:
    kube = await connect(kubeapi.kubeconfig)
    try:
        yield kube
    finally:
        await kube.close()


def runner_for(kubeapi: KubeAPI, provider: InMemoryProvider, **source: Any) -> DnsRunner:
    return DnsRunner(
        provider,
        RunOptions(
            sources=["service"],
            config=ControllerConfig(
                owner_id="kumo",
                managed_types=MANAGED_TYPES | {"SRV"},
                source=SourceConfig(**source),
            ),
            kubeconfig=kubeapi.kubeconfig,
            interval=0.5,
            min_event_interval=0.02,
        ),
    )


def records(provider: InMemoryProvider) -> dict[tuple[str, str], tuple[str, ...]]:
    return {
        (k.dns_name, k.record_type): e.targets for k, e in provider.store.items() if k.record_type != "TXT"
    }


async def node_addresses(kube: KubeClient, kind: str) -> list[str]:
    nodes = await kube.list("v1", "Node")
    return sorted(
        a["address"]
        for n in nodes
        for a in (n.get("status") or {}).get("addresses") or []
        if a["type"] == kind
    )


async def test_node_port_service_publishes_node_addresses_and_srv(
    kubeapi: KubeAPI, client: KubeClient
) -> None:
    provider = InMemoryProvider(zones=["example.com"])
    async with running(runner_for(kubeapi, provider)):
        svc = await client.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "np",
                    "namespace": "default",
                    "annotations": {A + "hostname": "np.example.com"},
                },
                "spec": {
                    "type": "NodePort",
                    "selector": {"app": "np"},
                    "ports": [{"port": 80, "protocol": "TCP"}],
                },
            }
        )
        node_port = svc["spec"]["ports"][0]["nodePort"]
        internal = tuple(await node_addresses(client, "InternalIP"))
        assert internal, "the emulator simulates nodes with InternalIPs"
        want = {
            ("np.example.com", "A"): internal,  # no node has an ExternalIP: the InternalIPs
            ("_np._tcp.np.example.com", "SRV"): (f"0 50 {node_port} np.example.com",),
        }

        async def published() -> bool:
            return records(provider) == want

        await eventually(published, what=f"{want}, found {records(provider)}")
        txt = provider.store
        assert any(k.dns_name == "srv-_np._tcp.np.example.com" for k in txt)  # owned like the others
        # a node gains an ExternalIP: the Node event alone moves the record to the public address
        for _ in range(20):
            node = (await client.list("v1", "Node"))[0]
            node["status"]["addresses"].append({"type": "ExternalIP", "address": "203.0.113.7"})
            try:
                await client.replace(node, subresource="status")
                break
            except Conflict:
                await asyncio.sleep(0.05)
        want[("np.example.com", "A")] = ("203.0.113.7",)
        await eventually(published, what="the A record at the node's ExternalIP")
        # access: private keeps the InternalIPs
        svc = await client.get("v1", "Service", "np", "default")
        assert svc is not None
        svc["metadata"]["annotations"][A + "access"] = "private"
        await client.replace(svc)
        want[("np.example.com", "A")] = internal
        await eventually(published, what="the A record back at the InternalIPs")


async def test_headless_service_publishes_statefulset_pods(kubeapi: KubeAPI, client: KubeClient) -> None:
    provider = InMemoryProvider(zones=["example.com"])
    labels = {"app": "db"}
    async with running(runner_for(kubeapi, provider)):
        await client.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "db",
                    "namespace": "default",
                    "annotations": {A + "hostname": "db.example.com"},
                },
                "spec": {"clusterIP": "None", "selector": labels, "ports": [{"port": 5432}]},
            }
        )
        await client.create(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "default"},
                "spec": {
                    "serviceName": "db",
                    "replicas": 2,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
                    },
                },
            }
        )

        async def pods() -> dict[str, dict[str, Any]]:
            found = await client.list("v1", "Pod", "default", label_selector="app=db")
            return {p["metadata"]["name"]: p for p in found if (p.get("status") or {}).get("podIP")}

        async def pod_records(field: str) -> bool:
            by_name = await pods()
            if len(by_name) != 2:
                return False
            want = {
                ("db.example.com", "A"): tuple(sorted({p["status"][field] for p in by_name.values()})),
                **{(f"{name}.db.example.com", "A"): (p["status"][field],) for name, p in by_name.items()},
            }
            return records(provider) == want

        await eventually(lambda: pod_records("podIP"), what=f"the pods' records, found {records(provider)}")
        # endpoints-type HostIP: the nodes' addresses instead
        svc = await client.get("v1", "Service", "db", "default")
        assert svc is not None
        svc["metadata"]["annotations"][A + "endpoints-type"] = "HostIP"
        await client.replace(svc)
        await eventually(lambda: pod_records("hostIP"), what=f"the hosts' records, found {records(provider)}")
        # one replica: db-1's name goes, through the EndpointSlice and Pod events alone
        sts = await client.get("apps/v1", "StatefulSet", "db", "default")
        assert sts is not None
        sts["spec"]["replicas"] = 1
        await client.replace(sts)

        async def scaled_down() -> bool:
            names = {name for name, _ in records(provider)}
            return names == {"db.example.com", "db-0.db.example.com"}

        await eventually(scaled_down, what=f"db-1's record deleted, found {records(provider)}")


async def test_the_cluster_role_grants_exactly_what_the_controller_watches(
    kubeapi: KubeAPI, client: KubeClient
) -> None:
    """The informers a runner starts, named by the emulator's catalogue, against ``rbac_rules``."""
    catalog = Catalog()
    for sources in [[name] for name in SOURCE_KINDS] + [list(SOURCE_KINDS)]:
        runner = DnsRunner(InMemoryProvider(), RunOptions(sources=sources), client=client)
        runner._make_informers(client)
        watched = set()
        for informer in runner.informers:
            rt = catalog.by_kind(informer.api_version, informer.kind)
            # the experimental route kinds (v1alpha2) are CRDs the catalogue does not carry
            plural = rt.plural if rt is not None else informer.kind.lower() + "s"
            watched.add((informer.api_version.rpartition("/")[0], plural))
        rules = rbac_rules(sources)
        granted = {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
        assert watched == granted, sources
        assert all(rule["verbs"] == ["get", "list", "watch"] for rule in rules)
