"""/healthz turns 503 once syncs have failed for longer than the threshold; /metrics has the names;
/status.json shows each name's desired and provider records, owner and error."""

from __future__ import annotations

import httpx
import pytest

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.health import HealthServer
from kumo.dns.providers.chaos import FlakyProvider
from kumo.dns.providers.inmemory import InMemoryProvider

pytestmark = pytest.mark.integration


class Clock:
    t = 100.0

    def __call__(self) -> float:
        return self.t


async def test_healthz_reflects_sync_failures() -> None:
    clock = Clock()
    flaky = FlakyProvider(InMemoryProvider(zones=["ex.com"]), error_rate=1.0, seed=0)
    ctrl = Controller(flaky, ControllerConfig(owner_id="kumo", health_threshold=60), clock=clock)
    ctrl.provider_loaded = True
    ctrl.on_object(
        "Service",
        "ADDED",
        {
            "metadata": {
                "name": "w",
                "namespace": "d",
                "annotations": {"external-dns.alpha.kubernetes.io/hostname": "w.ex.com"},
            },
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}},
        },
    )
    server = HealthServer(ctrl, "127.0.0.1:0")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            await ctrl.reconcile()
            assert (await http.get("/healthz")).status_code == 200  # failing, but not for long yet
            clock.t += 61
            view = (await http.get("/status.json")).json()
            (entry,) = view["names"]
            assert entry["name"] == "w.ex.com" and entry["error"] and "injected failure" in entry["error"]
            assert entry["desired"] == [{"type": "A", "targets": ["10.0.0.1"], "ttl": 0}]
            assert entry["records"] == [] and not entry["matches"]
            bad = await http.get("/healthz")
            assert bad.status_code == 503 and "injected failure" in bad.json()["detail"]
            metrics = (await http.get("/metrics")).text
            assert "kumo_dns_failed_changes_total 1.0" in metrics
            assert "external_dns_source_endpoints_total 1.0" in metrics
            flaky.error_rate = 0.0
            clock.t += 1000  # past the retry backoff
            await ctrl.reconcile()
            assert (await http.get("/healthz")).status_code == 200
            (entry,) = (await http.get("/status.json")).json()["names"]
            assert entry["matches"] and entry["owned"] and entry["owners"] == ["kumo"]
            assert entry["resources"] == ["service/d/w"] and entry["error"] is None
    finally:
        await server.stop()


def test_item10_metrics_bind_loopback_outside_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    from kumo.dns.health import parse_address

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert parse_address(":7979") == ("127.0.0.1", 7979)
    assert parse_address("0.0.0.0:7979") == ("0.0.0.0", 7979)  # asked for explicitly
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert parse_address(":7979") == ("0.0.0.0", 7979)


async def test_item10_health_server_default_address_is_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    ctrl = Controller(InMemoryProvider(zones=["ex.com"]), ControllerConfig(owner_id="kumo"))
    server = HealthServer(ctrl, ":0")
    await server.start()
    try:
        bound = {sock.getsockname()[0] for s in server.server.servers for sock in s.sockets}
        assert bound == {"127.0.0.1"}
    finally:
        await server.stop()
