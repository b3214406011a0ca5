"""The console's HTTP surface: HTML pages, the JSON API, the SSE stream, /healthz. GET only.

Pages are rendered on the server from the read model and are complete without JavaScript; the
small script in static/ only listens to /api/stream and swaps the page's live regions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kumo.console import views
from kumo.console.auth import TokenAuth
from kumo.console.model import ReadModel
from kumo.console.schema import PodLog, RevisionDiff, openapi_document
from kumo.errors import KumoError
from kumo.kube import ApiError

STATIC = Path(__file__).parent / "static"
#: SSE comment sent when nothing changed for this long, so proxies keep the stream open.
KEEPALIVE = 15.0
LOG_CACHE_SECONDS = 2.0


def _json(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _age(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _bytes(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value} B"


def _sparkline(values: list[float] | list[int], width: int = 80, height: int = 18) -> str:
    """Points of an SVG polyline for ``values`` (oldest first), scaled to the box."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values)
    )


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("kumo.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["age"] = _age
    env.filters["bytes"] = _bytes
    env.filters["sparkline"] = _sparkline
    return env


class Console:
    """The Starlette app over one read model, behind token auth."""

    def __init__(self, model: ReadModel, token: str, *, version: str = "0") -> None:
        self.model = model
        self.token = token
        self.version = version
        self.templates = _templates()
        self._logs: dict[tuple[str, str, int], tuple[float, list[str]]] = {}
        self._log_lock = asyncio.Lock()
        get = ["GET"]
        routes = [
            Route("/healthz", self.healthz, methods=get),
            Route("/", self.page_overview, methods=get),
            Route("/apps/{namespace}/{release}", self.page_app, methods=get),
            Route("/nodes", self.page_nodes, methods=get),
            Route("/dns", self.page_dns, methods=get),
            Route("/api/openapi.json", self.api_openapi, methods=get),
            Route("/api/apps", self.api_apps, methods=get),
            Route("/api/apps/{namespace}/{release}", self.api_app, methods=get),
            Route("/api/apps/{namespace}/{release}/diff", self.api_diff, methods=get),
            Route("/api/apps/{namespace}/{release}/pods/{pod}/log", self.api_log, methods=get),
            Route("/api/nodes", self.api_nodes, methods=get),
            Route("/api/dns", self.api_dns, methods=get),
            Route("/api/stream", self.api_stream, methods=get),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
        self.starlette = Starlette(
            routes=routes, exception_handlers={404: self._not_found, 405: self._not_allowed}
        )
        self.app = TokenAuth(self.starlette, token)

    async def _not_found(self, request: Request, _exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return _problem(404, f"no such API path: {request.url.path}")
        return self._page("missing.html", status=404, namespace="", release=request.url.path)

    async def _not_allowed(self, request: Request, _exc: Exception) -> Response:
        return JSONResponse(
            {"error": f"{request.method} is not allowed: the console only reads"},
            status_code=405,
            headers={"Allow": "GET, HEAD"},
        )

    # -- health ----------------------------------------------------------------------------

    async def healthz(self, _: Request) -> Response:
        synced = self.model.synced
        body = {
            "ok": synced,
            "synced": synced,
            "version": self.model.version,
            # Every request the console has sent to the API server (watches included): what a
            # browser must never raise.
            "api_requests": self.model.client.request_count,
            "subscribers": self.model.subscriber_count,
        }
        return JSONResponse(body, status_code=200 if synced else 503)

    # -- pages -----------------------------------------------------------------------------

    def _page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            synced=self.model.synced, version=self.model.version, **context
        )
        return HTMLResponse(html, status_code=status)

    def _shared_page(self, key: Any, template: str, **context: Any) -> HTMLResponse:
        """A page without per-request input, rendered once per model version for every browser."""
        html = self.model.cached(
            ("html", key),
            lambda: self.templates.get_template(template).render(
                synced=self.model.synced, version=self.model.version, **context
            ),
        )
        return HTMLResponse(html)

    async def page_overview(self, _: Request) -> Response:
        return self._shared_page(
            "overview", "overview.html", apps=views.overview(self.model), dns=views.dns_view(self.model)
        )

    async def page_app(self, request: Request) -> Response:
        key = (request.path_params["namespace"], request.path_params["release"])
        detail = views.app_detail(self.model, key)
        if detail is None:
            return self._page("missing.html", status=404, namespace=key[0], release=key[1])
        diff: list[str] | None = None
        diff_error = None
        old, new = request.query_params.get("from"), request.query_params.get("to")
        if old or new:
            if not (old or "").isdigit() or not (new or "").isdigit():
                diff_error = "choose two revisions"
            else:
                diff = views.revision_diff(self.model, key, int(old or 0), int(new or 0))
                if diff is None:
                    diff_error = "no such revision"
        log_pod = request.query_params.get("pod")
        if not request.query_params:
            return self._shared_page(("app", key), "app.html", app=detail, diff=None, log_lines=None)
        log_lines: list[str] | None = None
        log_error = None
        if log_pod:
            if log_pod not in {p.name for p in detail.pods}:
                log_error = f"{log_pod} is not a Pod of this release"
            else:
                try:
                    log_lines = await self._log(key[0], log_pod, 50)
                except (ApiError, KumoError) as exc:
                    log_error = str(exc)
        return self._page(
            "app.html",
            app=detail,
            diff=diff,
            diff_from=old,
            diff_to=new,
            diff_error=diff_error,
            log_pod=log_pod,
            log_lines=log_lines,
            log_error=log_error,
        )

    async def page_nodes(self, _: Request) -> Response:
        return self._shared_page("nodes", "nodes.html", nodes=views.nodes(self.model).nodes)

    async def page_dns(self, _: Request) -> Response:
        return self._shared_page("dns", "dns.html", dns=views.dns_view(self.model))

    # -- JSON API --------------------------------------------------------------------------

    async def api_openapi(self, _: Request) -> Response:
        return JSONResponse(openapi_document(self.version))

    async def api_apps(self, _: Request) -> Response:
        from kumo.console.schema import AppList

        return _json(AppList(synced=self.model.synced, apps=views.overview(self.model)))

    async def api_app(self, request: Request) -> Response:
        key = (request.path_params["namespace"], request.path_params["release"])
        detail = views.app_detail(self.model, key)
        if detail is None:
            return _problem(404, f"no kumo release {key[1]} in namespace {key[0]}")
        return _json(detail)

    async def api_diff(self, request: Request) -> Response:
        key = (request.path_params["namespace"], request.path_params["release"])
        old, new = request.query_params.get("from", ""), request.query_params.get("to", "")
        if not old.isdigit() or not new.isdigit():
            return _problem(400, "from and to must be revision numbers")
        diff = views.revision_diff(self.model, key, int(old), int(new))
        if diff is None:
            return _problem(404, f"release {key[0]}/{key[1]} has no revision {old} or {new}")
        return _json(
            RevisionDiff(
                namespace=key[0], release=key[1], from_revision=int(old), to_revision=int(new), diff=diff
            )
        )

    async def api_log(self, request: Request) -> Response:
        namespace, release, pod = (request.path_params[k] for k in ("namespace", "release", "pod"))
        tail = request.query_params.get("tail", "50")
        if not tail.isdigit() or not 1 <= int(tail) <= 1000:
            return _problem(400, "tail must be a number from 1 to 1000")
        if pod not in views.release_pods(self.model, (namespace, release)):
            return _problem(404, f"{pod} is not a Pod of release {namespace}/{release}")
        try:
            lines = await self._log(namespace, pod, int(tail))
        except (ApiError, KumoError) as exc:
            return _problem(502, str(exc))
        return _json(PodLog(namespace=namespace, pod=pod, container=None, lines=lines))

    async def _log(self, namespace: str, pod: str, tail: int) -> list[str]:
        """A Pod's last lines; one API call per Pod per 2 s however many browsers ask."""
        key = (namespace, pod, tail)
        async with self._log_lock:
            hit = self._logs.get(key)
            if hit is not None and time.monotonic() - hit[0] < LOG_CACHE_SECONDS:
                return hit[1]
            text = await self.model.client.pod_log(namespace, pod, tail_lines=tail)
            lines = text.splitlines()[-tail:]
            if len(self._logs) > 256:
                self._logs.clear()
            self._logs[key] = (time.monotonic(), lines)
            return lines

    async def api_nodes(self, _: Request) -> Response:
        return _json(views.nodes(self.model))

    async def api_dns(self, _: Request) -> Response:
        return _json(views.dns_view(self.model))

    async def api_stream(self, request: Request) -> Response:
        """Server-sent events: one ``change`` event per published model version."""

        async def events() -> AsyncIterator[str]:
            async with self.model.subscribe() as queue:
                yield f"retry: 1000\nevent: hello\ndata: {json.dumps({'version': self.model.version})}\n\n"
                while True:
                    message: dict[str, Any] | None = None
                    with contextlib.suppress(TimeoutError):
                        message = await asyncio.wait_for(queue.get(), KEEPALIVE)
                    if await request.is_disconnected():
                        return
                    if message is None:
                        yield ": keepalive\n\n"
                    else:
                        yield f"event: change\nid: {message['version']}\ndata: {json.dumps(message)}\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )
