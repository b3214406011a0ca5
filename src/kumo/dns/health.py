"""/metrics, /healthz and /status.json (a read-only records view), served next to the controller loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kumo.dns.statusview import status_view
from kumo.errors import UsageError

if TYPE_CHECKING:
    from kumo.dns.controller import Controller


def in_cluster() -> bool:
    """Running in a Pod: the kubelet sets KUBERNETES_SERVICE_HOST in every container."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def parse_address(address: str, flag: str = "--metrics-address") -> tuple[str, int]:
    """``:7979``, ``0.0.0.0:7979`` or ``127.0.0.1:0`` (external-dns's --metrics-address form).

    Without a host, external-dns binds every interface; kumo does so only inside a cluster (where a
    NetworkPolicy guards the port, and the rendered Deployment passes the Pod's own address anyway)
    and binds 127.0.0.1 elsewhere, so a controller run on a laptop is not reachable from the network.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"{flag}: expected [host]:port such as :7979, found {address!r}")
    return host or ("0.0.0.0" if in_cluster() else "127.0.0.1"), int(port)


def make_app(controller: Controller) -> Starlette:
    async def metrics(_: Request) -> Response:
        return Response(controller.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def healthz(_: Request) -> Response:
        ok, detail = controller.healthy()
        return JSONResponse(
            {"ok": ok, "detail": detail, **controller.status()}, status_code=200 if ok else 503
        )

    async def status(_: Request) -> Response:
        return JSONResponse(status_view(controller))

    return Starlette(
        routes=[Route("/metrics", metrics), Route("/healthz", healthz), Route("/status.json", status)]
    )


class HealthServer:
    def __init__(self, controller: Controller, address: str) -> None:
        host, port = parse_address(address)
        self.server = uvicorn.Server(
            uvicorn.Config(make_app(controller), host=host, port=port, log_level="warning", lifespan="off")
        )
        self._task: asyncio.Task[None] | None = None
        self.port = port

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise UsageError("the metrics server stopped at start")
            await asyncio.sleep(0.02)
        for server in self.server.servers:
            for sock in server.sockets:
                self.port = int(sock.getsockname()[1])

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)
