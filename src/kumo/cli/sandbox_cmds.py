"""`kumo` commands for the sandbox area. Owned by that area; registered by kumo.cli.app."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import typer

from kumo.cli.output import OutputFormat, console
from kumo.errors import UsageError

sandbox_app = typer.Typer(
    help="Local stand-ins for a cluster and a cloud: no account needed.\n\n"
    "Example: kumo sandbox kubeapi --port 0 --kubeconfig /tmp/kumo-sandbox.kubeconfig",
    no_args_is_help=True,
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
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", help="json: print one line {url, kubeconfig} when ready."
    ),
) -> None:
    """Run a Kubernetes API emulator in the foreground and write a kubeconfig for it.

    Example: kumo sandbox kubeapi --port 0 --kubeconfig /tmp/kumo.kubeconfig
    """
    from kumo.sandbox.kubeapi import Emulator, EmulatorOptions, write_kubeconfig

    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}")
    if lb_mode not in ("aws", "generic"):
        raise UsageError(f"--lb-mode must be 'aws' or 'generic', got {lb_mode!r}")
    if ready_delay < 0 or nodes < 0:
        raise UsageError("--ready-delay and --nodes must not be negative")
    emu = Emulator(
        EmulatorOptions(
            port=port,
            simulate=simulate,
            seed=seed,
            sim={"pod_ready_delay": ready_delay, "nodes": nodes, "region": region, "lb_mode": lb_mode},
        )
    )
    emu.bind()
    write_kubeconfig(kubeconfig, emu.url)

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
