"""RFC 2136 dynamic updates with TSIG (dnspython), reading the zone through AXFR.

Each change group (a record and its TXT) goes into one UPDATE message, so a server applies it
atomically; groups are packed into messages of ``batch_size`` and a rejected message is bisected so
one bad group cannot block the rest.
"""

from __future__ import annotations

import asyncio
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import dns.zone

from kumo.dns.endpoint import Endpoint, zone_file_text
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes
from kumo.dns.providers.base import ApplyResult, Provider, group_changes
from kumo.errors import ProviderError, UsageError

DEFAULT_TTL = 300
_SKIP = {"SOA", "RRSIG", "NSEC", "NSEC3", "DNSKEY", "TSIG"}

TSIG_ALGORITHMS = {
    "hmac-md5": dns.tsig.HMAC_MD5,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}


class RFC2136Provider(Provider):
    name = "rfc2136"

    def __init__(
        self,
        host: str,
        port: int,
        zones: list[str],
        tsig_keyname: str = "",
        tsig_secret: str = "",
        tsig_algorithm: str = "hmac-sha256",
        timeout: float = 10.0,
        batch_size: int = 100,
        min_ttl: int = 0,
        tsig_axfr: bool = True,
    ) -> None:
        super().__init__()
        if not zones:
            raise UsageError("--rfc2136-zone: at least one zone is required")
        if tsig_algorithm not in TSIG_ALGORITHMS:
            raise UsageError(
                f"--rfc2136-tsig-secret-alg: expected one of {', '.join(TSIG_ALGORITHMS)},"
                f" found {tsig_algorithm!r}"
            )
        self.host = host
        self.port = port
        self.zones = [z.rstrip(".").lower() for z in zones]
        self.timeout = timeout
        self.batch_size = batch_size
        self.min_ttl = min_ttl
        self.tsig_axfr = tsig_axfr  # external-dns signs the zone transfer only with --rfc2136-tsig-axfr
        self.keyring: Any = None
        self.keyname: dns.name.Name | None = None
        self.algorithm = TSIG_ALGORITHMS[tsig_algorithm]
        if tsig_keyname:
            try:
                self.keyring = dns.tsigkeyring.from_text({tsig_keyname: tsig_secret})
            except Exception as exc:
                raise UsageError(f"--rfc2136-tsig-secret: not a base64 TSIG secret ({exc})") from exc
            self.keyname = dns.name.from_text(tsig_keyname)

    def domain_filter(self) -> DomainFilter:
        return DomainFilter.of(self.zones)

    def _zone_for(self, name: str) -> str | None:
        best = None
        for zone in self.zones:
            if (name == zone or name.endswith("." + zone)) and (best is None or len(zone) > len(best)):
                best = zone
        return best

    def adjust_endpoints(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        """--rfc2136-min-ttl: a configured TTL below the minimum is raised to it, so what is written
        is what is planned (and the next read does not look like drift)."""
        if not self.min_ttl:
            return endpoints
        out = []
        for ep in endpoints:
            if ep.record_ttl and ep.record_ttl < self.min_ttl:
                ep = ep.copy()
                ep.record_ttl = self.min_ttl
            out.append(ep)
        return out

    # -- reads ------------------------------------------------------------------------------------

    async def records(self) -> list[Endpoint]:
        out: list[Endpoint] = []
        for zone in self.zones:
            out.extend(await asyncio.to_thread(self._axfr, zone))
        return out

    def _axfr(self, zone: str) -> list[Endpoint]:
        self.calls += 1
        try:
            xfr = dns.query.xfr(
                self.host,
                zone + ".",
                relativize=False,
                port=self.port,
                keyring=self.keyring if self.tsig_axfr else None,
                keyname=self.keyname if self.tsig_axfr else None,
                keyalgorithm=self.algorithm,
                lifetime=self.timeout,
            )
            z = dns.zone.from_xfr(xfr, relativize=False)
        except (dns.exception.DNSException, OSError) as exc:
            raise ProviderError(
                f"rfc2136: zone transfer of {zone} from {self.host}:{self.port} failed: {exc}"
            ) from exc
        out = []
        for name, node in z.nodes.items():
            for rdataset in node.rdatasets:
                rtype = dns.rdatatype.to_text(rdataset.rdtype)
                if rtype in _SKIP:
                    continue
                targets = tuple(rd.to_text() for rd in rdataset)
                out.append(Endpoint(name.to_text(), targets, rtype, int(rdataset.ttl)))
        return out

    # -- writes -----------------------------------------------------------------------------------

    def _add_to(self, update: dns.update.UpdateMessage, group: Changes) -> None:
        for ep in group.delete:
            update.delete(ep.dns_name + ".", ep.record_type, *self._rdata_text(ep))
        for old in group.update_old:
            update.delete(old.dns_name + ".", old.record_type)
        for ep in [*group.update_new, *group.create]:
            ttl = max(self.min_ttl, ep.record_ttl or DEFAULT_TTL)
            update.add(ep.dns_name + ".", ttl, ep.record_type, *self._rdata_text(ep))

    @staticmethod
    def _rdata_text(ep: Endpoint) -> list[str]:
        return [zone_file_text(ep.record_type, t) for t in ep.targets]

    def _send(self, zone: str, groups: list[tuple[str, Changes]]) -> str | None:
        update = dns.update.UpdateMessage(
            zone + ".", keyring=self.keyring, keyname=self.keyname, keyalgorithm=self.algorithm
        )
        for _, group in groups:
            self._add_to(update, group)
        self.calls += 1
        try:
            response = dns.query.tcp(update, self.host, port=self.port, timeout=self.timeout)
        except (dns.exception.DNSException, OSError) as exc:
            return f"rfc2136 update failed: {exc}"
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR:
            return f"rfc2136 update refused: {dns.rcode.to_text(rcode)}"
        return None

    def _submit(self, zone: str, groups: list[tuple[str, Changes]]) -> ApplyResult:
        error = self._send(zone, groups)
        if error is None:
            return ApplyResult()
        if len(groups) == 1:
            return ApplyResult({groups[0][0]: error})
        half = len(groups) // 2
        result = self._submit(zone, groups[:half])
        result.merge(self._submit(zone, groups[half:]))
        return result

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        result = ApplyResult()
        by_zone: dict[str, list[tuple[str, Changes]]] = {}
        for key, group in group_changes(changes).items():
            zone = self._zone_for(key)
            if zone is None:
                result.failed[key] = f"{key}: not inside any --rfc2136-zone"
                continue
            try:
                # validate rdata now, so one malformed target fails only its own group
                self._add_to(dns.update.UpdateMessage(zone + "."), group)
            except Exception as exc:
                result.failed[key] = f"invalid record: {exc}"
                continue
            by_zone.setdefault(zone, []).append((key, group))
        for zone, groups in by_zone.items():
            for i in range(0, len(groups), self.batch_size):
                result.merge(await asyncio.to_thread(self._submit, zone, groups[i : i + self.batch_size]))
        return result
