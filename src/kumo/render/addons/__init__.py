"""Manifests for kumo's own cluster add-ons."""

from kumo.render.addons.console import render_console
from kumo.render.addons.dns_controller import LEASE_NAME as DNS_LEASE_NAME
from kumo.render.addons.dns_controller import controller_args, render_dns_controller

__all__ = ["DNS_LEASE_NAME", "controller_args", "render_console", "render_dns_controller"]
