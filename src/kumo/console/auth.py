"""Token auth and security headers, as one ASGI middleware in front of every route.

The token is accepted as ``Authorization: Bearer TOKEN``, as ``?token=TOKEN`` (a page then sets an
HttpOnly, SameSite=Strict cookie and redirects to the same URL without the token, so it leaves the
address bar and the history), or from that cookie. Only ``/healthz`` is open.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumo.errors import UsageError

COOKIE = "kumo_console_token"
#: What a token may hold: it travels in a header, a query string and a cookie unquoted.
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
OPEN_PATHS = frozenset({"/healthz"})

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_token_file(path: str | Path) -> str:
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise UsageError(f"--token-file {path}: cannot read it: {exc.strerror or exc}") from None
    if not _TOKEN.fullmatch(token):
        raise UsageError(
            f"--token-file {path}: expected one token of 16 or more characters from A-Za-z0-9._~+/=-",
            "Create one with: python -c 'import secrets; print(secrets.token_urlsafe(32))' > token",
        )
    return token


class TokenAuth:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _matches(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(str(candidate).encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        path = str(scope.get("path") or "")
        if path in OPEN_PATHS:
            await self.app(scope, receive, send_with_headers)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        query_token = next((v for k, v in query if k == "token"), None)
        authorization = headers.get("authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no credential
            cookie = SimpleCookie()
        from_cookie = cookie[COOKIE].value if COOKIE in cookie else None

        if query_token is not None:
            if not self._matches(query_token):
                await _unauthorized(send_with_headers, path)
                return
            if scope.get("method") == "GET" and not path.startswith("/api/"):
                rest = urlencode([(k, v) for k, v in query if k != "token"])
                location = path + (f"?{rest}" if rest else "")
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 303,
                        "headers": [
                            (b"location", location.encode()),
                            (
                                b"set-cookie",
                                f"{COOKIE}={self.token.decode()}; HttpOnly; SameSite=Strict; Path=/".encode(),
                            ),
                            (b"content-length", b"0"),
                        ],
                    }
                )
                await send_with_headers({"type": "http.response.body", "body": b""})
                return
        elif not (self._matches(bearer) or self._matches(from_cookie)):
            await _unauthorized(send_with_headers, path)
            return
        await self.app(scope, receive, send_with_headers)


async def _unauthorized(send: Send, path: str) -> None:
    if path.startswith("/api/"):
        body = json.dumps({"error": "a valid token is needed (Authorization: Bearer TOKEN)"}).encode()
        content_type = b"application/json"
    else:
        body = (
            b"<!doctype html><html lang=en><meta charset=utf-8><title>401 Unauthorized</title>"
            b"<h1>401 Unauthorized</h1><p>Open the console with the URL that <code>kumo console</code> "
            b"printed (it carries the token).</p></html>"
        )
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="kumo console"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
