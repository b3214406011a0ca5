"""The ``kumo`` command line (Typer + Rich). ``kumo.cli.app.app`` is the root command with every
command; ``main`` builds only the one being run."""

from kumo.cli.app import main

__all__ = ["main"]
