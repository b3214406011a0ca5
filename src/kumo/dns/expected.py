"""The records the controller will write for objects that are not deployed yet: ``kumo plan``'s DNS
prediction, made by the controller's own code.

Each object gets a stand-in load balancer address of the kind its cloud gives (an ELB hostname on
aws, an IP elsewhere), then goes through the same steps as in the controller: the source builds its
endpoints, the provider shapes them (Route 53: CNAME to ALIAS A + AAAA), the plan creates them in
an empty zone and the TXT registry adds the ownership records. So the plan and the controller
cannot disagree about a record type or a TXT name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from kumo.dns.endpoint import MANAGED_TYPES, Endpoint
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Policy, plan
from kumo.dns.providers.aws_alias import adjust_for_route53
from kumo.dns.registry import NameMapper, TXTRegistry
from kumo.dns.sources import (
    BY_KIND,
    ROUTE_PROTOCOLS,
    SourceConfig,
    SourceContext,
    endpoints_for,
    merge_service_endpoints,
    parent_gateways,
)

SAMPLE_IP = "192.0.2.10"  # TEST-NET-1: never a real address


def sample_address(cloud: str, region: str) -> dict[str, str]:
    """A load balancer address of the kind the cloud gives: a hostname on aws, an IP elsewhere."""
    if cloud == "aws":
        return {"hostname": f"k8s-sample-0000000000.{region or 'us-east-1'}.elb.amazonaws.com"}
    return {"ip": SAMPLE_IP}


def _stand_in_gateway(kind: str, route: dict[str, Any]) -> dict[str, Any]:
    """A Gateway not among the objects (deployed by the cluster's owner): listeners that take the
    route as it is, one for each way its parentRefs attach (section name, port)."""
    listeners = [
        {
            "name": str(ref.get("sectionName") or "any"),
            "protocol": ROUTE_PROTOCOLS.get(kind, "HTTP"),
            "allowedRoutes": {"namespaces": {"from": "All"}},
            **({"port": ref["port"]} if ref.get("port") is not None else {}),
        }
        for ref in (route.get("spec") or {}).get("parentRefs") or []
        if isinstance(ref, dict)
    ]
    return {"spec": {"listeners": listeners}}


def expected_endpoints(
    objects: Iterable[dict[str, Any]],
    *,
    provider: str,
    owner: str,
    address: dict[str, str],
    zone: str = "",
    source: SourceConfig | None = None,
) -> list[Endpoint]:
    """Records and their ownership TXT records, as the controller would create them in an empty zone."""
    cfg = source or SourceConfig(domain_filter=DomainFilter.of([zone] if zone else []))
    ctx = SourceContext()
    value = address.get("hostname") or address.get("ip") or ""
    desired: list[Endpoint] = []
    objects = list(objects)
    # the Gateways and Namespaces deployed with the routes: their listeners decide the routes' names
    declared: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Gateway":
            declared[(str(meta.get("namespace") or ""), str(meta.get("name") or ""))] = obj
        elif obj.get("kind") == "Namespace":
            ctx.namespaces[str(meta.get("name") or "")] = obj
    for obj in objects:
        kind = str(obj.get("kind") or "")
        src = BY_KIND.get(kind)
        if src is None:
            continue
        probe = copy.deepcopy(obj)
        if src.gateway_route:
            kind_of = "Hostname" if "hostname" in address else "IPAddress"
            status = {"addresses": [{"type": kind_of, "value": value}]}
            for key in parent_gateways(probe):
                found = declared.get(key) or _stand_in_gateway(kind, probe)
                ctx.gateways[key] = {**found, "status": status}
        else:
            probe["status"] = {"loadBalancer": {"ingress": [dict(address)]}}
        desired.extend(endpoints_for(kind, probe, cfg, ctx).endpoints)
    desired = merge_service_endpoints(desired)
    if provider in ("aws", "route53"):
        desired = adjust_for_route53(desired)
    changes = plan([], desired, Policy.sync, owner, MANAGED_TYPES)
    with_txt, _ = TXTRegistry(owner, NameMapper()).with_txt(changes, {})
    return with_txt.create
