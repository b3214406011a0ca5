"""The local provider: SQLite-backed zone answered by the embedded server, checked with real ``dig``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Changes
from kumo.dns.providers.local import LocalProvider
from tests.integration.dns.conftest import dig, lb_service

pytestmark = pytest.mark.integration

ZONE = "sandbox.test"


async def adig(port: int, name: str, rtype: str = "A", tcp: bool = False) -> list[str]:
    return await asyncio.to_thread(dig, port, name, rtype, tcp)


async def test_dig_answers_udp_and_tcp_with_soa_and_ns(tmp_path: Path) -> None:
    p = LocalProvider(tmp_path / "zone.db", ZONE)
    try:
        ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
        ctrl.on_object("Service", "ADDED", lb_service("web", f"www.{ZONE}", {"ip": "10.0.0.5"}))
        ctrl.on_object("Service", "ADDED", lb_service("lb", f"lb.{ZONE}", {"hostname": f"www.{ZONE}"}))
        assert not (await ctrl.reconcile()).failed
        assert p.server is not None
        port = p.server.port
        assert await adig(port, f"www.{ZONE}") == ["10.0.0.5"]
        assert await adig(port, f"www.{ZONE}", tcp=True) == ["10.0.0.5"]
        assert await adig(port, f"lb.{ZONE}") == ["10.0.0.5", f"www.{ZONE}."]  # CNAME followed in-zone
        assert await adig(port, ZONE, "NS") == [f"ns1.{ZONE}."]
        soa = await adig(port, ZONE, "SOA")
        assert soa[0].startswith(f"ns1.{ZONE}. hostmaster.{ZONE}.")
        assert (await adig(port, f"a-www.{ZONE}", "TXT"))[0].startswith('"heritage=external-dns')
        assert await adig(port, f"nope.{ZONE}") == []
        assert await adig(port, "example.org") == []  # refused: not our zone
        # an SRV target (a NodePort Service's) is served as an absolute name
        srv = Endpoint(f"_web._tcp.www.{ZONE}", (f"0 50 30080 www.{ZONE}",), "SRV")
        assert not (await p.apply_changes(Changes(create=[srv]))).failed
        assert await adig(port, f"_web._tcp.www.{ZONE}", "SRV") == [f"0 50 30080 www.{ZONE}."]
    finally:
        await p.close()


async def test_records_survive_restart(tmp_path: Path) -> None:
    db = tmp_path / "zone.db"
    p = LocalProvider(db, ZONE)
    await p.apply_changes(Changes(create=[Endpoint(f"keep.{ZONE}", ("10.1.1.1",), "A", 60)]))
    serial = p.zone.serial
    await p.close()
    p2 = LocalProvider(db, ZONE)
    try:
        recs = await p2.records()
        assert [(e.dns_name, e.targets, e.record_ttl) for e in recs] == [(f"keep.{ZONE}", ("10.1.1.1",), 60)]
        assert p2.zone.serial == serial
        assert p2.server is not None
        assert await adig(p2.server.port, f"keep.{ZONE}") == ["10.1.1.1"]
    finally:
        await p2.close()


async def test_records_reread_what_another_process_wrote(tmp_path: Path) -> None:
    """A standby sharing the zone file reads the previous leader's writes when it takes over."""
    db = tmp_path / "zone.db"
    leader = LocalProvider(db, ZONE)
    standby = LocalProvider(db, ZONE)  # opened before the leader writes, as a warm standby is
    try:
        await leader.apply_changes(Changes(create=[Endpoint(f"new.{ZONE}", ("10.2.2.2",), "A", 60)]))
        recs = await standby.records()
        assert [(e.dns_name, e.targets) for e in recs] == [(f"new.{ZONE}", ("10.2.2.2",))]
        assert standby.server is not None
        assert await adig(standby.server.port, f"new.{ZONE}") == ["10.2.2.2"]
        # the standby now plans from the truth: deleting the leader's record works
        result = await standby.apply_changes(Changes(delete=recs))
        assert not result.failed
        assert await leader.records() == []
    finally:
        await leader.close()
        await standby.close()


async def test_invalid_record_fails_only_its_group(tmp_path: Path) -> None:
    p = LocalProvider(tmp_path / "zone.db", ZONE, listen=None)
    try:
        result = await p.apply_changes(
            Changes(
                create=[
                    Endpoint(f"ok.{ZONE}", ("10.0.0.1",), "A"),
                    Endpoint(f"bad.{ZONE}", ("300.1.1.1",), "A"),
                    Endpoint("outside.example.org", ("10.0.0.2",), "A"),
                ]
            )
        )
        assert sorted(result.failed) == [f"bad.{ZONE}", "outside.example.org"]
        assert [e.dns_name for e in await p.records()] == [f"ok.{ZONE}"]
    finally:
        await p.close()


async def test_item08_tcp_listener_has_an_idle_timeout_and_a_connection_cap(tmp_path: Path) -> None:
    from kumo.dns.providers.local import LocalDnsServer

    zone = LocalProvider(tmp_path / "zone.db", ZONE, listen=None).zone
    server = LocalDnsServer(zone, tcp_idle_timeout=0.3, tcp_max_connections=3)
    await server.start()
    try:
        conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(6)]
        # each connection, idle, is closed by the server: 3 at once (over the cap), 3 after the timeout
        for reader, writer in conns:
            assert await asyncio.wait_for(reader.read(), 30) == b""
            writer.close()
        assert server.dropped == {"tcp-connection-limit": 3, "tcp-idle-timeout": 3}
        assert server.tcp_connections == 0
        assert await adig(server.port, ZONE, "NS", tcp=True) == [f"ns1.{ZONE}."]  # still serving
    finally:
        await server.stop()
        zone.close()


async def test_item09_responses_and_malformed_packets_are_dropped_quietly_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    import dns.message

    from kumo.dns.metrics import DnsMetrics

    p = LocalProvider(tmp_path / "zone.db", ZONE)
    metrics = DnsMetrics()
    metrics.dropped_packets.source = p.dropped_packets
    try:
        await p.start()
        assert p.server is not None
        query = dns.message.make_query(f"www.{ZONE}", "A")
        reply = dns.message.make_response(query)  # QR=1
        good = dns.message.make_query(ZONE, "NS")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            for packet in (reply.to_wire(), b"\x00\x01garbage", good.to_wire()):
                await loop.sock_sendto(sock, packet, ("127.0.0.1", p.server.port))
            data = await asyncio.wait_for(loop.sock_recv(sock, 4096), 30)
        finally:
            sock.close()
        assert dns.message.from_wire(data).id == good.id  # the first answer is the good query's
        assert p.dropped_packets() == {"response": 1, "malformed": 1}
        text = metrics.render().decode()
        assert 'kumo_dns_dropped_packets_total{reason="response"} 1.0' in text
        assert 'kumo_dns_dropped_packets_total{reason="malformed"} 1.0' in text
        assert not [r for r in caplog.records if r.levelno >= 40], caplog.text
        assert "Traceback" not in caplog.text
    finally:
        await p.close()
