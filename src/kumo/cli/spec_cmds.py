"""Commands about the spec itself: schema, render, plan."""

from __future__ import annotations

import typer

from kumo.cli.output import print_json
from kumo.spec import json_schema


def schema() -> None:
    """Print the JSON Schema of kumo.yaml, for editor completion.

    Example: kumo schema > kumo.schema.json
    """
    print_json(json_schema())


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
