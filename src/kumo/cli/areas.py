"""Which module under kumo.cli owns each top-level command, and which commands a resident server runs.

Standard library only: the launcher reads this table before deciding whether to import anything.
"""

from __future__ import annotations


class Area:
    """One module under kumo.cli: the top-level commands its ``register`` adds, and whether the
    resident server (kumo.cli.server) may run them. Long-running commands (controllers, web servers,
    the sandbox) are never served: their process is theirs, its signals and its memory."""

    __slots__ = ("commands", "served")

    def __init__(self, commands: tuple[str, ...], served: bool) -> None:
        self.commands = commands
        self.served = served


AREAS: dict[str, Area] = {
    "spec_cmds": Area(("schema", "render", "plan"), served=True),
    "deploy_cmds": Area(("up", "down", "status", "diff", "history", "rollback"), served=True),
    "cloud_cmds": Area(("cloud",), served=False),
    "dns_cmds": Area(("dns",), served=False),
    "sandbox_cmds": Area(("sandbox",), served=False),
    "console_cmds": Area(("console",), served=False),
    "server_cmds": Area(("server",), served=False),
}


def command_of(argv: list[str]) -> str | None:
    """The top-level command of a command line (the root command has only eager options)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def area_of(argv: list[str]) -> str | None:
    """The area owning the command of ``argv``; None when there is none (``kumo --help``, typos)."""
    command = command_of(argv)
    return next((name for name, area in AREAS.items() if command in area.commands), None)
