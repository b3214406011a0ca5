"""The ``kumo`` command line (Typer + Rich)."""

from kumo.cli.app import app, main

__all__ = ["app", "main"]
