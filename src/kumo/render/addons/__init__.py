"""Manifests for kumo's own cluster add-ons."""

from kumo.render.addons.console import render_console
from kumo.render.addons.dns_controller import controller_args, render_dns_controller

__all__ = ["controller_args", "render_console", "render_dns_controller"]
