"""The root ``kumo`` command. Each area registers its commands from its own module.

Only the module of the command being run is imported and registered (``kumo up`` neither imports
the DNS controller's command of a hundred options nor builds it); ``kumo --help``, shell completion
and anything not recognised get every command.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from kumo.cli.areas import AREAS, area_of
from kumo.cli.output import console, err_console
from kumo.errors import KumoError


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


class _Interrupted(Exception):
    """Ctrl-C during a command."""


class _RootGroup(TyperGroup):
    """The root command. Typer turns a KeyboardInterrupt into a silent exit 130; caught here first,
    it ends the command as other errors do, with a line that says what happened."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None


def build_app(areas: Iterable[str] = AREAS) -> typer.Typer:
    """The root command with the commands of ``areas`` (modules named in kumo.cli.areas.AREAS)."""
    root = typer.Typer(
        name="kumo",
        cls=_RootGroup,
        help="One spec to provision, deploy, name and watch a web app on any Kubernetes.\n\n"
        "Example: kumo plan examples/online-app/kumo.yaml",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    root.callback()(_root)
    for area in areas:
        importlib.import_module(f"kumo.cli.{area}").register(root)
    return root


def areas_for(argv: list[str]) -> list[str]:
    """The areas a command line needs: the one owning its command, else all of them."""
    if any(name.endswith("_COMPLETE") or name.startswith("_TYPER_COMPLETE") for name in os.environ):
        return list(AREAS)  # shell completion lists every command
    area = area_of(argv)
    return [area] if area else list(AREAS)


def __getattr__(name: str) -> Any:
    """``app``: the root command with every command, for tools and tests that import it."""
    if name == "app":
        built = build_app()
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: turn kumo's errors into a message and an exit code, never a traceback."""
    try:
        # Without standalone mode, click returns a command's `typer.Exit` code instead of exiting.
        argv = sys.argv[1:]
        if argv[:2] == ["dns", "run"]:
            from kumo.cli.dns_cmds import spec_run_args

            argv = spec_run_args(argv)
        result = build_app(areas_for(argv))(args=argv, standalone_mode=False)
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
    except (KeyboardInterrupt, _Interrupted):
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
