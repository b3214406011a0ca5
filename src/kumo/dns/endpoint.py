"""The endpoint model, as in external-dns: one record set (name, type, set identifier) and its targets.

Kept field-for-field compatible with external-dns's ``endpoint.Endpoint`` so the webhook protocol and
the TXT registry can round-trip it without translation tables.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import NamedTuple

RECORD_A = "A"
RECORD_AAAA = "AAAA"
RECORD_CNAME = "CNAME"
RECORD_TXT = "TXT"
RECORD_NS = "NS"
RECORD_MX = "MX"
RECORD_SRV = "SRV"
RECORD_NAPTR = "NAPTR"

# external-dns's getSupportedTypes(), in its order; the TXT registry tries them in this order.
SUPPORTED_TYPES = (
    RECORD_A,
    RECORD_AAAA,
    RECORD_CNAME,
    RECORD_NS,
    RECORD_SRV,
    RECORD_TXT,
    RECORD_MX,
    RECORD_NAPTR,
)
# Types the controller manages by default (external-dns --managed-record-types default).
MANAGED_TYPES = frozenset({RECORD_A, RECORD_AAAA, RECORD_CNAME})

OWNER_LABEL = "owner"
RESOURCE_LABEL = "resource"
# Set on TXT endpoints the registry generates: the name of the record they own, so a provider can keep
# a record and its TXT in one batch.
OWNED_RECORD_LABEL = "ownedRecord"

PS_ALIAS = "alias"
PS_EVALUATE_TARGET_HEALTH = "aws/evaluate-target-health"
PS_TARGET_HOSTED_ZONE = "aws/target-hosted-zone"


class EndpointKey(NamedTuple):
    dns_name: str
    record_type: str
    set_identifier: str = ""


def normalize_name(name: str) -> str:
    """Lower-case, no trailing dot: the one spelling of a DNS name inside kumo."""
    return name.strip().rstrip(".").lower()


def normalize_target(target: str) -> str:
    return target.strip().rstrip(".")


@dataclass(slots=True)  # 10,000s are cached: no per-instance __dict__
class Endpoint:
    dns_name: str
    targets: tuple[str, ...]
    record_type: str
    record_ttl: int = 0  # 0 means "not configured": the provider's default applies
    set_identifier: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    provider_specific: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dns_name = normalize_name(self.dns_name)
        self.record_type = self.record_type.upper()
        if self.record_type == RECORD_TXT:
            self.targets = tuple(self.targets)
        else:
            self.targets = tuple(normalize_target(t) for t in self.targets)

    @property
    def key(self) -> EndpointKey:
        return EndpointKey(self.dns_name, self.record_type, self.set_identifier)

    @property
    def is_alias(self) -> bool:
        return self.provider_specific.get(PS_ALIAS) == "true"

    @property
    def owner(self) -> str:
        return self.labels.get(OWNER_LABEL, "")

    def copy(self) -> Endpoint:
        return Endpoint(
            self.dns_name,
            tuple(self.targets),
            self.record_type,
            self.record_ttl,
            self.set_identifier,
            dict(self.labels),
            dict(self.provider_specific),
        )

    def same_targets(self, other: Endpoint) -> bool:
        return targets_key(self.targets) == targets_key(other.targets)

    def __str__(self) -> str:
        ident = f" [{self.set_identifier}]" if self.set_identifier else ""
        return f"{self.dns_name} {self.record_type}{ident} -> {','.join(self.targets)}"


def _target_norm(target: str) -> str:
    t = target.lower().rstrip(".")
    # Route 53 answers ALIAS targets of load balancers with a "dualstack." prefix it added itself.
    return t.removeprefix("dualstack.")


def targets_key(targets: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(_target_norm(t) for t in targets))


def zone_file_text(record_type: str, target: str) -> str:
    """A target as zone-file text with its name absolute: CNAME/NS/PTR targets and the last field of
    SRV and MX (``0 50 30080 web.ex.com`` -> ``... web.ex.com.``), which a DNS library would otherwise
    read relative to the zone (``web.ex.com.ex.com.``)."""
    if record_type in (RECORD_CNAME, RECORD_NS, "PTR"):
        return target.rstrip(".") + "."
    if record_type in (RECORD_SRV, RECORD_MX):
        head, _, name = target.rpartition(" ")
        return f"{head} {name.rstrip('.')}." if head else target
    return target


def record_type_for_target(target: str) -> str:
    """external-dns's suitableType: an IPv4 address is A, IPv6 is AAAA, anything else is CNAME."""
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        return RECORD_CNAME
    return RECORD_A if address.version == 4 else RECORD_AAAA


def to_json(ep: Endpoint) -> dict[str, object]:
    """The external-dns JSON shape (webhook protocol, CRD)."""
    out: dict[str, object] = {
        "dnsName": ep.dns_name,
        "targets": list(ep.targets),
        "recordType": ep.record_type,
    }
    if ep.set_identifier:
        out["setIdentifier"] = ep.set_identifier
    if ep.record_ttl:
        out["recordTTL"] = ep.record_ttl
    if ep.labels:
        out["labels"] = dict(ep.labels)
    if ep.provider_specific:
        out["providerSpecific"] = [{"name": k, "value": v} for k, v in ep.provider_specific.items()]
    return out


def from_json(data: dict[str, object]) -> Endpoint:
    """Parse the external-dns JSON shape; raises ValueError naming the bad field."""
    if not isinstance(data, dict):
        found = "null" if data is None else type(data).__name__
        raise ValueError(f"expected an endpoint object with dnsName, recordType and targets, found {found}")
    name = data.get("dnsName")
    if not isinstance(name, str) or not name:
        raise ValueError("dnsName: expected a non-empty string")
    rtype = data.get("recordType")
    if not isinstance(rtype, str) or not rtype:
        raise ValueError(f"{name}: recordType: expected a string")
    targets = data.get("targets") or []
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise ValueError(f"{name}: targets: expected a list of strings")
    ttl = data.get("recordTTL") or 0
    if not isinstance(ttl, int) or ttl < 0:
        raise ValueError(f"{name}: recordTTL: expected a non-negative integer")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise ValueError(f"{name}: labels: expected an object")
    ps_raw = data.get("providerSpecific") or []
    if not isinstance(ps_raw, list):
        raise ValueError(f"{name}: providerSpecific: expected a list of {{name, value}}")
    ps: dict[str, str] = {}
    for item in ps_raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"{name}: providerSpecific: expected a list of {{name, value}}")
        ps[str(item["name"])] = str(item.get("value", ""))
    set_id = data.get("setIdentifier") or ""
    return Endpoint(
        name,
        tuple(str(t) for t in targets),
        rtype,
        ttl,
        str(set_id),
        {str(k): str(v) for k, v in labels.items()},
        ps,
    )
