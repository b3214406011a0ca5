"""The root ``kumo`` command. Each area registers its commands from its own module."""

from __future__ import annotations

import sys

import typer

from kumo.cli import cloud_cmds, console_cmds, deploy_cmds, dns_cmds, sandbox_cmds, spec_cmds
from kumo.cli.output import err_console
from kumo.errors import KumoError

app = typer.Typer(
    name="kumo",
    help="One spec to provision, deploy, name and watch a web app on any Kubernetes.\n\n"
    "Example: kumo plan examples/online-app/kumo.yaml",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

for module in (spec_cmds, deploy_cmds, cloud_cmds, dns_cmds, sandbox_cmds, console_cmds):
    module.register(app)


def main() -> None:
    """Entry point: turn kumo's errors into a message and an exit code, never a traceback."""
    try:
        # Without standalone mode, click returns a command's `typer.Exit` code instead of exiting.
        result = app(standalone_mode=False)
    except KumoError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", markup=True, soft_wrap=True)
        if exc.hint:
            err_console.print(f"[dim]hint:[/] {exc.hint}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        import click
        from typer._click import exceptions as typer_click  # typer >= 0.26 vendors its own click

        if isinstance(exc, click.ClickException | typer_click.ClickException):
            exc.show()
            usage = isinstance(exc, click.UsageError | typer_click.UsageError)
            sys.exit(2 if usage else exc.exit_code)
        raise
    sys.exit(result if isinstance(result, int) else 0)
