"""``kumo dns``: the DNS controller (external-dns compatible)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Callable
from typing import Annotated, Any

import typer

from kumo.dns.flags import FLAGS, Flag, Kind, Status
from kumo.errors import UsageError

dns_app = typer.Typer(
    help="The DNS controller, a drop-in replacement for external-dns.\n\n"
    "Example: kumo dns run --source service --provider aws --domain-filter example.com --once",
    no_args_is_help=True,
)

_PANELS = {
    Status.IMPLEMENTED: "external-dns flags",
    Status.ACCEPTED: "external-dns flags accepted with no effect (logged once when set)",
    Status.REJECTED: "external-dns flags kumo does not implement (an error when set)",
}


def _option(flag: Flag) -> inspect.Parameter:
    """A Typer option for one row of the flags table, with its EXTERNAL_DNS_<FLAG> variable."""
    panel = "kumo's own flags" if flag.kumo_only else _PANELS[flag.status]
    envvar = list(flag.envvars) if flag.kumo_only else [flag.envvar, *flag.envvars]
    help_text = flag.note
    if flag.supported:
        help_text += f" (kumo: {', '.join(flag.supported)})"
    common: dict[str, Any] = {"envvar": envvar or None, "help": help_text, "rich_help_panel": panel}
    annotation: Any
    default: Any = flag.default
    if flag.kind is Kind.BOOL:
        annotation = Annotated[bool, typer.Option(f"--{flag.name}/--no-{flag.name}", **common)]
    elif flag.kind in (Kind.STRINGS, Kind.ENUMS):
        show = ",".join(flag.default) if flag.default else False
        annotation = Annotated[list[str] | None, typer.Option(f"--{flag.name}", show_default=show, **common)]
        default = None
    elif flag.kind is Kind.INT:
        annotation = Annotated[int, typer.Option(f"--{flag.name}", **common)]
    else:
        annotation = Annotated[str, typer.Option(f"--{flag.name}", **common)]
    return inspect.Parameter(
        flag.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def with_flags(selected: tuple[Flag, ...]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command one option per row of ``selected``; it receives them as ``values: dict``."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "values"]
        # implemented flags first in --help, then kumo's own, then the accepted and the rejected ones
        rank = {Status.IMPLEMENTED: 0, Status.ACCEPTED: 2, Status.REJECTED: 3}
        ordered = sorted(selected, key=lambda f: 1 if f.kumo_only else rank[f.status])
        params = own + [_option(f) for f in ordered]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            values = {f.dest: kwargs.pop(f.dest) for f in selected}
            command(values=values, **kwargs)

        # Typer reads the options from the signature and the annotations
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(version("kumo"))
        except PackageNotFoundError:
            typer.echo("unknown")
        raise typer.Exit(0)


VersionOpt = Annotated[
    bool,
    typer.Option("--version", callback=_version, is_eager=True, help="Print kumo's version and exit."),
]
RUN_FLAGS = FLAGS
SERVE_FLAGS = tuple(f for f in FLAGS if f.provider)


@dns_app.command("run")
@with_flags(RUN_FLAGS)
def run(
    values: dict[str, Any],
    version: VersionOpt = False,
    file: Annotated[
        str | None,
        typer.Option(
            "--file", "-f", help="Take sources, zone, owner id and provider from this kumo.yaml (local run)."
        ),
    ] = None,
) -> None:
    """Run the DNS controller: watch Services, Ingresses and Gateway routes, keep their DNS records true.

    It takes external-dns v0.22's flags and EXTERNAL_DNS_<FLAG> variables. A flag kumo does not
    implement is accepted and logged when it cannot change records, and an error when it could.

    With -f kumo.yaml, the sources, zone, owner id and provider come from the spec (as the in-cluster
    add-on gets them), for a run on your machine; flags given as well override them. The leader Lease
    is the add-on's, in dns.controller.namespace, which must exist.

    Example: kumo dns run --source=service --provider=aws --domain-filter=example.com --txt-owner-id=kumo

    Example: kumo dns run -f examples/hello-generic/kumo.yaml --kubeconfig /tmp/kumo.kubeconfig
    """
    if file is not None:  # kumo.cli.main expands it into flags before parsing
        raise UsageError("--file: run it as `kumo dns run -f FILE` from the kumo command")
    from kumo.dns import logfmt
    from kumo.dns.flags import log_notices
    from kumo.dns.providers import make_provider
    from kumo.dns.runner import run_controller
    from kumo.dns.settings import run_settings

    settings = run_settings(values, RUN_FLAGS)
    logfmt.configure(settings.log_level, settings.log_format)
    log_notices(settings.notices)
    prov = make_provider(settings.provider)
    try:
        code = asyncio.run(run_controller(prov, settings.run))
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


@dns_app.command("webhook-serve")
@with_flags(SERVE_FLAGS)
def webhook_serve(
    values: dict[str, Any],
    listen: Annotated[str, typer.Option("--listen", help="Address to serve the webhook protocol on.")] = (
        "127.0.0.1:8888"
    ),
) -> None:
    """Serve one of kumo's providers to external-dns over the webhook protocol.

    Example: kumo dns webhook-serve --provider=rfc2136 --rfc2136-host=10.0.0.2 --rfc2136-zone=example.com
    """
    import uvicorn

    from kumo.dns import logfmt
    from kumo.dns.flags import check, log_notices
    from kumo.dns.health import parse_address
    from kumo.dns.providers import make_provider
    from kumo.dns.providers.webhook import webhook_app
    from kumo.dns.settings import provider_options

    notices = check(values, SERVE_FLAGS)
    options = provider_options(values)
    if options.name == "webhook":
        raise UsageError("--provider: webhook-serve serves a real provider, not another webhook")
    host, port = parse_address(listen, "--listen")
    logfmt.configure(str(values.get("log_level") or "info"), str(values.get("log_format") or "text"))
    log_notices(notices)
    prov = make_provider(options)

    async def serve() -> None:
        await prov.prepare()  # e.g. learn Route 53's zones first, so GET / answers with them
        server = uvicorn.Server(uvicorn.Config(webhook_app(prov), host=host, port=port, log_level="warning"))
        try:
            await server.serve()
        finally:
            await prov.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def spec_run_args(argv: list[str]) -> list[str]:
    """``kumo dns run -f kumo.yaml ...`` as the flags the spec implies, for a run outside the cluster.

    The spec gives the sources, zone, owner id and provider, exactly as the add-on is started;
    what only makes sense in a Pod changes for a local run: the local provider's zone file goes to
    the temporary directory and it answers on 127.0.0.1, /metrics listens on 127.0.0.1, and the
    leader Lease is the add-on's own (in ``dns.controller.namespace``), so a local run and an
    in-cluster one never write at the same time, and `kumo up` sees the local run as live.
    Flags given on the command line come after and so override single-valued ones.
    """
    if argv[:2] != ["dns", "run"]:
        return argv
    rest = argv[2:]
    for flag in ("-f", "--file"):
        if flag in rest:
            at = rest.index(flag)
            if at + 1 >= len(rest):
                raise UsageError(f"{flag}: expected the path of a kumo.yaml")
            path = rest[at + 1]
            rest = rest[:at] + rest[at + 2 :]
            break
    else:
        found = next((a for a in rest if a.startswith(("--file=", "-f="))), None)
        if found is None:
            return argv
        path = found.split("=", 1)[1]
        rest = [a for a in rest if a != found]
    import tempfile

    from kumo.render import controller_args
    from kumo.spec import load_spec

    spec = load_spec(path)
    if spec.dns is None:
        raise UsageError(f"{path}: has no dns section, so there is no DNS controller to run")
    local_db = os.path.join(tempfile.gettempdir(), f"kumo-dns-{spec.dns.zone}.sqlite")
    args = []
    for arg in controller_args(spec)[2:]:
        name = arg.split("=", 1)[0]
        if name == "--local-db":
            arg = f"--local-db={local_db}"
        elif name == "--local-listen":
            arg = "--local-listen=127.0.0.1:" + arg.rsplit(":", 1)[1]
        elif name == "--metrics-address":
            arg = "--metrics-address=127.0.0.1:" + arg.rsplit(":", 1)[1]
        args.append(arg)
    args.append(f"--leader-election-namespace={spec.dns.controller.namespace}")
    return ["dns", "run", *args, *rest]


def register(app: typer.Typer) -> None:
    app.add_typer(dns_app, name="dns")
