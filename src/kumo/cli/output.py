"""Printing: the only place that knows about terminals.

Rich is imported on the first styled print, not with this module: a command whose progress goes to
a pipe (``kumo up --output json`` in a script or CI) writes plain lines and never loads Rich.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: Variables that make Rich style output that is not a terminal (see rich.console.Console.is_terminal).
_RICH_TERMINAL_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


class LazyConsole:
    """A Rich console built on first use; ``plain`` tells whether a line can skip Rich altogether."""

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr

    @property
    def stream(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    @cached_property
    def rich(self) -> Console:
        from rich.console import Console

        # Rich wraps at the terminal's width; into a pipe or a file (CI logs, grep) a line stays one line.
        return Console(stderr=self.stderr, highlight=False, soft_wrap=not self.stream.isatty())

    def plain(self) -> bool:
        """True when Rich would print no styles: not a terminal and nothing forcing one."""
        if "rich" in self.__dict__:
            return not self.rich.is_terminal
        return not self.stream.isatty() and not any(os.environ.get(name) for name in _RICH_TERMINAL_ENV)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.rich.print(*objects, **kwargs)

    def write_line(self, styled: str, text: str) -> None:
        """Print ``styled`` (Rich markup) on a terminal, else ``text`` (the same line without markup)."""
        if self.plain():
            stream = self.stream
            stream.write(text + "\n")
            stream.flush()
        else:
            self.rich.print(styled, soft_wrap=True)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
