"""Progress printed while the release commands run. Imported only by the commands that need it, so
that `kumo plan` and `kumo --help` load no cluster client (the cloud step's is in cloud_progress)."""

from __future__ import annotations

from kumo.cli.output import err_console
from kumo.deploy import ObjectProgress, Ref, Reporter

_ACTION_STYLES = {
    "unchanged": "dim",
    "created": "bold green",
    "configured": "bold yellow",
    "pruned": "bold red",
    "deleted": "bold red",
}


class CliReporter(Reporter):
    """Live progress on stderr, one line per change, so stdout stays clean for results and JSON."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._last: dict[Ref, tuple[str, str, str | None]] = {}

    def message(self, text: str) -> None:
        if not self.quiet:
            err_console.write_line(f"[bold cyan]»[/] {text}", f"» {text}")

    def applied(self, ref: Ref, action: str) -> None:
        if not self.quiet:
            where = f" ({ref.namespace})" if ref.namespace else ""
            # Only what changed stands out; "unchanged" stays dim, as the noise it is.
            style = _ACTION_STYLES.get(action, "bold")
            line = f"{ref.short}{where} {action}"
            err_console.write_line(f"  [{style}]{line}[/]", f"  {line}")

    def progress(self, objects: list[ObjectProgress]) -> None:
        if self.quiet:
            return
        for item in objects:
            key = (item.state, item.message, item.address)
            if self._last.get(item.ref) == key:
                continue
            self._last[item.ref] = key
            colour = {"Current": "green", "Failed": "red"}.get(item.state, "yellow")
            line = f"{item.ref.short:32} {item.message}"
            err_console.write_line(f"  [{colour}]{item.state:10}[/] {line}", f"  {item.state:10} {line}")
