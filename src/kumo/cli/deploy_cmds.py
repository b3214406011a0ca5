"""`kumo up / down / status / diff / history / rollback`: releases on any Kubernetes cluster."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from kumo.cli.output import OutputFormat, console, err_console, print_json
from kumo.errors import KumoError, UsageError

if TYPE_CHECKING:  # the library is imported inside each command: `kumo --help` stays fast
    from kumo.deploy import DeployOptions, Rendered
    from kumo.render import CloudFacts
    from kumo.spec import Spec

T = TypeVar("T")

FileArg = Annotated[Path, typer.Argument(help="Path of the kumo.yaml to deploy.", show_default=True)]
ContextOpt = Annotated[
    str | None,
    typer.Option("--context", help="kubeconfig context (default: target.context, else the current one)."),
]
KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        envvar="KUMO_KUBECONFIG",
        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config).",
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env", "-e", help="Environment: one under `environments`, or any name (e.g. pr-42) for a preview."
    ),
]
OutputOpt = Annotated[OutputFormat, typer.Option("--output", "-o", help="text or json.")]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Use the running sandbox (kumo sandbox up): its env file, kubeconfig and DNS server.",
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for the release to become ready.")
]
LockTimeoutOpt = Annotated[
    float, typer.Option("--lock-timeout", help="Seconds to wait for another run's lock on this release.")
]
LockDurationOpt = Annotated[
    int,
    typer.Option(
        "--lock-duration",
        envvar="KUMO_LOCK_DURATION",
        help="Seconds the release lock lasts without renewal; a crashed run's lock expires after this.",
    ),
]
MaxHistoryOpt = Annotated[int, typer.Option("--max-history", min=1, help="Revisions kept in the cluster.")]
DEFAULT_FILE = Path("kumo.yaml")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass(frozen=True)
class Target:
    """What every release command is pointed at: a kumo.yaml and environment, a cluster, an output."""

    file: Path
    env: str | None
    context: str | None
    kubeconfig: str | None
    output: OutputFormat
    #: the running sandbox (kumo.sandbox.supervisor.Sandbox) with --sandbox
    sandbox: Any = None

    def load(
        self, facts: CloudFacts | None = None, *, reading: bool = False, spec: Spec | None = None
    ) -> Rendered:
        """Render the release. On an aws target, values only the cloud step knows (account id,
        certificate ARNs) are read from the account (read-only) unless ``facts`` holds them.

        ``reading`` (status, diff, history): values that cannot be had leave their placeholders,
        named on stderr, and the command shows what it can without them.
        """
        from kumo.deploy import render_release
        from kumo.spec import load_spec

        if spec is None:  # `kumo up` has read it already, to decide on the cloud step
            spec = load_spec(self.file, self.env)
        if facts is None and _needs_cloud_facts(spec, self.env):
            from kumo.cloud.aws import CloudOptions, live_facts

            try:
                facts = live_facts(spec, self.file, CloudOptions(env=self.env))
            except KumoError as exc:
                if not reading:
                    raise
                err_console.print(f"[yellow]note:[/] {exc.message}", soft_wrap=True)
        rendered = render_release(spec, self.env, facts, allow_placeholders=reading)
        rendered.source = self.file
        if rendered.missing:
            err_console.print(
                "[yellow]note:[/] values only the cloud step knows are not filled in yet: "
                f"{', '.join(rendered.missing)}; showing what can be shown without them",
                soft_wrap=True,
            )
        if self.sandbox is not None:
            from kumo.sandbox.session import adapt_addons

            rendered.addons = adapt_addons(rendered.addons, self.sandbox, rendered.spec)
        return rendered

    def load_for_reading(self) -> Rendered:
        """For status, diff and history: values only the cloud step knows may still be missing."""
        return self.load(reading=True)

    def options(self, **extra: Any) -> DeployOptions:
        from kumo.deploy import DeployOptions

        if self.sandbox is not None and extra.get("dns_server") is None and "dns_server" in extra:
            extra["dns_server"] = self.sandbox.dns_server
        return DeployOptions(kubeconfig=self.kubeconfig, context=self.context, **extra)

    def print_json(self, data: Any) -> bool:
        """Print ``data`` as JSON when that is the output asked for; True when it was printed."""
        if self.output != OutputFormat.json:
            return False
        print_json(data)
        return True


def _needs_cloud_facts(spec: Spec, env: str | None) -> bool:
    from kumo.render import find_placeholders, render

    return spec.target.cloud == "aws" and bool(find_placeholders(render(spec, env)))


def _param(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


_TARGET_PARAMS = [
    _param("context", ContextOpt, None),
    _param("env", EnvOpt, None),
    _param("output", OutputOpt, OutputFormat.text),
    _param("kubeconfig", KubeconfigOpt, None),
    _param("sandbox", SandboxOpt, False),
]


def _attach_sandbox(target: Target) -> Target:
    """--sandbox: point this process at the running sandbox and prepare it for the spec."""
    from kumo.sandbox.session import attach
    from kumo.spec import load_spec

    sandbox = attach(
        load_spec(target.file, target.env),
        progress=lambda text: err_console.print(f"[bold cyan]»[/] sandbox: {text}", soft_wrap=True),
    )
    return Target(
        file=target.file,
        env=target.env,
        context=target.context,
        kubeconfig=str(sandbox.kubeconfig),
        output=target.output,
        sandbox=sandbox,
    )


def release_command(
    file: Any = FileArg,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command ``(target, ...)`` the options every release command shares, in one place.

    Typer reads the returned function's signature: ``file`` (annotated with ``file``) and the target
    options come first, then the command's own parameters (those after ``target``).
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        params = [_param("file", file, DEFAULT_FILE), *_TARGET_PARAMS, *rest]

        @functools.wraps(command)
        def run(**kwargs: Any) -> None:
            target = Target(
                file=kwargs.pop("file"),
                env=kwargs.pop("env"),
                context=kwargs.pop("context"),
                kubeconfig=kwargs.pop("kubeconfig"),
                output=kwargs.pop("output"),
            )
            if kwargs.pop("sandbox"):
                target = _attach_sandbox(target)
            command(target, **kwargs)

        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {}
        return run

    return decorate


@release_command()
def up_cmd(
    target: Target,
    atomic: Annotated[
        bool, typer.Option("--atomic/--no-atomic", help="Roll back automatically when the rollout fails.")
    ] = True,
    timeout: TimeoutOpt = 300.0,
    lock_timeout: LockTimeoutOpt = 120.0,
    lock_duration: LockDurationOpt = 15,
    max_history: MaxHistoryOpt = 10,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the release is ready.")] = True,
    dns_timeout: Annotated[
        float, typer.Option("--dns-timeout", help="Seconds to wait for the hostname to resolve; 0 skips it.")
    ] = 30.0,
    dns_server: Annotated[
        str | None,
        typer.Option(
            "--dns-server",
            envvar="KUMO_DNS_SERVER",
            help="Ask this DNS server (HOST:PORT) instead of the system's.",
        ),
    ] = None,
    unschedulable_grace: Annotated[
        float,
        typer.Option(
            "--unschedulable-grace", help="Seconds a Pod may wait for a node before the rollout fails."
        ),
    ] = 30.0,
    skip_cloud: Annotated[
        bool,
        typer.Option("--skip-cloud", help="aws: do not run the cloud step (`kumo cloud apply`) first."),
    ] = False,
    kubeconfig_endpoint: Annotated[
        str | None,
        typer.Option(
            "--kubeconfig-endpoint",
            envvar="KUMO_KUBECONFIG_ENDPOINT",
            help="aws: point the cluster's kubeconfig context at this API server instead of the EKS "
            "endpoint (e.g. the sandbox's Kubernetes API emulator).",
        ),
    ] = None,
) -> None:
    """Deploy kumo.yaml: server-side apply, prune, wait with live progress, roll back on failure.

    On an aws target the cloud step (`kumo cloud apply`) runs first and its outputs (account id,
    certificate ARNs, the DNS controller's role) fill the rendered objects.

    Example: kumo up examples/hello-generic/kumo.yaml --env pr-42
    """
    from kumo.cli.progress import CliReporter
    from kumo.deploy import DeployFailed, up
    from kumo.spec import load_spec

    spec = load_spec(target.file, target.env)
    facts = None
    if spec.target.cloud == "aws" and not skip_cloud:
        from kumo.cli.cloud_cmds import options as cloud_options
        from kumo.cli.cloud_cmds import run_apply

        err_console.print("[bold cyan]»[/] cloud step (kumo cloud apply)", soft_wrap=True)
        if target.sandbox is not None and kubeconfig_endpoint is None:
            kubeconfig_endpoint = target.sandbox.kube_url  # the cluster's context: the emulator
        cloud = run_apply(
            target.file, cloud_options(target.env, False, target.kubeconfig, kubeconfig_endpoint)
        )
        facts = cloud.outputs.facts()
        if cloud.outputs.context is not None:
            target = Target(
                file=target.file,
                env=target.env,
                context=target.context or cloud.outputs.context,
                kubeconfig=cloud.outputs.kubeconfig,
                output=target.output,
                sandbox=target.sandbox,
            )
    rendered = target.load(facts, spec=spec)
    options = target.options(
        atomic=atomic,
        timeout=timeout,
        lock_timeout=lock_timeout,
        lock_duration=lock_duration,
        max_history=max_history,
        wait=wait,
        dns_timeout=dns_timeout,
        dns_server=dns_server,
        unschedulable_grace=unschedulable_grace,
    )
    reporter = CliReporter(quiet=False)
    try:
        result = _run(up(rendered, options, reporter))
    except DeployFailed as exc:
        target.print_json(exc.result.as_dict())
        raise
    if target.print_json(result.as_dict()):
        return
    counts = {a: list(result.actions.values()).count(a) for a in ("created", "configured", "unchanged")}
    summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
    console.print(
        f"[green]✓[/] {result.release} revision {result.revision} is ready in namespace {result.namespace}"
        f" ({summary or 'nothing applied'}, {len(result.pruned)} pruned)"
    )
    for url in result.urls:
        console.print(f"  {url}")
    if target.sandbox is not None:
        _print_sandbox_access(target.sandbox, rendered)


def _print_sandbox_access(sandbox: Any, rendered: Rendered) -> None:
    token = sandbox.console_token()
    if "console" in sandbox.ports:
        console.print(f"  console: {sandbox.console_url}?token={token}", soft_wrap=True)
    for hostname in rendered.hostnames:
        console.print(f"  {sandbox.dig(hostname)}", soft_wrap=True)
    console.print(
        "  (sandbox: the names resolve through its DNS server; no container runs, so the URL serves no HTTP)"
    )


@release_command()
def down_cmd(
    target: Target,
    timeout: TimeoutOpt = 120.0,
    lock_timeout: LockTimeoutOpt = 120.0,
    lock_duration: LockDurationOpt = 15,
    prune_addons: Annotated[
        bool,
        typer.Option(
            "--prune-addons",
            help="Also remove kumo's add-ons (the DNS controller) when no other release uses them.",
        ),
    ] = False,
) -> None:
    """Remove the release and everything it created (a preview env's whole namespace).

    The DNS controller add-on stays (it removes the names); when no release uses it any more,
    --prune-addons removes it too.

    Example: kumo down examples/hello-generic/kumo.yaml --env pr-42
    """
    from kumo.cli.progress import CliReporter
    from kumo.deploy import down

    rendered = target.load()
    options = target.options(
        timeout=timeout, lock_timeout=lock_timeout, lock_duration=lock_duration, prune_addons=prune_addons
    )
    result = _run(down(rendered, options, CliReporter()))
    if target.print_json(result.as_dict()):
        return
    what = " and its namespace" if result.namespace_deleted else ""
    console.print(f"[green]✓[/] removed {result.release}{what} ({len(result.deleted)} objects deleted)")


@release_command()
def status_cmd(
    target: Target,
    dns_server: Annotated[
        str | None,
        typer.Option("--dns-server", envvar="KUMO_DNS_SERVER", help="DNS server (HOST:PORT) to ask."),
    ] = None,
) -> None:
    """Show the release: desired/running/pending, rollouts, pods, endpoint, DNS, events, revision.

    Example: kumo status examples/hello-generic/kumo.yaml
    """
    from kumo.deploy import release_status

    rendered = target.load_for_reading()
    view = _run(release_status(rendered, target.options(dns_server=dns_server)))
    if target.print_json(view):
        return
    _print_status(view)


def _print_status(view: dict[str, Any]) -> None:
    console.print(f"[bold]{view['release']}[/] in namespace {view['namespace']} (context {view['context']})")
    if not view.get("installed"):
        console.print("  not installed")
        return
    revision = view.get("revision")
    if revision:
        console.print(
            f"  revision {revision['revision']} deployed by {revision['deployedBy']}"
            f" at {revision['deployedAt']} ({revision['description']})"
        )
    latest = view.get("latest")
    if latest and (not revision or latest["revision"] != revision["revision"]):
        console.print(f"  latest revision {latest['revision']}: {latest['status']} ({latest['description']})")
        if latest.get("failure"):
            console.print(f"    {latest['failure'].splitlines()[0]}")
    for svc in view.get("services", []):
        colour = {"Current": "green", "Failed": "red"}.get(svc["state"], "yellow")
        console.print(
            f"\n  [bold]{svc['name']}[/]  [{colour}]{svc['state']}[/]  desired {svc['desired']}  "
            f"running {svc['running']}  pending {svc['pending']}  ({svc['message']})"
        )
        for rollout in svc["rollouts"]:
            # The Deployment's own revision counter is not the release's: show which rollout is
            # current, not its number.
            which = "current" if rollout["current"] else "old    "
            console.print(
                f"   {which} {', '.join(rollout['images'])}  ready {rollout['ready']}/{rollout['desired']}"
            )
        for pod in svc["pods"]:
            health = "ready" if pod["ready"] else (pod["problem"] or pod["phase"].lower())
            console.print(f"     pod {pod['name']:40} {health:18} restarts {pod['restarts']}")
    for endpoint in view.get("endpoints", []):
        address = endpoint["address"] or "(no address yet)"
        console.print(
            f"\n  endpoint {endpoint['kind'].lower()}/{endpoint['name']} ({endpoint['type']}): {address}"
        )
    for dns in view.get("dns", []):
        console.print(f"  dns {dns['hostname']}: {dns['state']}")
    controller = view.get("dnsController")
    if controller:
        leader = controller["leader"] or "none (no leader holds the Lease)"
        runs = controller["runsAs"] or f"{controller['readyReplicas']}/{controller['replicas']} Pods ready"
        where = f"{controller['deployment']} (Lease {controller['lease']})"
        console.print(f"  dns controller {where}: leader {leader}; {runs}", soft_wrap=True)
    events = view.get("events", [])
    if events:
        console.print("\n  recent events:")
        for event in events:
            console.print(
                f"   {event['type']:8} {event['reason']:20} {event['object']:36} {event['message']}"
            )


#: `kumo diff` exits as `kubectl diff` does: 0 no differences, 1 differences (with --exit-code),
#: 2 bad input (kumo.yaml, flags), 3 any other error (cluster unreachable, a refused dry-run).
DIFF_ERROR_EXIT = 3


@release_command()
def diff_cmd(
    target: Target,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit 1 when anything differs (0 when nothing does), as `kubectl diff`; "
            "bad input exits 2, other errors 3.",
        ),
    ] = False,
) -> None:
    """Compare kumo.yaml with the live objects, field by field, drift made by hand included.

    The server computes what `kumo up` would make of each object (a server-side dry-run apply),
    so lists merge as the API server merges them.
    Exit codes: 0 no differences (or any, without --exit-code), 1 differences with --exit-code,
    2 bad input, 3 other errors.

    Example: kumo diff examples/hello-generic/kumo.yaml --exit-code
    """
    from kumo.deploy import describe, diff_release

    rendered = target.load_for_reading()
    try:
        result = _run(diff_release(rendered, target.options()))
    except KumoError as exc:
        if exc.exit_code != UsageError.exit_code:
            exc.exit_code = DIFF_ERROR_EXIT  # 1 means "differences" for a diff
        raise
    if not target.print_json(result.as_dict()):
        signs = {"create": "[green]+[/]", "update": "[yellow]~[/]", "prune": "[red]-[/]", "skipped": "?"}
        for obj in result.objects:
            if obj.action == "unchanged":
                continue
            what = "skipped: holds values the cloud step fills" if obj.action == "skipped" else obj.action
            console.print(f"{signs[obj.action]} {obj.ref} ({what})", soft_wrap=True)
            for change in obj.changes:
                console.print(f"    {describe(change)}", soft_wrap=True, markup=False)
        if not result.changed:
            console.print("no differences" if result.complete else "no differences in what could be compared")
    if exit_code and result.changed:
        raise SystemExit(1)  # typer.Exit is swallowed when the root app runs with standalone_mode=False
    if exit_code and not result.complete:
        incomplete = KumoError(
            f"could not compare everything: {', '.join(result.missing)} not filled in yet",
            "Run the cloud step first; the objects marked ? hold these values.",
        )
        incomplete.exit_code = DIFF_ERROR_EXIT
        raise incomplete


@release_command()
def history_cmd(
    target: Target,
) -> None:
    """List the release's revisions: status, who deployed them and when, and why one failed.

    Example: kumo history examples/hello-generic/kumo.yaml
    """
    from kumo.deploy import history

    rendered = target.load_for_reading()
    revisions = _run(history(rendered, target.options()))
    summary = {
        "release": rendered.release,
        "namespace": rendered.namespace,
        "revisions": [r.summary() for r in revisions],
    }
    if target.print_json(summary):
        return
    if not revisions:
        console.print(f"{rendered.release}: no revisions")
        return
    console.print(f"{'REV':>4}  {'STATUS':12} {'WHEN':21} {'BY':32} {'IMAGES':32} DESCRIPTION")
    for revision in revisions:
        images = ", ".join(sorted(set(revision.images.values()))) or "-"
        console.print(
            f"{revision.number:>4}  {revision.status:12} {revision.deployed_at:21} {revision.deployed_by:32} "
            f"{images:32} {revision.description}",
            markup=False,
        )
        if revision.failure:
            console.print(f"{'':6}{revision.failure.splitlines()[0]}", markup=False)


@release_command()
def rollback_cmd(
    target: Target,
    revision: Annotated[
        int | None, typer.Argument(help="Revision to return to (default: the one before the current).")
    ] = None,
    timeout: TimeoutOpt = 300.0,
    lock_timeout: LockTimeoutOpt = 120.0,
    lock_duration: LockDurationOpt = 15,
    max_history: MaxHistoryOpt = 10,
) -> None:
    """Make an earlier revision live again (recorded as a new revision).

    Example: kumo rollback examples/hello-generic/kumo.yaml 3
    """
    from kumo.cli.progress import CliReporter
    from kumo.deploy import rollback

    rendered = target.load()
    options = target.options(
        timeout=timeout,
        lock_timeout=lock_timeout,
        lock_duration=lock_duration,
        max_history=max_history,
    )
    result = _run(rollback(rendered, revision, options, CliReporter()))
    if target.print_json(result.as_dict()):
        return
    console.print(
        f"[green]✓[/] {result.release} rolled back to revision {result.target} as revision {result.revision}"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("up")(up_cmd)
    app.command("down")(down_cmd)
    app.command("status")(status_cmd)
    app.command("diff")(diff_cmd)
    app.command("history")(history_cmd)
    app.command("rollback")(rollback_cmd)
