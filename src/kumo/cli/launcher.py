"""The ``kumo`` executable: run the command in a resident server when one is up, else here.

Imports only the standard library and kumo.cli.served until it knows a server cannot take the
command; a cold run of a served command then starts a server for the next one.
"""

from __future__ import annotations

import sys

from kumo.cli import served


def main() -> None:
    argv = sys.argv[1:]
    code = served.run(argv)
    if code is not None:
        sys.exit(code)
    from kumo.cli.app import main as run_command

    try:
        run_command()
    finally:
        served.start_server(argv)
