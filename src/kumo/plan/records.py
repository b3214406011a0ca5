"""The DNS records the controller will keep for the rendered objects, with their TXT owners.

They come from ``kumo.dns.expected``: the controller's own source, provider and registry code run on
the rendered objects, with a stand-in load balancer address of the kind the target cloud gives.
"""

from __future__ import annotations

from kumo.dns.endpoint import RECORD_TXT, RESOURCE_LABEL
from kumo.dns.expected import expected_endpoints, sample_address
from kumo.dns.registry import NameMapper, parse_labels
from kumo.plan.model import LB_ADDRESS, DnsRecord
from kumo.render import dns_objects
from kumo.spec import Spec

TXT_TTL = 300
DEFAULT_TTL = 300


def expected_records(spec: Spec, env: str | None = None) -> list[DnsRecord]:
    if spec.dns is None:
        return []
    owner = spec.dns.owner_id
    endpoints = expected_endpoints(
        dns_objects(spec, env),
        provider=spec.dns.provider,
        owner=owner,
        address=sample_address(spec.target.cloud, spec.target.region or ""),
        zone=spec.dns.zone,
    )
    mapper = NameMapper()
    records: list[DnsRecord] = []
    txts: list[DnsRecord] = []
    for ep in endpoints:
        if ep.record_type == RECORD_TXT:
            labels = parse_labels(ep.targets[0]) or {}
            owned, rtype = mapper.endpoint_name(ep.dns_name)
            txts.append(
                DnsRecord(
                    ep.dns_name,
                    RECORD_TXT,
                    ep.targets[0],
                    TXT_TTL,
                    source=labels.get(RESOURCE_LABEL, ""),
                    owns=f"{rtype} {owned}",
                )
            )
            continue
        ttl = None if ep.is_alias else (ep.record_ttl or DEFAULT_TTL)
        records.append(
            DnsRecord(
                ep.dns_name,
                ep.record_type,
                LB_ADDRESS,
                ttl,
                alias=ep.is_alias,
                source=ep.labels[RESOURCE_LABEL],
            )
        )
    return records + txts
