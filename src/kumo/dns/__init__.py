"""kumo.dns: the DNS controller, compatible with external-dns (source -> registry -> plan -> provider).

The pure parts (endpoint, registry, plan, filters) load eagerly; the controller, runner and providers
load on first use, so ``kumo plan`` (which needs only the registry's names) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kumo.dns.endpoint import Endpoint, EndpointKey
from kumo.dns.filters import DomainFilter, LabelFilter
from kumo.dns.plan import Changes, Policy, plan
from kumo.dns.registry import (
    NameMapper,
    TXTRegistry,
    legacy_txt_record_name,
    ownership_txt_content,
    parse_labels,
    txt_record_name,
)

if TYPE_CHECKING:
    from kumo.dns.controller import Controller, ControllerConfig
    from kumo.dns.providers import Provider, ProviderOptions, make_provider
    from kumo.dns.providers.local import LocalDnsServer
    from kumo.dns.runner import DnsRunner, RunOptions, run_controller

_LAZY = {
    "Controller": "kumo.dns.controller",
    "ControllerConfig": "kumo.dns.controller",
    "Provider": "kumo.dns.providers",
    "ProviderOptions": "kumo.dns.providers",
    "make_provider": "kumo.dns.providers",
    "LocalDnsServer": "kumo.dns.providers.local",
    "DnsRunner": "kumo.dns.runner",
    "RunOptions": "kumo.dns.runner",
    "run_controller": "kumo.dns.runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kumo.dns' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Changes",
    "Controller",
    "ControllerConfig",
    "DnsRunner",
    "DomainFilter",
    "Endpoint",
    "EndpointKey",
    "LabelFilter",
    "LocalDnsServer",
    "NameMapper",
    "Policy",
    "Provider",
    "ProviderOptions",
    "RunOptions",
    "TXTRegistry",
    "legacy_txt_record_name",
    "make_provider",
    "ownership_txt_content",
    "parse_labels",
    "plan",
    "run_controller",
    "txt_record_name",
]
