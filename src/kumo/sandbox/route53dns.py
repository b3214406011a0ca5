"""The sandbox's DNS server: answers for its Route 53 zones from what moto holds, as Route 53 would.

``dig @127.0.0.1 -p PORT nginx.example.com`` then sees what a resolver would see on AWS:

- the zones are moto's public hosted zones (a private zone only when no public zone has its name),
  read through boto3 and ``AWS_ENDPOINT_URL``, the same API the DNS controller writes through;
- an ALIAS record is answered as A/AAAA records, as Route 53 does: an alias to a simulated load
  balancer gives that balancer's addresses (:func:`kumo.sandbox.simulate.lb_addresses`), an alias
  to a name in a served zone gives that name's records;
- the simulated load balancers' own names (``*.elb.amazonaws.com``) answer with the same addresses;
- the answers are authoritative (AA), with NXDOMAIN and NODATA told apart and the SOA in the
  authority section; names outside every zone are REFUSED.

Records are read from moto at most every ``max_age`` seconds, on demand, so an idle server makes no
calls and a change shows within that time. The UDP/TCP transport is the local provider's server.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from kumo.dns import LocalDnsServer
from kumo.sandbox.simulate import lb_addresses

log = logging.getLogger("kumo.sandbox.route53dns")

_LB_SUFFIX = ".amazonaws.com"
_ALIAS_TTL = 60


def _name(text: str) -> str:
    # Route 53 spells '*' as \052 in names it returns
    return text.replace("\\052", "*").rstrip(".").lower()


def _rdata_values(rtype: str, values: list[str]) -> list[str]:
    """The values that parse as ``rtype`` rdata. moto 5.2 returns the SOA it makes for a new zone as
    the text of a Python dict (``"{'Value': 'ns-2048... 86400'}"``), so that shape is unwrapped."""
    out = []
    for value in values:
        if value.startswith("{'Value':"):
            with contextlib.suppress(ValueError, SyntaxError):
                value = str(ast.literal_eval(value)["Value"])
        try:
            dns.rdata.from_text(dns.rdataclass.IN, rtype, value)
        except Exception:
            log.warning("skipping a %s value that is not valid rdata: %r", rtype, value)
            continue
        out.append(value)
    return out


def is_lb_name(name: str) -> bool:
    """A simulated load balancer's name: classic ELB, ALB or NLB form."""
    return name.endswith(_LB_SUFFIX) and ".elb." in f".{name}"


@dataclass
class RecordSet:
    rtype: str
    ttl: int
    values: list[str] = field(default_factory=list)
    alias: str | None = None  # the alias target's DNS name


@dataclass
class Zone:
    origin: str
    names: dict[str, list[RecordSet]] = field(default_factory=dict)

    def contains(self, name: str) -> bool:
        return name == self.origin or name.endswith("." + self.origin)

    def exists(self, name: str) -> bool:
        # an empty non-terminal (a name with records only below it) exists too: NODATA, not NXDOMAIN
        return name in self.names or any(n.endswith("." + name) for n in self.names)

    def soa(self) -> dns.rrset.RRset | None:
        for rs in self.names.get(self.origin, []):
            if rs.rtype == "SOA" and rs.values:
                return dns.rrset.from_text_list(self.origin + ".", rs.ttl, "IN", "SOA", rs.values)
        return None


class Route53View:
    """Moto's Route 53 zones, answered from; reloaded when older than ``max_age`` seconds."""

    def __init__(self, client: Any = None, max_age: float = 0.5) -> None:
        self.client = client if client is not None else boto3.client("route53")
        self.max_age = max_age
        self.zones: list[Zone] = []
        self._loaded_at = float("-inf")
        self.loaded = False

    def load(self) -> None:
        zones: dict[str, tuple[bool, str]] = {}
        for page in self.client.get_paginator("list_hosted_zones").paginate():
            for hz in page["HostedZones"]:
                origin = _name(hz["Name"])
                private = bool((hz.get("Config") or {}).get("PrivateZone"))
                if origin not in zones or (zones[origin][0] and not private):
                    zones[origin] = (private, hz["Id"])
        loaded: list[Zone] = []
        for origin, (_, zone_id) in zones.items():
            zone = Zone(origin)
            for page in self.client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                for rrs in page["ResourceRecordSets"]:
                    name = _name(rrs["Name"])
                    alias = rrs.get("AliasTarget")
                    record = RecordSet(
                        rrs["Type"],
                        int(rrs.get("TTL", _ALIAS_TTL)),
                        _rdata_values(rrs["Type"], [r["Value"] for r in rrs.get("ResourceRecords", [])]),
                        _name(alias["DNSName"]) if alias else None,
                    )
                    zone.names.setdefault(name, []).append(record)
            loaded.append(zone)
        # the most specific zone first, so a delegated child zone wins over its parent
        loaded.sort(key=lambda z: -len(z.origin))
        self.zones = loaded
        self.loaded = True

    def refresh(self) -> None:
        now = time.monotonic()
        if now - self._loaded_at < self.max_age:
            return
        try:
            self.load()
        except Exception as exc:  # moto gone or restarting: keep answering from the last read
            log.warning("reading Route 53 failed: %s", exc)
        self._loaded_at = time.monotonic()

    def zone_of(self, name: str) -> Zone | None:
        return next((z for z in self.zones if z.contains(name)), None)

    # -- answering --------------------------------------------------------------------------------

    def _rrsets(self, zone: Zone, name: str, qtype: str, depth: int = 0) -> list[dns.rrset.RRset]:
        """Records of ``name`` for ``qtype``: plain, ALIAS-resolved, or a CNAME (chased in-zone)."""
        out: list[dns.rrset.RRset] = []
        owner = name + "."
        sets = zone.names.get(name)
        if sets is None:
            star = "*." + name.split(".", 1)[1] if "." in name else None
            sets = zone.names.get(star, []) if star and zone.contains(star[2:]) else []
        for rs in sets:
            if rs.alias is not None and rs.rtype in ("A", "AAAA") and (qtype in (rs.rtype, "ANY")):
                out.extend(self._alias(owner, rs, depth))
            elif rs.alias is None and rs.values and qtype in (rs.rtype, "ANY"):
                out.append(dns.rrset.from_text_list(owner, rs.ttl, "IN", rs.rtype, rs.values))
        if out or qtype == "CNAME":
            return out
        for rs in sets:
            if rs.rtype == "CNAME" and rs.values:
                out.append(dns.rrset.from_text_list(owner, rs.ttl, "IN", "CNAME", rs.values))
                target = _name(rs.values[0])
                inner = self.zone_of(target)
                if inner is not None and depth < 8:
                    out.extend(self._rrsets(inner, target, qtype, depth + 1))
                elif is_lb_name(target):
                    out.extend(self._lb(target + ".", qtype, target))
        return out

    def _alias(self, owner: str, rs: RecordSet, depth: int) -> list[dns.rrset.RRset]:
        assert rs.alias is not None
        if is_lb_name(rs.alias):
            return self._lb(owner, rs.rtype, rs.alias)
        inner = self.zone_of(rs.alias)
        if inner is None or depth >= 8:
            return []
        found = self._rrsets(inner, rs.alias, rs.rtype, depth + 1)
        # Route 53 answers an alias with the target's records under the alias's own name
        return [
            dns.rrset.from_text_list(owner, r.ttl, "IN", r.rdtype, [rd.to_text() for rd in r])
            for r in found
            if r.rdtype != dns.rdatatype.CNAME
        ]

    @staticmethod
    def _lb(owner: str, qtype: str, balancer: str | None = None) -> list[dns.rrset.RRset]:
        v4, v6 = lb_addresses(balancer or owner)
        out = []
        if qtype in ("A", "ANY"):
            out.append(dns.rrset.from_text_list(owner, _ALIAS_TTL, "IN", "A", v4))
        if qtype in ("AAAA", "ANY"):
            out.append(dns.rrset.from_text_list(owner, _ALIAS_TTL, "IN", "AAAA", v6))
        return out

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        question = query.question[0]
        name = _name(question.name.to_text())
        qtype = dns.rdatatype.to_text(question.rdtype)
        self.refresh()
        zone = self.zone_of(name)
        if zone is None:
            if is_lb_name(name):
                response.flags |= dns.flags.AA
                response.answer.extend(self._lb(name + ".", qtype))
                return response
            response.set_rcode(dns.rcode.SERVFAIL if not self.loaded else dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        response.answer.extend(self._rrsets(zone, name, qtype))
        if not response.answer:
            if not zone.exists(name) and not zone.names.get("*." + name.split(".", 1)[-1]):
                response.set_rcode(dns.rcode.NXDOMAIN)
            soa = zone.soa()
            if soa is not None:
                response.authority.append(soa)
        return response


async def serve(host: str, port: int, max_age: float) -> None:
    view = Route53View(max_age=max_age)
    await asyncio.to_thread(view.refresh)
    server = LocalDnsServer(view, host, port)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("answering for Route 53 zones on %s:%s (udp+tcp)", host, server.port)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m kumo.sandbox.route53dns",
        description="Answer DNS queries for the Route 53 zones of AWS_ENDPOINT_URL (moto).",
    )
    ap.add_argument("--listen", default="127.0.0.1:5353", help="HOST:PORT for UDP and TCP")
    ap.add_argument("--max-age", type=float, default=0.5, help="seconds an answer may lag Route 53")
    args = ap.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    asyncio.run(serve(host or "127.0.0.1", int(port), args.max_age))
    return 0


if __name__ == "__main__":
    sys.exit(main())
