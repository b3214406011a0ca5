"""Manifests for kumo's own cluster add-ons."""

from kumo.render.addons.console import render_console
from kumo.render.addons.dns_controller import LEASE_NAME as DNS_LEASE_NAME
from kumo.render.addons.dns_controller import (
    ZONES_CONFIGMAP,
    controller_args,
    render_dns_controller,
    zones_entry,
)

__all__ = [
    "DNS_LEASE_NAME",
    "ZONES_CONFIGMAP",
    "controller_args",
    "render_console",
    "render_dns_controller",
    "zones_entry",
]
