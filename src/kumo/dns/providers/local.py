"""The local provider: a zone kept in SQLite and served by an embedded authoritative DNS server.

``dig @127.0.0.1 -p PORT name`` answers from it over UDP and TCP, with SOA and NS at the apex; the
records survive a restart because every change is committed to SQLite before it is acknowledged.
It is the sandbox's provider: real DNS answers, no cloud.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import struct
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from kumo.dns.endpoint import Endpoint, EndpointKey, normalize_name, zone_file_text
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes
from kumo.dns.providers.base import ApplyResult, Provider, group_changes
from kumo.errors import UsageError

log = logging.getLogger("kumo.dns.local")

DEFAULT_TTL = 300
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    name TEXT NOT NULL, type TEXT NOT NULL, set_identifier TEXT NOT NULL DEFAULT '',
    ttl INTEGER NOT NULL, targets TEXT NOT NULL, provider_specific TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (name, type, set_identifier)
);
CREATE TABLE IF NOT EXISTS zone (origin TEXT PRIMARY KEY, serial INTEGER NOT NULL);
"""


def _rdata_text(rtype: str, target: str) -> str:
    return zone_file_text(rtype, target)


class LocalZone:
    """One zone in SQLite, mirrored in memory for answering queries."""

    def __init__(self, path: str | Path, origin: str) -> None:
        self.origin = normalize_name(origin)
        if not self.origin:
            raise UsageError("--local-zone: a zone name is required, e.g. sandbox.test")
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.executescript(_SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO zone VALUES (?, 1)", (self.origin,))
        self.records: dict[EndpointKey, Endpoint] = {}
        self.reload()

    def reload(self) -> None:
        """Mirror the SQLite file again: another process (a previous leader) may have written it."""
        records = {}
        for name, rtype, set_id, ttl, targets, ps in self.db.execute("SELECT * FROM records"):
            ep = Endpoint(
                name, tuple(json.loads(targets)), rtype, ttl, set_id, provider_specific=json.loads(ps)
            )
            records[ep.key] = ep
        self.records = records

    @property
    def serial(self) -> int:
        row = self.db.execute("SELECT serial FROM zone WHERE origin = ?", (self.origin,)).fetchone()
        return int(row[0]) if row else 1

    def contains(self, name: str) -> bool:
        return name == self.origin or name.endswith("." + self.origin)

    def validate(self, ep: Endpoint) -> None:
        if not self.contains(ep.dns_name):
            raise ValueError(f"{ep.dns_name} is not inside zone {self.origin}")
        for target in ep.targets:
            dns.rdata.from_text(dns.rdataclass.IN, ep.record_type, _rdata_text(ep.record_type, target))

    def apply(self, group: Changes) -> None:
        """Apply one group atomically (one SQLite transaction), or raise without changing anything."""
        for ep in group.create:
            self.validate(ep)
            if ep.key in self.records:
                raise ValueError(f"{ep} already exists")
        for ep in group.update_new:
            self.validate(ep)
        for ep in [*group.update_old, *group.delete]:
            if ep.key not in self.records:
                raise ValueError(f"{ep} does not exist")
        cur = self.db.cursor()
        cur.execute("BEGIN")
        try:
            for ep in [*group.delete, *group.update_old]:
                cur.execute(
                    "DELETE FROM records WHERE name=? AND type=? AND set_identifier=?",
                    (ep.dns_name, ep.record_type, ep.set_identifier),
                )
            for ep in [*group.update_new, *group.create]:
                cur.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        ep.dns_name,
                        ep.record_type,
                        ep.set_identifier,
                        ep.record_ttl or DEFAULT_TTL,
                        json.dumps(list(ep.targets)),
                        json.dumps(ep.provider_specific),
                    ),
                )
            cur.execute("UPDATE zone SET serial = serial + 1 WHERE origin = ?", (self.origin,))
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        for ep in [*group.delete, *group.update_old]:
            self.records.pop(ep.key, None)
        for ep in [*group.update_new, *group.create]:
            stored = ep.copy()
            stored.labels = {}
            stored.record_ttl = ep.record_ttl or DEFAULT_TTL
            self.records[stored.key] = stored

    def close(self) -> None:
        self.db.close()

    # -- answering --------------------------------------------------------------------------------

    def _apex(self) -> list[dns.rrset.RRset]:
        origin = self.origin + "."
        soa = dns.rrset.from_text(
            origin, 60, "IN", "SOA", f"ns1.{origin} hostmaster.{origin} {self.serial} 3600 600 86400 60"
        )
        ns = dns.rrset.from_text(origin, 3600, "IN", "NS", f"ns1.{origin}")
        return [soa, ns]

    def _rrsets_at(self, name: str) -> list[dns.rrset.RRset]:
        out = []
        if name == self.origin:
            out.extend(self._apex())
        if name == "ns1." + self.origin:
            out.append(dns.rrset.from_text(name + ".", 3600, "IN", "A", "127.0.0.1"))
        for ep in self.records.values():
            if ep.dns_name == name and ep.targets:
                out.append(
                    dns.rrset.from_text_list(
                        name + ".",
                        ep.record_ttl or DEFAULT_TTL,
                        "IN",
                        ep.record_type,
                        [_rdata_text(ep.record_type, t) for t in ep.targets],
                    )
                )
        return out

    def _wildcard(self, name: str) -> str | None:
        labels = name.split(".")
        for i in range(1, len(labels)):
            candidate = "*." + ".".join(labels[i:])
            if not self.contains(candidate.removeprefix("*.")):
                break
            if any(ep.dns_name == candidate for ep in self.records.values()):
                return candidate
        return None

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        question = query.question[0]
        name = normalize_name(question.name.to_text())
        if not self.contains(name):
            response.flags &= ~dns.flags.AA
            response.set_rcode(dns.rcode.REFUSED)
            return response
        qtype = question.rdtype
        found = False
        for _ in range(8):  # follow CNAMEs inside the zone
            rrsets = self._rrsets_at(name)
            if not rrsets:
                wildcard = self._wildcard(name)
                if wildcard is not None:
                    rrsets = [
                        dns.rrset.from_text_list(
                            name + ".", r.ttl, "IN", r.rdtype, [rd.to_text() for rd in r]
                        )
                        for r in self._rrsets_at(wildcard)
                    ]
            if not rrsets:
                break
            found = True
            match = [r for r in rrsets if r.rdtype == qtype or qtype == dns.rdatatype.ANY]
            if match:
                response.answer.extend(match)
                return response
            cname = [r for r in rrsets if r.rdtype == dns.rdatatype.CNAME]
            if cname:
                response.answer.extend(cname)
                target = normalize_name(next(iter(cname[0])).to_text())
                if not self.contains(target):
                    return response
                name = target
                continue
            break
        if not found and not response.answer:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(self._apex()[0])
        return response


class Answerer(Protocol):
    """What the server asks: a zone, or anything else that answers queries (the sandbox's view of
    Route 53 does)."""

    def answer(self, query: dns.message.Message) -> dns.message.Message: ...


# As authoritative servers bound TCP (BIND: tcp-clients 150, tcp-idle-timeout 30 s): a client
# that opens connections and sends nothing must not hold a file descriptor each, forever.
TCP_IDLE_TIMEOUT = 10.0  # seconds a TCP connection may wait for its next query
TCP_MAX_CONNECTIONS = 150  # open TCP connections; one beyond is closed at once

# Why a packet got no answer, as counted in kumo_dns_dropped_packets_total{reason}.
DROP_MALFORMED = "malformed"  # not a DNS message
DROP_RESPONSE = "response"  # QR=1: a response, never answered (it could start a loop between servers)
DROP_TCP_LIMIT = "tcp-connection-limit"
DROP_TCP_IDLE = "tcp-idle-timeout"


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: LocalDnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        wire = self.server.respond(data, max_size=512)
        if wire is not None and self.transport is not None:
            self.transport.sendto(wire, addr)


def _respond(
    zone: Answerer, data: bytes, max_size: int = 65535, dropped: Counter[str] | None = None
) -> bytes | None:
    """The answer to one packet, or None to drop it quietly (counted by reason in ``dropped``)."""
    try:
        query = dns.message.from_wire(data)
    except Exception:  # dnspython raises more than DNSException on garbage; none of it is ours to log
        _count(dropped, DROP_MALFORMED)
        return None
    if query.flags & dns.flags.QR:
        _count(dropped, DROP_RESPONSE)
        return None
    try:
        response = zone.answer(query)
    except Exception:
        log.exception("answering a query failed")
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
    limit = max(max_size, query.payload) if query.edns >= 0 and max_size < 65535 else max_size
    try:
        return bytes(response.to_wire(max_size=limit))
    except dns.exception.TooBig:
        # too big for UDP: answer empty with TC set, so the client retries over TCP
        response.answer.clear()
        response.authority.clear()
        response.flags |= dns.flags.TC
        return bytes(response.to_wire(max_size=limit))


def _count(dropped: Counter[str] | None, reason: str) -> None:
    if dropped is not None:
        dropped[reason] += 1


class LocalDnsServer:
    """UDP and TCP on one port (0 picks a free one; both protocols get the same number).

    ``dropped`` counts the packets and connections it dropped without an answer, by reason."""

    def __init__(
        self,
        zone: Answerer,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tcp_idle_timeout: float = TCP_IDLE_TIMEOUT,
        tcp_max_connections: int = TCP_MAX_CONNECTIONS,
    ) -> None:
        self.zone = zone
        self.host = host
        self.port = port
        self.tcp_idle_timeout = tcp_idle_timeout
        self.tcp_max_connections = tcp_max_connections
        self.tcp_connections = 0
        self.dropped: Counter[str] = Counter()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def respond(self, data: bytes, max_size: int = 65535) -> bytes | None:
        return _respond(self.zone, data, max_size, self.dropped)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):
            self._tcp = await asyncio.start_server(self._handle_tcp, self.host, self.port)
            port = int(self._tcp.sockets[0].getsockname()[1])
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=(self.host, port)
                )
            except OSError:
                self._tcp.close()
                if self.port:
                    raise
                continue
            self._udp = transport
            self.port = port
            return
        raise OSError("could not bind UDP and TCP on the same free port")

    async def _handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.tcp_connections >= self.tcp_max_connections:
            self.dropped[DROP_TCP_LIMIT] += 1
            writer.close()
            return
        self.tcp_connections += 1
        try:
            while True:
                try:
                    header = await asyncio.wait_for(reader.readexactly(2), self.tcp_idle_timeout)
                    (length,) = struct.unpack("!H", header)
                    data = await asyncio.wait_for(reader.readexactly(length), self.tcp_idle_timeout)
                except TimeoutError:
                    self.dropped[DROP_TCP_IDLE] += 1
                    break
                wire = self.respond(data)
                if wire is None:
                    break
                writer.write(struct.pack("!H", len(wire)) + wire)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.tcp_connections -= 1
            writer.close()

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()


class LocalProvider(Provider):
    name = "local"

    def __init__(self, db_path: str | Path, zone: str, listen: str | None = "127.0.0.1:0") -> None:
        super().__init__()
        self.zone = LocalZone(db_path, zone)
        self.listen = listen
        self.server: LocalDnsServer | None = None

    async def start(self) -> None:
        if self.listen and self.server is None:
            host, _, port = self.listen.rpartition(":")
            if not port.isdigit():
                raise UsageError(f"--local-listen: expected host:port, found {self.listen!r}")
            self.server = LocalDnsServer(self.zone, host or "127.0.0.1", int(port))
            await self.server.start()

    def domain_filter(self) -> DomainFilter:
        return DomainFilter.of([self.zone.origin])

    async def records(self) -> list[Endpoint]:
        await self.start()
        self.calls += 1
        # a full read is a real read (at start, resync and leadership change), never the mirror alone:
        # a standby sharing the file must see what the leader it replaces wrote, or it would overwrite
        self.zone.reload()
        return [ep.copy() for ep in self.zone.records.values()]

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        await self.start()
        self.calls += 1
        result = ApplyResult()
        for key, group in group_changes(changes).items():
            try:
                self.zone.apply(group)
            except Exception as exc:
                result.failed[key] = str(exc)
        return result

    def dropped_packets(self) -> dict[str, int]:
        return dict(self.server.dropped) if self.server is not None else {}

    def load(self, endpoints: Iterable[Endpoint]) -> None:
        """Seed records directly (used by the sandbox and tests to model records made elsewhere)."""
        self.zone.apply(Changes(create=list(endpoints)))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        self.zone.close()
