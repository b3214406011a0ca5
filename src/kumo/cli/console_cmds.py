"""``kumo console``: the live web view. Owned by the console area; registered by kumo.cli.app."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

import typer

from kumo.cli.output import err_console


def console_cmd(
    kubeconfig: Path | None = typer.Option(
        None, "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."
    ),
    context: str | None = typer.Option(
        None, "--context", help="kubeconfig context (default: the current one)."
    ),
    address: str = typer.Option(
        "127.0.0.1:8080", "--address", help="HOST:PORT to listen on; port 0 picks a free one."
    ),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help="File holding the token clients must send (default: a random one, printed in the URL). "
        "Required to listen on a non-loopback address.",
    ),
    dns_status_url: list[str] = typer.Option(
        [],
        "--dns-status-url",
        help="The DNS controller's /status.json (its metrics port), for the DNS views. Repeatable.",
    ),
    dns_from_pods: str | None = typer.Option(
        None,
        "--dns-from-pods",
        help="Inside a cluster: find the DNS controller's Pods by this app.kubernetes.io/name "
        "(kumo-dns) and read their /status.json on port 7979.",
    ),
    metrics_interval: float = typer.Option(
        15.0, "--metrics-interval", help="Seconds between reads of metrics.k8s.io (CPU and memory)."
    ),
) -> None:
    """Serve a live web view of every kumo app in the cluster: rollouts, pods, load balancers, DNS.

    It reads only (watches through one read model; no write endpoint) and prints one line with the
    URL and its token, then serves until stopped. GET /healthz answers 200 once the first lists
    are in.

    Example: kumo console --kubeconfig /tmp/kumo.kubeconfig --dns-status-url http://127.0.0.1:7979/status.json
    """
    from kumo.console import ConsoleOptions, check_options, serve

    options = ConsoleOptions(
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        context=context,
        address=address,
        token_file=str(token_file) if token_file else None,
        dns_status_urls=list(dns_status_url),
        dns_from_pods=dns_from_pods,
        metrics_interval=max(1.0, metrics_interval),
    )
    check_options(options)  # bad flags fail before anything connects

    def announce(url: str) -> None:
        sys.stdout.write(f"console: {url}\n")
        sys.stdout.flush()

    async def run() -> None:
        task = asyncio.create_task(serve(options, announce))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())
    err_console.print("console stopped")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("console")(console_cmd)
