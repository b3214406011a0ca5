"""kumo.dns: the DNS controller, compatible with external-dns (source -> registry -> plan -> provider)."""

from kumo.dns.endpoint import Endpoint, EndpointKey
from kumo.dns.registry import (
    NameMapper,
    TXTRegistry,
    legacy_txt_record_name,
    ownership_txt_content,
    parse_labels,
    txt_record_name,
)

__all__ = [
    "Endpoint",
    "EndpointKey",
    "NameMapper",
    "TXTRegistry",
    "legacy_txt_record_name",
    "ownership_txt_content",
    "parse_labels",
    "txt_record_name",
]
