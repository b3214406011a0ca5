"""`kumo` commands for the sandbox area. Owned by that area; registered by kumo.cli.app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
