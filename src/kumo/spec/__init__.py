"""The ``kumo.yaml`` spec: model, loading with located errors, JSON Schema."""

from kumo.spec.loader import load_spec, parse_yaml, validate_document
from kumo.spec.model import (
    Cluster,
    Dns,
    DnsController,
    Endpoint,
    EndpointPort,
    Network,
    NodeGroup,
    Preview,
    Probe,
    Probes,
    Resources,
    Service,
    Spec,
    Target,
    TlsRef,
    acm_region,
    is_hostname,
)
from kumo.spec.schema import json_schema

__all__ = [
    "Cluster",
    "Dns",
    "DnsController",
    "Endpoint",
    "EndpointPort",
    "Network",
    "NodeGroup",
    "Preview",
    "Probe",
    "Probes",
    "Resources",
    "Service",
    "Spec",
    "Target",
    "TlsRef",
    "acm_region",
    "is_hostname",
    "json_schema",
    "load_spec",
    "parse_yaml",
    "validate_document",
]
