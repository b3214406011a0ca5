"""The root ``kumo`` command. Each area registers its commands from its own module."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kumo.cli import cloud_cmds, console_cmds, deploy_cmds, dns_cmds, sandbox_cmds, spec_cmds
from kumo.cli.output import console, err_console
from kumo.errors import KumoError

app = typer.Typer(
    name="kumo",
    help="One spec to provision, deploy, name and watch a web app on any Kubernetes.\n\n"
    "Example: kumo plan examples/online-app/kumo.yaml",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    from kumo.render import DEFAULT_VERSIONS

    try:
        mine = version("kumo")
    except PackageNotFoundError:  # run from a source tree without an install
        mine = "unknown"
    minors = [".".join(v.split(".")[:2]) for v in DEFAULT_VERSIONS]
    console.print(f"kumo {mine} (renders for Kubernetes {minors[0]} to {minors[-1]})", soft_wrap=True)
    raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print kumo's version and the Kubernetes versions its manifests are valid for.",
        ),
    ] = False,
) -> None:
    """One spec to provision, deploy, name and watch a web app on any Kubernetes."""


for module in (spec_cmds, deploy_cmds, cloud_cmds, dns_cmds, sandbox_cmds, console_cmds):
    module.register(app)


def main() -> None:
    """Entry point: turn kumo's errors into a message and an exit code, never a traceback."""
    try:
        # Without standalone mode, click returns a command's `typer.Exit` code instead of exiting.
        result = app(args=dns_cmds.spec_run_args(sys.argv[1:]), standalone_mode=False)
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
    except typer.TyperException as exc:  # usage errors arrive here in non-standalone mode
        show = getattr(exc, "show", None)  # click's exceptions (vendored by typer) print usage too
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc.format_message()}", soft_wrap=True, markup=False)
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
