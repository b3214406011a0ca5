"""The ``kumo`` executable: run the command in a resident server when one is up, else here.

Imports only the standard library and kumo.cli.served until it knows a server cannot take the
command; a cold run of a served command then starts a server for the next one.
"""

from __future__ import annotations

import sys

from kumo.cli import served


def main() -> None:
    path = served.socket_for(sys.argv[1:])
    if path is not None:
        code = served.run(path)
        if code is not None:
            sys.exit(code)
    from kumo.cli.app import main as run_command

    try:
        run_command()
    finally:
        if path is not None:  # a served command with no server up: start one for the next
            served.start_server(path)
