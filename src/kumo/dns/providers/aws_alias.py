"""Route 53's shaping of desired endpoints (external-dns's AdjustEndpoints), with no AWS client.

Pure, so that ``kumo plan`` predicts exactly the records the controller writes without importing
boto3: a CNAME to an AWS load balancer becomes an A ALIAS and an AAAA ALIAS (or one of them with
``alias=A`` / ``alias=AAAA``), unless ``--aws-prefer-cname`` or ``alias=false``.
"""

from __future__ import annotations

from kumo.dns.endpoint import (
    PS_ALIAS,
    PS_EVALUATE_TARGET_HEALTH,
    PS_TARGET_HOSTED_ZONE,
    RECORD_A,
    RECORD_AAAA,
    RECORD_CNAME,
    Endpoint,
)
from kumo.dns.providers.aws_zones import canonical_hosted_zone

DEFAULT_TTL = 300


def clean_zone_id(zone_id: str) -> str:
    return zone_id.rsplit("/", 1)[-1]


def use_alias(ep: Endpoint, prefer_cname: bool = False) -> bool:
    if ep.provider_specific.get(PS_ALIAS) == "true":
        return True
    if prefer_cname or ep.provider_specific.get(PS_ALIAS) == "false":
        return False
    return bool(ep.targets) and canonical_hosted_zone(ep.targets[0]) != ""


def adjust_for_route53(
    endpoints: list[Endpoint], prefer_cname: bool = False, evaluate_target_health: bool = True
) -> list[Endpoint]:
    """Desired endpoints in the shape Route 53 records are read back in."""
    out: list[Endpoint] = []
    for original in endpoints:
        ep = original.copy()
        alias = False
        flag = ep.provider_specific.get(PS_ALIAS)
        only = flag if flag in (RECORD_A, RECORD_AAAA) else ""
        if only:
            flag = "true"  # alias=A / alias=AAAA: an ALIAS of that type only (external-dns #5997)
            ep.provider_specific[PS_ALIAS] = flag
        if flag == "true":
            alias = ep.record_type in (RECORD_A, RECORD_AAAA, RECORD_CNAME)
            if not alias:
                ep.provider_specific.pop(PS_ALIAS, None)
        elif flag is not None:
            if ep.record_type == RECORD_CNAME:
                ep.provider_specific[PS_ALIAS] = "false"
            else:
                ep.provider_specific.pop(PS_ALIAS, None)
        elif ep.record_type == RECORD_CNAME:
            alias = use_alias(ep, prefer_cname)
            ep.provider_specific[PS_ALIAS] = "true" if alias else "false"
        if alias:
            ep.provider_specific[PS_ALIAS] = "true"
            if ep.record_ttl:
                ep.record_ttl = DEFAULT_TTL
            eth = ep.provider_specific.get(PS_EVALUATE_TARGET_HEALTH)
            if eth is None:
                ep.provider_specific[PS_EVALUATE_TARGET_HEALTH] = (
                    "true" if evaluate_target_health else "false"
                )
            elif eth not in ("true", "false"):
                ep.provider_specific[PS_EVALUATE_TARGET_HEALTH] = "false"
            zone = ep.provider_specific.get(PS_TARGET_HOSTED_ZONE)
            if zone and ep.targets and clean_zone_id(zone) == canonical_hosted_zone(ep.targets[0]):
                ep.provider_specific.pop(PS_TARGET_HOSTED_ZONE)
            if ep.record_type == RECORD_CNAME:
                for rtype in (RECORD_A, RECORD_AAAA):
                    if not only or only == rtype:
                        typed = ep.copy()
                        typed.record_type = rtype
                        out.append(typed)
                continue
        else:
            ep.provider_specific.pop(PS_EVALUATE_TARGET_HEALTH, None)
        out.append(ep)
    return out
