"""`kumo up / down / status / diff / history / rollback`: releases on any Kubernetes cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from kumo.cli.output import OutputFormat, console, err_console, print_json
from kumo.deploy import (
    DeployFailed,
    DeployOptions,
    ObjectProgress,
    Ref,
    Reporter,
    describe,
    diff_release,
    down,
    history,
    load_release,
    release_status,
    rollback,
    up,
)

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
DEFAULT_FILE = Path("kumo.yaml")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class CliReporter(Reporter):
    """Live progress on stderr, one line per change, so stdout stays clean for results and JSON."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._last: dict[Ref, tuple[str, str, str | None]] = {}

    def message(self, text: str) -> None:
        if not self.quiet:
            err_console.print(f"[bold cyan]»[/] {text}", soft_wrap=True)

    def applied(self, ref: Ref, action: str) -> None:
        if not self.quiet:
            where = f" ({ref.namespace})" if ref.namespace else ""
            err_console.print(f"  [dim]{action:8}[/] {ref.short}{where}", soft_wrap=True)

    def progress(self, objects: list[ObjectProgress]) -> None:
        if self.quiet:
            return
        for item in objects:
            key = (item.state, item.message, item.address)
            if self._last.get(item.ref) == key:
                continue
            self._last[item.ref] = key
            colour = {"Current": "green", "Failed": "red"}.get(item.state, "yellow")
            err_console.print(
                f"  [{colour}]{item.state:10}[/] {item.ref.short:32} {item.message}",
                soft_wrap=True,
                markup=True,
            )


def _options(kubeconfig: str | None, context: str | None, **extra: Any) -> DeployOptions:
    return DeployOptions(kubeconfig=kubeconfig, context=context, **extra)


def up_cmd(
    file: FileArg = DEFAULT_FILE,
    context: ContextOpt = None,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    kubeconfig: KubeconfigOpt = None,
    atomic: Annotated[
        bool, typer.Option("--atomic/--no-atomic", help="Roll back automatically when the rollout fails.")
    ] = True,
    timeout: TimeoutOpt = 300.0,
    lock_timeout: LockTimeoutOpt = 120.0,
    lock_duration: LockDurationOpt = 15,
    max_history: Annotated[
        int, typer.Option("--max-history", min=1, help="Revisions kept in the cluster.")
    ] = 10,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the release is ready.")] = True,
    dns_timeout: Annotated[
        float, typer.Option("--dns-timeout", help="Seconds to wait for the hostname to resolve; 0 skips it.")
    ] = 30.0,
    dns_server: Annotated[
        str | None,
        typer.Option("--dns-server", help="Ask this DNS server (HOST:PORT) instead of the system's."),
    ] = None,
    unschedulable_grace: Annotated[
        float,
        typer.Option(
            "--unschedulable-grace", help="Seconds a Pod may wait for a node before the rollout fails."
        ),
    ] = 30.0,
) -> None:
    """Deploy kumo.yaml: server-side apply, prune, wait with live progress, roll back on failure.

    Example: kumo up examples/hello-generic/kumo.yaml --env pr-42
    """
    rendered = load_release(file, env)
    options = _options(
        kubeconfig,
        context,
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
        if output == OutputFormat.json:
            print_json(exc.result.as_dict())
        raise
    if output == OutputFormat.json:
        print_json(result.as_dict())
        return
    console.print(
        f"[green]✓[/] {result.release} revision {result.revision} is ready in namespace {result.namespace}"
        f" ({len(result.applied)} applied, {len(result.pruned)} pruned)"
    )
    for url in result.urls:
        console.print(f"  {url}")


def down_cmd(
    file: FileArg = DEFAULT_FILE,
    context: ContextOpt = None,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    kubeconfig: KubeconfigOpt = None,
    timeout: TimeoutOpt = 120.0,
    lock_timeout: LockTimeoutOpt = 120.0,
    lock_duration: LockDurationOpt = 15,
) -> None:
    """Remove the release and everything it created (a preview env's whole namespace).

    Example: kumo down examples/hello-generic/kumo.yaml --env pr-42
    """
    rendered = load_release(file, env)
    options = _options(
        kubeconfig, context, timeout=timeout, lock_timeout=lock_timeout, lock_duration=lock_duration
    )
    result = _run(down(rendered, options, CliReporter()))
    if output == OutputFormat.json:
        print_json(result.as_dict())
        return
    what = " and its namespace" if result.namespace_deleted else ""
    console.print(f"[green]✓[/] removed {result.release}{what} ({len(result.deleted)} objects deleted)")


def status_cmd(
    file: FileArg = DEFAULT_FILE,
    context: ContextOpt = None,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    kubeconfig: KubeconfigOpt = None,
    dns_server: Annotated[
        str | None, typer.Option("--dns-server", help="DNS server (HOST:PORT) to ask.")
    ] = None,
) -> None:
    """Show the release: desired/running/pending, rollouts, pods, endpoint, DNS, events, revision.

    Example: kumo status examples/hello-generic/kumo.yaml
    """
    rendered = load_release(file, env)
    view = _run(release_status(rendered, _options(kubeconfig, context, dns_server=dns_server)))
    if output == OutputFormat.json:
        print_json(view)
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
            mark = "*" if rollout["current"] else " "
            console.print(
                f"   {mark} rollout rev {rollout['revision']}: {', '.join(rollout['images'])}  "
                f"ready {rollout['ready']}/{rollout['desired']}"
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
    events = view.get("events", [])
    if events:
        console.print("\n  recent events:")
        for event in events:
            console.print(
                f"   {event['type']:8} {event['reason']:20} {event['object']:36} {event['message']}"
            )


def diff_cmd(
    file: FileArg = DEFAULT_FILE,
    context: ContextOpt = None,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    kubeconfig: KubeconfigOpt = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit with 2 when anything differs.")
    ] = False,
) -> None:
    """Compare kumo.yaml with the live objects, field by field, drift made by hand included.

    Example: kumo diff examples/hello-generic/kumo.yaml --exit-code
    """
    rendered = load_release(file, env)
    result = _run(diff_release(rendered, _options(kubeconfig, context)))
    if output == OutputFormat.json:
        print_json(result.as_dict())
    else:
        signs = {"create": "[green]+[/]", "update": "[yellow]~[/]", "prune": "[red]-[/]"}
        for obj in result.objects:
            if obj.action == "unchanged":
                continue
            console.print(f"{signs[obj.action]} {obj.ref} ({obj.action})", soft_wrap=True)
            for change in obj.changes:
                console.print(f"    {describe(change)}", soft_wrap=True, markup=False)
        if not result.changed:
            console.print("no differences")
    if exit_code and result.changed:
        raise SystemExit(2)  # typer.Exit is swallowed when the root app runs with standalone_mode=False


def history_cmd(
    file: FileArg = DEFAULT_FILE,
    context: ContextOpt = None,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """List the release's revisions: status, who deployed them and when, and why one failed.

    Example: kumo history examples/hello-generic/kumo.yaml
    """
    rendered = load_release(file, env)
    revisions = _run(history(rendered, _options(kubeconfig, context)))
    if output == OutputFormat.json:
        print_json(
            {
                "release": rendered.release,
                "namespace": rendered.namespace,
                "revisions": [r.summary() for r in revisions],
            }
        )
        return
    if not revisions:
        console.print(f"{rendered.release}: no revisions")
        return
    console.print(f"{'REV':>4}  {'STATUS':12} {'WHEN':21} {'BY':32} DESCRIPTION")
    for revision in revisions:
        console.print(
            f"{revision.number:>4}  {revision.status:12} {revision.deployed_at:21} {revision.deployed_by:32} "
            f"{revision.description}",
            markup=False,
        )
        if revision.failure:
            console.print(f"{'':6}{revision.failure.splitlines()[0]}", markup=False)


def rollback_cmd(
    revision: Annotated[
        int | None, typer.Argument(help="Revision to return to (default: the one before the current).")
    ] = None,
    file: Annotated[Path, typer.Option("--file", "-f", help="Path of the kumo.yaml.")] = DEFAULT_FILE,
    context: ContextOpt = None,
    env: EnvOpt = None,
    output: OutputOpt = OutputFormat.text,
    kubeconfig: KubeconfigOpt = None,
    timeout: TimeoutOpt = 300.0,
    lock_timeout: LockTimeoutOpt = 120.0,
    lock_duration: LockDurationOpt = 15,
    max_history: Annotated[
        int, typer.Option("--max-history", min=1, help="Revisions kept in the cluster.")
    ] = 10,
) -> None:
    """Make an earlier revision live again (recorded as a new revision).

    Example: kumo rollback 3 -f examples/hello-generic/kumo.yaml
    """
    rendered = load_release(file, env)
    options = _options(
        kubeconfig,
        context,
        timeout=timeout,
        lock_timeout=lock_timeout,
        lock_duration=lock_duration,
        max_history=max_history,
    )
    result = _run(rollback(rendered, revision, options, CliReporter()))
    if output == OutputFormat.json:
        print_json(result.as_dict())
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
