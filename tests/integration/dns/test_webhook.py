"""The webhook protocol both ways, over real HTTP: kumo's client against kumo's server, and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.providers.webhook import MEDIA_TYPE, WebhookProvider, webhook_app
from kumo.errors import ProviderError
from tests.integration.dns.conftest import Bind, free_port, lb_service

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(app: object) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("the webhook server stopped before it started")
        if loop.time() > deadline:
            task.cancel()
            raise AssertionError("the webhook server did not start within 60s")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


def svc(name: str, host: str, ip: str) -> dict[str, object]:
    return lb_service(name, host, {"ip": ip})


async def test_protocol_shape() -> None:
    backend = InMemoryProvider(zones=["ex.com"])
    async with serving(webhook_app(backend)) as url, httpx.AsyncClient(base_url=url) as http:
        r = await http.get("/", headers={"Accept": MEDIA_TYPE})
        assert r.status_code == 200 and r.headers["content-type"] == MEDIA_TYPE
        assert r.json() == {"include": ["ex.com"], "exclude": []}
        ep = {"dnsName": "a.ex.com", "targets": ["10.0.0.1"], "recordType": "A", "recordTTL": 60}
        ps = [{"name": "p", "value": "v"}]
        body = {"create": [{**ep, "labels": {"owner": "x"}, "providerSpecific": ps}]}
        r = await http.post("/records", json=body, headers={"Content-Type": MEDIA_TYPE})
        assert r.status_code == 204
        records = (await http.get("/records")).json()
        assert records == [
            {"dnsName": "a.ex.com", "targets": ["10.0.0.1"], "recordType": "A", "recordTTL": 60,
             "providerSpecific": [{"name": "p", "value": "v"}]}
        ]  # fmt: skip
        # Go decodes field names case-insensitively; so do we
        r = await http.post("/records", json={"Delete": records})
        assert r.status_code == 204 and (await http.get("/records")).json() == []
        r = await http.post(
            "/adjustendpoints", json=[{"dnsName": "b.ex.com", "targets": ["x"], "recordType": "CNAME"}]
        )
        assert r.status_code == 200 and r.json()[0]["dnsName"] == "b.ex.com"
        assert (await http.post("/records", content=b"{not json")).status_code == 400
        bad = await http.post(
            "/records", json={"delete": [{"dnsName": "zz.ex.com", "targets": ["1.1.1.1"], "recordType": "A"}]}
        )
        assert bad.status_code == 500


async def test_controller_through_webhook() -> None:
    backend = InMemoryProvider(zones=["ex.com"])
    async with serving(webhook_app(backend)) as url:
        client = WebhookProvider(url)
        try:
            ctrl = Controller(client, ControllerConfig(owner_id="kumo"))
            for i in range(5):
                ctrl.on_object("Service", "ADDED", svc(f"s{i}", f"h{i}.ex.com", f"10.0.0.{i}"))
            ctrl.on_object("Service", "ADDED", svc("out", "h.other.org", "10.0.0.9"))  # outside the filter
            assert not (await ctrl.reconcile()).failed
            names = {k.dns_name for k in backend.store if k.record_type == "A"}
            assert names == {f"h{i}.ex.com" for i in range(5)}
            calls = client.calls
            for i in range(5):
                ctrl.on_object("Service", "RESYNC", svc(f"s{i}", f"h{i}.ex.com", f"10.0.0.{i}"))
            await ctrl.reconcile()
            assert client.calls == calls
            # a change the server rejects fails alone (bisected), the others apply
            ctrl.on_object("Service", "MODIFIED", svc("s1", "h1.ex.com", "10.1.1.1"))
            ctrl.on_object("Service", "MODIFIED", svc("s2", "h2.ex.com", "10.2.2.2"))
            backend.store.pop(
                next(k for k in backend.store if k.dns_name == "h2.ex.com")
            )  # drift: h2 vanished
            result = await ctrl.reconcile()
            assert list(result.failed) == ["h2.ex.com"]
            assert {e.targets for k, e in backend.store.items() if k.dns_name == "h1.ex.com"} == {
                ("10.1.1.1",)
            }
        finally:
            await client.close()


async def test_client_rejects_a_non_webhook_server() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(_: object) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    async with serving(Starlette(routes=[Route("/", hello)])) as url:
        client = WebhookProvider(url)
        try:
            with pytest.raises(ProviderError, match="media type"):
                await client.records()
        finally:
            await client.close()


@pytest.mark.parametrize("provider", ["local", "inmemory", "rfc2136"])
def test_cli_webhook_serve(provider: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Each provider served over the webhook protocol, as its docstring example shows (rfc2136 against
    BIND9); ``--provider inmemory`` and ``rfc2136`` once crashed before serving."""
    port = free_port()
    exe = Path(sys.executable).parent / "kumo"
    zone = "sandbox.test"
    if provider == "local":
        args = [f"--local-db={tmp_path / 'z.db'}", f"--local-zone={zone}", "--local-listen=127.0.0.1:0"]
    elif provider == "inmemory":
        args = [f"--inmemory-zone={zone}"]
    else:
        server: Bind = request.getfixturevalue("bind9")
        zone = server.zone
        args = [
            "--rfc2136-host=127.0.0.1", f"--rfc2136-port={server.port}", f"--rfc2136-zone={zone}",
            f"--rfc2136-tsig-keyname={server.key_name}", f"--rfc2136-tsig-secret={server.secret}",
            "--rfc2136-tsig-axfr",
        ]  # fmt: skip
    proc = subprocess.Popen(
        [str(exe), "dns", "webhook-serve", f"--provider={provider}", *args, f"--listen=127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # a cold start of the CLI on a loaded machine
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept": MEDIA_TYPE}, timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else "no output"
                    ) from None
                time.sleep(0.1)
        assert r.json() == {"include": [zone], "exclude": []}
        body = {"create": [{"dnsName": f"www.{zone}", "targets": ["10.0.0.1"], "recordType": "A"}]}
        url = f"http://127.0.0.1:{port}/records"
        assert httpx.post(url, json=body, timeout=30).status_code == 204
        assert f"www.{zone}" in [e["dnsName"] for e in httpx.get(url, timeout=30).json()]
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def test_cli_webhook_serve_refuses_a_webhook() -> None:
    exe = Path(sys.executable).parent / "kumo"
    bad = subprocess.run(
        [str(exe), "dns", "webhook-serve", "--provider=webhook"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "webhook-serve serves a real provider" in bad.stderr


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/records", {"create": [None]}),
        ("/records", {"create": [5]}),
        ("/records", {"updateOld": [None], "updateNew": [None]}),
        ("/records", {"delete": [{"dnsName": "a.ex.com", "recordType": "A", "targets": "1.1.1.1"}]}),
        ("/records", {"create": [{"dnsName": "a.ex.com", "recordType": "A", "recordTTL": "60"}]}),
        ("/records", []),
        ("/adjustendpoints", [None]),
        ("/adjustendpoints", {"create": []}),
    ],
)
async def test_item12_webhook_serve_answers_bad_changes_with_400(
    path: str, body: object, caplog: pytest.LogCaptureFixture
) -> None:
    backend = InMemoryProvider(zones=["ex.com"])
    transport = httpx.ASGITransport(app=webhook_app(backend), raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as http:
        response = await http.post(path, json=body, headers={"Content-Type": MEDIA_TYPE})
    assert response.status_code == 400, response.text
    assert response.text.startswith("bad "), response.text
    assert "Traceback" not in response.text + caplog.text
    assert await backend.records() == []
