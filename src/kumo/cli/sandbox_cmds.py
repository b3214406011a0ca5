"""`kumo` commands for the sandbox area. Owned by that area; registered by kumo.cli.app."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import typer

from kumo.cli.output import OutputFormat, console, err_console, print_json
from kumo.errors import UsageError

sandbox_app = typer.Typer(
    help="The whole system on one machine, no cloud account: a Kubernetes API emulator, moto for AWS, "
    "the DNS controller, a DNS server and the console, as local processes.\n\n"
    "Example: kumo sandbox up --spec examples/online-app/kumo.yaml",
    no_args_is_help=True,
)

DirOpt = typer.Option(
    Path(".kumo/sandbox"), "--dir", envvar="KUMO_SANDBOX_DIR", help="The sandbox's directory (state, logs)."
)


def _print_sandbox(info: dict[str, object], services: list[dict[str, object]]) -> None:
    for svc in services:
        state = f"[green]running[/] pid {svc['pid']}" if svc["running"] else "[red]stopped[/]"
        console.print(f"  {svc['name']:15} {state:28} {svc['address']}")
    console.print(f"  kubeconfig     {info['kubeconfig']}")
    console.print(f"  env file       {info['envFile']}  (source it: . {info['envFile']})")
    if info.get("console"):
        console.print(f"  console        {info['console']}", soft_wrap=True)


@sandbox_app.command("up")
def up_cmd(
    directory: Path = DirOpt,
    spec: Path | None = typer.Option(
        None,
        "--spec",
        help="A kumo.yaml: seed moto with what its cloud step expects to find (VPC, subnets, zone) "
        "and run its DNS controller.",
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", help="text or json."),
) -> None:
    """Start the sandbox (or reuse what runs of it) and print every address.

    Example: kumo sandbox up --spec examples/online-app/kumo.yaml && . .kumo/sandbox/env
    """
    from kumo.sandbox.supervisor import up
    from kumo.spec import load_spec

    loaded = load_spec(spec) if spec is not None else None
    quiet = output == OutputFormat.json
    sandbox = up(
        directory,
        loaded,
        str(spec) if spec is not None else None,
        progress=None if quiet else lambda text: err_console.print(f"[bold cyan]»[/] {text}"),
    )
    info = sandbox.as_dict()
    if quiet:
        print_json(info)
        return
    console.print(f"[green]✓[/] sandbox running in {sandbox.directory}")
    _print_sandbox(info, info["services"])


@sandbox_app.command("status")
def status_cmd(
    directory: Path = DirOpt,
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", help="text or json."),
) -> None:
    """Show which of the sandbox's processes run, with their addresses (exit 1 when one is down).

    Example: kumo sandbox status --output json
    """
    from kumo.sandbox.supervisor import load

    sandbox = load(directory)
    info = sandbox.as_dict()
    running = bool(sandbox.services) and all(s.running for s in sandbox.services.values())
    if output == OutputFormat.json:
        print_json({**info, "running": running})
    elif not sandbox.services:
        console.print(f"no sandbox in {sandbox.directory} (start one with: kumo sandbox up)")
    else:
        console.print(f"sandbox in {sandbox.directory}")
        _print_sandbox(info, info["services"])
    if not running:
        raise typer.Exit(1)


@sandbox_app.command("down")
def down_cmd(
    directory: Path = DirOpt,
    purge: bool = typer.Option(False, "--purge", help="Also remove the directory (state, logs, zone data)."),
) -> None:
    """Stop the processes this sandbox started (only those), and with --purge remove its directory.

    Example: kumo sandbox down --purge
    """
    from kumo.sandbox.supervisor import down

    stopped = down(directory, purge, progress=lambda text: err_console.print(f"[bold cyan]»[/] {text}"))
    console.print(
        f"[green]✓[/] sandbox stopped ({len(stopped)} processes)" + (", directory removed" if purge else "")
    )


@sandbox_app.command("kubeapi")
def kubeapi(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    kubeconfig: Path = typer.Option(..., "--kubeconfig", help="Where to write a kubeconfig pointing at it."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Run simulated controllers."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for deterministic names and ids."),
    ready_delay: float = typer.Option(1.0, "--ready-delay", help="Seconds until a scheduled Pod is Ready."),
    nodes: int = typer.Option(3, "--nodes", help="How many simulated Nodes to register."),
    region: str = typer.Option("us-east-1", "--region", help="AWS region used in load balancer hostnames."),
    lb_mode: str = typer.Option("aws", "--lb-mode", help="'aws' for ELB hostnames, 'generic' for IPs."),
    tls: bool = typer.Option(
        False,
        "--tls",
        help="Serve HTTPS with a CA made for this run; the kubeconfig gets the CA and an admin client "
        "certificate (kubectl sends ServiceAccount tokens only over HTTPS).",
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", help="json: print one line {url, kubeconfig} when ready."
    ),
    eks_sts_endpoint: str | None = typer.Option(
        None,
        "--eks-sts-endpoint",
        help="Accept EKS tokens (k8s-aws-v1., from `kumo cloud token`) by replaying them to this STS "
        "endpoint, e.g. moto server's URL.",
    ),
) -> None:
    """Run a Kubernetes API emulator in the foreground and write a kubeconfig for it.

    Example: kumo sandbox kubeapi --port 0 --kubeconfig /tmp/kumo.kubeconfig --tls
    """
    from kumo.sandbox.kubeapi import Emulator, EmulatorOptions
    from kumo.sandbox.simulate import simulation

    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}")
    if lb_mode not in ("aws", "generic"):
        raise UsageError(f"--lb-mode must be 'aws' or 'generic', got {lb_mode!r}")
    if ready_delay < 0 or nodes < 0:
        raise UsageError("--ready-delay and --nodes must not be negative")
    emu = Emulator(
        EmulatorOptions(
            port=port,
            # the simulation is composed here: the emulator runs it without importing it
            controllers=simulation(pod_ready_delay=ready_delay, nodes=nodes, region=region, lb_mode=lb_mode)
            if simulate
            else None,
            seed=seed,
            tls=tls,
        )
    )
    if eks_sts_endpoint:
        from kumo.sandbox.eksauth import EksAuthenticator

        emu.app.authenticators.append(EksAuthenticator(eks_sts_endpoint))
    emu.bind()
    emu.write_kubeconfig(kubeconfig)

    def ready() -> None:
        if output == OutputFormat.json:
            # one line, flushed at once: a script reads it while the server keeps running
            sys.stdout.write(json.dumps({"url": emu.url, "kubeconfig": str(kubeconfig)}) + "\n")
            sys.stdout.flush()
            return
        console.print(f"Kubernetes API emulator listening on {emu.url}")
        console.print(
            f"kubeconfig written to {kubeconfig} (try: kubectl --kubeconfig {kubeconfig} get nodes)"
        )
        console.print("Press Ctrl+C to stop.")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, emu.request_stop)
        await emu.serve(ready)

    asyncio.run(run())


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(sandbox_app, name="sandbox")
