"""The ``kumo`` command line (Typer + Rich). ``kumo.cli.app.app`` is the root command with every
command; ``main`` runs one command, in the resident server (kumo.cli.server) when one is up."""

from kumo.cli.launcher import main

__all__ = ["main"]
