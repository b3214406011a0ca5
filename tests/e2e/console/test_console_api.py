"""The console's HTTP surface without a browser: auth on every route, security headers, no writes,
the refusal to listen beyond loopback without a token file, and the JSON API against its OpenAPI
document (a Hypothesis property test: any path and query the document allows gets a response
that its schema describes)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.console.conftest import KUMO, ConsoleRun

PROTECTED = [
    "/",
    "/apps/hello/hello",
    "/nodes",
    "/dns",
    "/api/apps",
    "/api/apps/hello/hello",
    "/api/nodes",
    "/api/dns",
    "/api/openapi.json",
    "/api/stream",
    "/static/console.js",
]


@pytest.mark.parametrize("path", PROTECTED)
def test_401_without_or_with_a_bad_token(console: ConsoleRun, path: str) -> None:
    bad = ("y" if console.token[0] == "x" else "x") + console.token[1:]
    attempts: list[dict[str, Any]] = [
        {},
        {"headers": {"Authorization": f"Bearer {bad}"}},
        {"headers": {"Authorization": f"Basic {console.token}"}},
        {"headers": {"Cookie": f"kumo_console_token={bad}"}},
        {"params": {"token": bad}},
        {"params": {"token": ""}},
    ]
    for attempt in attempts:
        response = console.http.get(path, **attempt)
        assert response.status_code == 401, (path, attempt, response.status_code)
        assert response.headers["x-content-type-options"] == "nosniff"
    # and the good token opens it (the stream only answers its headers here)
    with console.http.stream("GET", path, headers={"Authorization": f"Bearer {console.token}"}) as response:
        assert response.status_code == 200, path


def test_cookie_from_the_printed_url_and_security_headers(console: ConsoleRun) -> None:
    first = httpx.get(console.url, timeout=5)
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = httpx.get(console.base + "/", cookies=first.cookies, timeout=5)
    assert page.status_code == 200 and "<main" in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "default-src 'none'" in csp
    head = page.text.split("<body")[0]
    assert '<script src="/static/console.js"' in head
    assert "http:" not in head and "https:" not in head and "//" not in head  # no CDN: all from here
    assert httpx.get(console.base + "/healthz", timeout=5).status_code == 200  # open, for probes


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_write_endpoints(console: ConsoleRun, method: str) -> None:
    for path in ["/", "/api/apps", "/api/apps/hello/hello", "/api/stream"]:
        response = console.http.request(method, path, headers={"Authorization": f"Bearer {console.token}"})
        assert response.status_code == 405, (method, path)


def test_refuses_non_loopback_without_token_file(console: ConsoleRun) -> None:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(
        [KUMO, "console", "--kubeconfig", console.kubeconfig, "--address", "0.0.0.0:0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "--token-file" in result.stderr and "Traceback" not in result.stderr


# -- the API against its OpenAPI document ------------------------------------------------------


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    root = {"components": document["components"], **schema}
    return jsonschema.Draft202012Validator(root)


def _segment() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["hello", "default", "kube-system", "web", "nope"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=20).filter(
            lambda s: s not in (".", "..")  # not names: URL syntax that clients resolve away
        ),
    )


def _query_value() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(-2, 1200).map(str), st.sampled_from(["", "x", "1", "2"]))


def test_api_matches_its_openapi_document(console: ConsoleRun) -> None:
    document = console.api("/api/openapi.json")
    assert document["openapi"].startswith("3.")
    operations = [(path, op) for path, item in document["paths"].items() for op in item.values()]
    assert {op["operationId"] for _, op in operations} >= {"listApps", "getApp", "listNodes", "dnsRecords"}
    pods = [p["name"] for p in console.api("/api/apps/hello/hello")["pods"]]
    headers = {"Authorization": f"Bearer {console.token}"}
    seen: set[tuple[str, int]] = set()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path, op = data.draw(st.sampled_from(operations))
        url = path
        params: dict[str, str] = {}
        for param in op.get("parameters", []):
            if param["in"] == "path":
                if param["name"] == "pod":
                    value = data.draw(st.one_of(st.sampled_from(pods), _segment()))
                elif param["name"] in ("namespace", "release"):
                    value = data.draw(st.one_of(st.just("hello"), _segment()))
                else:
                    value = data.draw(_segment())
                url = url.replace("{" + param["name"] + "}", value)
            elif param["required"] or data.draw(st.booleans()):
                params[param["name"]] = data.draw(_query_value())
        response = console.http.get(url, params=params, headers=headers)
        described = op["responses"].get(str(response.status_code))
        assert described is not None, (url, params, response.status_code, response.text[:300])
        schema = described["content"]["application/json"]["schema"]
        errors = list(_validator(document, schema).iter_errors(response.json()))
        assert not errors, (url, params, [e.message for e in errors[:3]])
        seen.add((op["operationId"], response.status_code))

    check()
    # The property ran on real answers, not only on 404s.
    assert {
        ("listApps", 200),
        ("getApp", 200),
        ("getApp", 404),
        ("podLog", 200),
        ("diffRevisions", 400),
    } <= seen
