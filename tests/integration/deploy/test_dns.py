"""kumo up waits for the name, as published by kumo's own DNS controller (`kumo dns run`, provider local)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kumo.deploy.dnscheck import resolve

from .conftest import SpecFile, kumo
from .dnsrun import local_controller

pytestmark = pytest.mark.integration


@pytest.fixture
def dns_controller(kubeapi: Any, spec: SpecFile, tmp_path: Path) -> Iterator[str]:
    """The DNS controller, run locally from the spec (`kumo dns run -f`), serving the zone on 127.0.0.1;
    yields HOST:PORT. It leads through the add-on's Lease, which is how `kumo up` knows it is live."""
    args = ["-f", str(spec.path)]
    with local_controller(kubeapi.kubeconfig, tmp_path, args, wait_for_lease=True) as server:
        yield server


async def test_up_waits_for_the_name_and_down_lets_the_controller_remove_it(
    spec: SpecFile, kubeapi: Any, dns_controller: str, tmp_path: Path
) -> None:
    base = ["--kubeconfig", kubeapi.kubeconfig, "--dns-server", dns_controller]
    result = kumo("up", str(spec.path), *base, "--dns-timeout", "60", "--output", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    answers = out["dns"]["web.hello.sandbox.test"]
    assert answers["resolves"] is True, result.stderr
    assert answers["answers"][0].endswith(".elb.amazonaws.com")
    assert "web.hello.sandbox.test resolves to" in result.stderr
    status = json.loads(kumo("status", str(spec.path), *base, "--output", "json", check=True).stdout)
    assert status["dns"][0]["state"].startswith("resolves to ")
    kumo("down", str(spec.path), "--kubeconfig", kubeapi.kubeconfig, check=True)
    # The controller notices the Service is gone and deletes the record it owns.
    for _ in range(60):
        if not await resolve("web.hello.sandbox.test", dns_controller):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the record was not removed after kumo down")
    # The controller logs each record it writes, at info level.
    logged = (tmp_path / "dns.log").read_text()
    assert 'level=info msg="created web.hello.sandbox.test CNAME' in logged, logged
    assert 'level=info msg="deleted web.hello.sandbox.test CNAME' in logged, logged
