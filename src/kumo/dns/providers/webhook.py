"""The external-dns webhook protocol, both ways.

- ``WebhookProvider``: a client for any external-dns webhook provider (``--provider webhook
  --webhook-provider-url http://127.0.0.1:8888``).
- ``webhook_app(provider)``: serves one of kumo's providers to external-dns
  (``kumo dns webhook-serve --provider X``).

Protocol: media type ``application/external.dns.webhook+json;version=1``; ``GET /`` gives the domain
filter, ``GET /records`` the records, ``POST /records`` applies changes (204), ``POST /adjustendpoints``
adjusts desired endpoints.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kumo.dns.endpoint import Endpoint, from_json, to_json
from kumo.dns.filters import DomainFilter
from kumo.dns.plan import Changes
from kumo.dns.providers.base import ApplyResult, Provider, group_changes
from kumo.errors import ProviderError

log = logging.getLogger("kumo.dns.webhook")

MEDIA_TYPE = "application/external.dns.webhook+json;version=1"
_CHANGE_FIELDS = (
    ("create", "create"),
    ("updateOld", "update_old"),
    ("updateNew", "update_new"),
    ("delete", "delete"),
)


def changes_to_json(changes: Changes) -> dict[str, list[dict[str, object]]]:
    return {wire: [to_json(e) for e in getattr(changes, attr)] for wire, attr in _CHANGE_FIELDS}


def changes_from_json(data: Any) -> Changes:
    if not isinstance(data, dict):
        raise ValueError("expected an object with create, updateOld, updateNew and delete")
    lowered = {
        str(k).lower(): v for k, v in data.items()
    }  # Go's decoder matches field names case-insensitively
    out = Changes()
    for wire, attr in _CHANGE_FIELDS:
        items = lowered.get(wire.lower()) or []
        if not isinstance(items, list):
            raise ValueError(f"{wire}: expected a list of endpoints")
        getattr(out, attr).extend(from_json(item) for item in items)
    if len(out.update_old) != len(out.update_new):
        raise ValueError("updateOld and updateNew must have the same length")
    return out


def _filter_from_json(data: Any) -> DomainFilter:
    if not isinstance(data, dict):
        return DomainFilter()
    include = data.get("include") or data.get("filters") or []
    exclude = data.get("exclude") or []
    return DomainFilter.of([str(x) for x in include], [str(x) for x in exclude])


class WebhookProvider(Provider):
    name = "webhook"

    def __init__(
        self, url: str, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.url,
            timeout=timeout,
            headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE},
            transport=transport,
        )
        self._filter: DomainFilter | None = None

    async def _request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        self.calls += 1
        content = orjson.dumps(body) if body is not None else None
        try:
            return await self.http.request(method, path, content=content)
        except httpx.HTTPError as exc:
            raise ProviderError(f"webhook {method} {self.url}{path}: {exc}") from exc

    async def negotiate(self) -> DomainFilter:
        resp = await self._request("GET", "/")
        if resp.status_code != 200:
            raise ProviderError(f"webhook {self.url}: negotiation returned HTTP {resp.status_code}")
        ctype = resp.headers.get("content-type", "")
        if "external.dns.webhook+json" not in ctype:
            raise ProviderError(
                f"webhook {self.url}: expected media type {MEDIA_TYPE}, got {ctype!r}",
                hint="is --webhook-provider-url pointing at an external-dns webhook provider?",
            )
        self._filter = _filter_from_json(resp.json())
        return self._filter

    def domain_filter(self) -> DomainFilter:
        return self._filter or DomainFilter()

    async def records(self) -> list[Endpoint]:
        if self._filter is None:
            await self.negotiate()
        resp = await self._request("GET", "/records")
        if resp.status_code != 200:
            raise ProviderError(f"webhook GET /records: HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            return [from_json(item) for item in resp.json() or []]
        except (ValueError, TypeError) as exc:
            raise ProviderError(f"webhook GET /records: bad endpoint: {exc}") from exc

    async def adjust(self, endpoints: list[Endpoint]) -> list[Endpoint]:
        if not endpoints:
            return []
        resp = await self._request("POST", "/adjustendpoints", [to_json(e) for e in endpoints])
        if resp.status_code != 200:
            raise ProviderError(f"webhook POST /adjustendpoints: HTTP {resp.status_code}: {resp.text[:300]}")
        adjusted = [from_json(item) for item in resp.json() or []]
        # webhook providers may drop labels; the resource label decides conflicts, so restore it
        by_key = {e.key: e for e in endpoints}
        for ep in adjusted:
            src = by_key.get(ep.key)
            if src is not None:
                ep.labels = {**src.labels, **ep.labels}
        return adjusted

    async def _post(self, groups: list[tuple[str, Changes]]) -> ApplyResult:
        merged = Changes()
        for _, group in groups:
            merged.extend(group)
        resp = await self._request("POST", "/records", changes_to_json(merged))
        if resp.status_code in (200, 204):
            return ApplyResult()
        message = f"HTTP {resp.status_code}: {resp.text[:300]}"
        if len(groups) == 1:
            return ApplyResult({groups[0][0]: message})
        half = len(groups) // 2
        result = await self._post(groups[:half])
        result.merge(await self._post(groups[half:]))
        return result

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        groups = list(group_changes(changes).items())
        if not groups:
            return ApplyResult()
        try:
            return await self._post(groups)
        except ProviderError as exc:
            return ApplyResult({key: str(exc) for key, _ in groups})

    async def close(self) -> None:
        await self.http.aclose()


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type=MEDIA_TYPE, headers={"Vary": "Content-Type"}
    )


def webhook_app(provider: Provider) -> Starlette:
    """An external-dns webhook provider backed by one of kumo's providers."""

    async def negotiate(_: Request) -> Response:
        f = provider.domain_filter()
        return _json({"include": list(f.filters), "exclude": list(f.exclude)})

    async def records(request: Request) -> Response:
        if request.method == "GET":
            try:
                return _json([to_json(e) for e in await provider.records()])
            except Exception as exc:
                log.warning("records failed: %s", exc)
                return Response(str(exc), status_code=500)
        try:
            changes = changes_from_json(orjson.loads(await request.body()))
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return Response(f"bad change request: {exc}", status_code=400)
        result = await provider.apply_changes(changes)
        if result.failed:
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(result.failed.items()))
            return Response(f"some changes failed: {detail}", status_code=500)
        return Response(status_code=204)

    async def adjust(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            if not isinstance(body, list):
                raise ValueError("expected a list of endpoints")
            endpoints = [from_json(item) for item in body]
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return Response(f"bad endpoints: {exc}", status_code=400)
        return _json([to_json(e) for e in await provider.adjust(endpoints)])

    async def healthz(_: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/", negotiate, methods=["GET"]),
            Route("/records", records, methods=["GET", "POST"]),
            Route("/adjustendpoints", adjust, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
