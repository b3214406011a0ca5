"""For every example, the DNS records ``kumo plan`` predicts are the records the controller writes.

The example's objects go to the emulator (which gives them load balancer addresses of the kind the
example's cloud gives); the controller publishes them to Route 53 on moto (route53 examples) or to
the in-memory provider (the others); the records it wrote are compared with the plan's: names,
types, ALIAS or not, and the TXT ownership records with their content.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import boto3
import pytest

from kumo.dns.controller import ControllerConfig
from kumo.dns.endpoint import RECORD_TXT, Endpoint
from kumo.dns.filters import DomainFilter
from kumo.dns.providers.base import Provider
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.providers.route53 import Route53Provider
from kumo.dns.runner import DnsRunner, RunOptions
from kumo.dns.sources import SourceConfig
from kumo.kube import connect
from kumo.plan import expected_records
from kumo.render import render_app
from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.simulate import simulation
from kumo.spec import load_spec
from kumo.spec.model import dns_sources
from tests.integration.dns.conftest import Moto

pytestmark = pytest.mark.integration

EXAMPLES = sorted(
    p.parent.name for p in (Path(__file__).resolve().parents[3] / "examples").glob("*/kumo.yaml")
)
PUBLISHED = {"Namespace", "Service", "Ingress", "Gateway", "HTTPRoute"}

Key = tuple[str, str, str]


def _key(ep: Endpoint) -> Key:
    if ep.record_type == RECORD_TXT:
        return ep.dns_name, RECORD_TXT, ep.targets[0]
    return ep.dns_name, ep.record_type, "alias" if ep.is_alias else ""


@pytest.mark.parametrize("example", EXAMPLES)
async def test_plan_predicts_what_the_controller_writes(example: str, tmp_path: Path, aws: Moto) -> None:
    spec = load_spec(Path(__file__).resolve().parents[3] / "examples" / example / "kumo.yaml")
    assert spec.dns is not None
    zone = spec.dns.zone
    predicted = {
        (r.name, r.type, r.target if r.type == RECORD_TXT else ("alias" if r.alias else ""))
        for r in expected_records(spec)
    }
    assert predicted
    aws_cloud = spec.target.cloud == "aws"
    sim = {"lb_delay": 0.05, "gateways": True, "lb_mode": "aws" if aws_cloud else "generic"}
    if spec.target.region and aws_cloud:
        sim["region"] = spec.target.region
    provider: Provider
    if spec.dns.provider == "route53":
        boto3.client("route53").create_hosted_zone(Name=zone, CallerReference=example)
        provider = Route53Provider(DomainFilter.of([zone]), rate_limit=0)
    else:
        provider = InMemoryProvider(zones=[zone])
    with KubeAPI(kubeconfig=tmp_path / "kubeconfig", seed=0, controllers=simulation(**sim)) as api:
        kube = await connect(str(api.kubeconfig))
        try:
            for obj in render_app(spec):
                if obj["kind"] in PUBLISHED:
                    await kube.create(obj)
        finally:
            await kube.close()
        runner = DnsRunner(
            provider,
            RunOptions(
                sources=list(dns_sources(spec)),
                config=ControllerConfig(
                    owner_id=spec.dns.owner_id,
                    source=SourceConfig(domain_filter=DomainFilter.of([zone])),
                    domain_filter=DomainFilter.of([zone]),
                ),
                kubeconfig=str(api.kubeconfig),
                interval=0.5,
                min_event_interval=0.02,
            ),
        )
        task = asyncio.create_task(runner.run())
        written: set[Key] = set()
        try:
            for _ in range(600):
                await asyncio.sleep(0.1)
                if task.done():
                    task.result()
                if runner.controller.settled() and runner.controller.provider_loaded:
                    written = {
                        _key(e) for e in await provider.records() if e.record_type not in ("NS", "SOA")
                    }
                    if len(written) >= len(predicted):
                        break
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await provider.close()
    assert written == predicted, f"plan: {sorted(predicted)}\ncontroller: {sorted(written)}"
