"""``kumo server``: the resident server that runs short commands without Python's start-up.
Owned by the CLI; registered by kumo.cli.app."""

from __future__ import annotations

import time

import typer

from kumo.cli.output import OutputFormat, console, print_json

server_app = typer.Typer(
    help="The resident server that runs kumo's short commands (up, diff, status, ...) without "
    "paying Python's start-up each time. The first such command starts it in the background; it "
    "exits after 15 minutes without a command. KUMO_SERVER=off runs every command in its own process.",
    no_args_is_help=True,
)


def _directory() -> str:
    from kumo.cli.served import runtime_dir
    from kumo.errors import KumoError

    directory = runtime_dir()
    if directory is None:
        raise KumoError(
            "no usable runtime directory for kumo's server sockets",
            hint="$XDG_RUNTIME_DIR/kumo (or $TMPDIR/kumo-UID) must be a directory of yours, mode 0700",
        )
    return directory


@server_app.command("status")
def status_cmd(
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """List the running servers: pid, age, commands run, socket.

    "serves this kumo" marks the server of this kumo's code, interpreter and sys.path; a server of
    other code (before an upgrade or an edit) only waits to exit.

    Example: kumo server status --output json
    """
    from kumo.cli.served import socket_path
    from kumo.cli.server import running

    current = socket_path()
    servers = [{**s, "current": s.get("socket") == current} for s in running(_directory())]
    if output is OutputFormat.json:
        print_json({"servers": servers})
        return
    if not servers:
        console.write_line("no kumo server is running", "no kumo server is running")
        return
    for s in servers:
        age = int(time.time() - float(s.get("started", 0)))
        serves = "serves this kumo" if s["current"] else "other code"
        line = f"pid {s.get('pid')}  up {age}s  {s.get('commands')} commands  {serves}  {s.get('socket')}"
        console.write_line(line, line)


@server_app.command("stop")
def stop_cmd(
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """Stop every running kumo server of this user (commands already running finish).

    Example: kumo server stop
    """
    from kumo.cli.server import running, stop

    servers = running(_directory())
    stopped = [s for s in servers if stop(s)]
    if output is OutputFormat.json:
        print_json({"stopped": [s.get("pid") for s in stopped]})
        return
    line = f"stopped {len(stopped)} server(s)"
    if len(stopped) < len(servers):
        line += f"; {len(servers) - len(stopped)} did not stop"
    console.write_line(line, line)


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")
