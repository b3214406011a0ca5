"""Sources: Kubernetes objects to desired endpoints, with external-dns's rules and annotations."""

from typing import Any

from kumo.dns.sources.annotations import ALPHA_PREFIX, PREFIXES, STABLE_PREFIX, Annotations, parse_ttl
from kumo.dns.sources.common import SourceConfig, SourceResult
from kumo.dns.sources.ingress import ingress_endpoints
from kumo.dns.sources.service import service_endpoints

# (api version, kind) for each --source name
SOURCE_KINDS = {"service": ("v1", "Service"), "ingress": ("networking.k8s.io/v1", "Ingress")}


def endpoints_for(kind: str, obj: dict[str, Any], cfg: SourceConfig) -> SourceResult:
    if kind == "Service":
        return service_endpoints(obj, cfg)
    if kind == "Ingress":
        return ingress_endpoints(obj, cfg)
    raise ValueError(f"unsupported source kind {kind!r}")


__all__ = [
    "ALPHA_PREFIX",
    "PREFIXES",
    "SOURCE_KINDS",
    "STABLE_PREFIX",
    "Annotations",
    "SourceConfig",
    "SourceResult",
    "endpoints_for",
    "ingress_endpoints",
    "parse_ttl",
    "service_endpoints",
]
