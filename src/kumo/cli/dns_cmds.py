"""``kumo dns``: the DNS controller (external-dns compatible)."""

from __future__ import annotations

import typer

dns_app = typer.Typer(help="The DNS controller, a drop-in replacement for external-dns.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(dns_app, name="dns")
