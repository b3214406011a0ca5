"""Running the console: connect, start the read model, serve HTTP, and say where (with the token)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn

from kumo.console.auth import new_token, read_token_file
from kumo.console.model import ReadModel
from kumo.console.web import Console
from kumo.errors import UsageError
from kumo.kube import connect


@dataclass
class ConsoleOptions:
    kubeconfig: str | None = None
    context: str | None = None
    address: str = "127.0.0.1:8080"
    token_file: str | None = None
    dns_status_urls: list[str] = field(default_factory=list)
    dns_from_pods: str | None = None
    metrics_interval: float = 15.0


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6); port 0 picks a free one."""
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--address: expected HOST:PORT such as 127.0.0.1:8080, found {address!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(options: ConsoleOptions) -> tuple[str, int, str]:
    """Validate before anything starts: (host, port, token). Raises UsageError."""
    host, port = parse_address(options.address)
    if not is_loopback(host) and not options.token_file:
        raise UsageError(
            f"--address {options.address}: refusing to listen beyond this machine without --token-file",
            "Keep the default 127.0.0.1, or give a --token-file whose token every client must send.",
        )
    for url in options.dns_status_urls:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--dns-status-url: expected an http(s) URL, found {url!r}")
    token = read_token_file(options.token_file) if options.token_file else new_token()
    return host, port, token


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kumo")
    except PackageNotFoundError:
        return "0"


async def serve(options: ConsoleOptions, announce: Callable[[str], None]) -> None:
    """Serve until cancelled; ``announce`` gets the URL (with the token) once the port is bound."""
    host, port, token = check_options(options)
    client = await connect(options.kubeconfig, options.context)
    model = ReadModel(
        client,
        dns_urls=options.dns_status_urls,
        dns_pods=options.dns_from_pods,
        metrics_interval=options.metrics_interval,
    )
    console = Console(model, token, version=_version())
    server = uvicorn.Server(
        uvicorn.Config(
            console.app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
        )
    )
    await model.start()
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise UsageError(f"--address {options.address}: the console could not listen there")
            await asyncio.sleep(0.02)
        bound = port
        for srv in server.servers:
            for sock in srv.sockets:
                bound = int(sock.getsockname()[1])
        shown = f"[{host}]" if ":" in host else host
        announce(f"http://{shown}:{bound}/?token={token}")
        await task
    finally:
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 5)
        await model.stop()
        await client.close()
