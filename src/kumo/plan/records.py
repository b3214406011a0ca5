"""The DNS records the controller will keep for the rendered objects, with their TXT owners."""

from __future__ import annotations

from typing import Any

from kumo.dns.registry import ownership_txt_content, txt_record_name
from kumo.plan.model import LB_ADDRESS, DnsRecord
from kumo.render import dns_objects
from kumo.spec import Spec

TXT_TTL = 300
DEFAULT_TTL = 300


def _resource(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{obj['kind'].lower()}/{meta['namespace']}/{meta['name']}"


def record_types(spec: Spec) -> tuple[list[str], bool]:
    """The record types a load balancer address becomes, and whether they are aliases.

    On aws the address is a hostname: Route 53 gets an A and an AAAA ALIAS (as external-dns
    writes them), any other provider a CNAME. Elsewhere the address is an IP: an A record."""
    if spec.target.cloud == "aws":
        if spec.dns is not None and spec.dns.provider == "route53":
            return ["A", "AAAA"], True
        return ["CNAME"], False
    return ["A"], False


def expected_records(spec: Spec, env: str | None = None) -> list[DnsRecord]:
    if spec.dns is None:
        return []
    owner = spec.dns.owner_id
    types, alias = record_types(spec)
    by_host = {s.endpoint.hostname: s.endpoint for s in spec.services if s.endpoint is not None}
    records: list[DnsRecord] = []
    for obj in dns_objects(spec, env):
        annotations = obj["metadata"].get("annotations", {})
        hostname = next(v for k, v in annotations.items() if k.endswith("/hostname"))
        endpoint = by_host[hostname]
        resource = _resource(obj)
        for rtype in types:
            ttl = None if alias else (endpoint.ttl or DEFAULT_TTL)
            records.append(DnsRecord(hostname, rtype, LB_ADDRESS, ttl, alias=alias, source=resource))
        for rtype in types:
            records.append(
                DnsRecord(
                    txt_record_name(hostname, rtype),
                    "TXT",
                    ownership_txt_content(owner, resource),
                    TXT_TTL,
                    source=resource,
                    owns=f"{rtype} {hostname}",
                )
            )
    return records
