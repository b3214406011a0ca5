"""Build the offline plan from a spec: nothing here talks to a cloud or a cluster."""

from __future__ import annotations

from kumo.plan.aws import aws_resources
from kumo.plan.model import CloudResource, DnsPlan, KubeObject, Plan
from kumo.plan.records import expected_records
from kumo.plan.requirements import requirements
from kumo.render import CloudFacts, find_placeholders, render_addons, render_app
from kumo.spec import Spec


def build_plan(spec: Spec, env: str | None = None, facts: CloudFacts | None = None) -> Plan:
    addons = render_addons(spec, env, facts)
    app = render_app(spec, env, facts)
    objects = [_ref(o, "addon") for o in addons] + [_ref(o, "app") for o in app]
    cloud: list[CloudResource] = []
    if spec.target.cloud == "aws":
        cloud = aws_resources(spec, facts.account_id if facts else None)
    dns = None
    if spec.dns is not None:
        dns = DnsPlan(spec.dns.zone, spec.dns.provider, spec.dns.owner_id, expected_records(spec, env))
    return Plan(
        app=spec.app,
        env=env,
        cloud=spec.target.cloud,
        region=spec.target.region,
        namespace=spec.default_namespace,
        cloud_resources=cloud,
        objects=objects,
        dns=dns,
        pending=find_placeholders(addons + app),
        requires=requirements(spec),
    )


def _ref(obj: dict[str, object], role: str) -> KubeObject:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return KubeObject(
        api_version=str(obj["apiVersion"]),
        kind=str(obj["kind"]),
        name=str(meta["name"]),
        namespace=meta.get("namespace"),
        role="addon" if role == "addon" else "app",
    )
