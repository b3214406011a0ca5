"""Everything render produces is valid for Kubernetes 1.29 and 1.33, strictly (unknown fields fail).

Built-in kinds go through ``kubernetes_validate.validate(doc, version, strict=True)`` directly here;
custom resources, which it only warns about, through kumo's CRD schemas (``kumo.render.crds``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from kumo.render import render, validate_object, validate_objects
from kumo.render.crds import SCHEMAS
from kumo.spec import Spec, load_spec
from tests.unit.render.conftest import SpecFactory

VERSIONS = ("1.29.0", "1.33.0")
EXAMPLES = sorted(Path(__file__).parents[3].joinpath("examples").glob("*/kumo.yaml"))
ARN = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0f1e2d3c"
BOTH = "ports:\n  - {port: 443, protocol: https}\n  - {port: 80, protocol: http}\n"

# Every way each profile can expose a service.
MATRIX: dict[str, list[str]] = {
    "aws": [
        "",
        "internal: true\nttl: 30\n",
        "tls: 'off'\n",
        f"tls:\n  certificateArn: {ARN}\n" + BOTH,
        "loadBalancer: nlb\n",
        "loadBalancer: nlb\ninternal: true\ntls: 'off'\n",
        "expose: ingress\n",
        "expose: ingress\ninternal: true\n" + BOTH,
        "expose: ingress\ntls: 'off'\n",
    ],
    "gcp": [
        "tls: 'off'\n",
        "expose: ingress\n",
        "expose: ingress\n" + BOTH,
        "expose: ingress\ninternal: true\ntls:\n  secretName: web-tls\n",
        "expose: ingress\ntls:\n  certificateName: shop-cert\n",
        "expose: gateway\n",
        "expose: gateway\ninternal: true\n" + BOTH,
        "expose: gateway\ntls:\n  certificateName: shop-cert\n",
        "expose: gateway\ntls:\n  secretName: web-tls\n",
        "expose: gateway\ntls: 'off'\n",
    ],
    "azure": [
        "tls: 'off'\n",
        "tls: 'off'\ninternal: true\n",
        "expose: ingress\n",
        "expose: ingress\ntls:\n  certificateName: https://kv.vault.azure.net/certificates/web\n",
        "expose: ingress\ningressClass: azure-application-gateway\ntls:\n  certificateName: appgw\n" + BOTH,
        "expose: gateway\n" + BOTH,
        "expose: gateway\ntls: 'off'\n",
    ],
    "generic": [
        "tls: 'off'\n",
        "expose: ingress\n",
        "expose: ingress\ntls:\n  secretName: web-tls\n" + BOTH,
        "expose: ingress\ningressClass: traefik\ntls: 'off'\n",
        "expose: gateway\n",
        "expose: gateway\n" + BOTH,
        "expose: gateway\ngatewayClass: cilium\ntls:\n  secretName: web-tls\n",
        "expose: gateway\ntls: 'off'\n",
    ],
}
CASES = [(cloud, endpoint) for cloud, endpoints in MATRIX.items() for endpoint in endpoints]


def _strictly_valid(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if (obj["apiVersion"], obj["kind"]) in SCHEMAS:
            assert validate_object(obj) == [], name
            continue
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure message
                pytest.fail(f"{name} invalid for {version}: {'.'.join(map(str, exc.path))}: {exc.message}")


def _every_render(path: Path) -> list[Spec]:
    spec = load_spec(path)
    return [spec] + [load_spec(path, env=env) for env in [*spec.environments, "pr-1"]]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_renders_valid_objects(path: Path) -> None:
    objects: dict[str, dict[str, Any]] = {}
    for spec in _every_render(path):
        for obj in render(spec):
            objects[json.dumps(obj, sort_keys=True)] = obj
    _strictly_valid(list(objects.values()))


def test_examples_cover_every_profile() -> None:
    assert {load_spec(p).target.cloud for p in EXAMPLES} == {"aws", "gcp", "azure", "generic"}


def test_every_exposure_of_every_profile_renders_valid_objects(make_spec: SpecFactory) -> None:
    objects: dict[str, dict[str, Any]] = {}
    for cloud, endpoint in CASES:
        for obj in render(make_spec(cloud, endpoint)):
            objects[json.dumps(obj, sort_keys=True)] = obj
    seen_kinds = {o["kind"] for o in objects.values()}
    assert {
        "Gateway",
        "HTTPRoute",
        "Certificate",
        "ManagedCertificate",
        "Ingress",
        "NetworkPolicy",
    } <= seen_kinds
    _strictly_valid(list(objects.values()))


def test_the_validator_rejects_what_an_api_server_would() -> None:
    bad_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"tier": "front end"}},
        "spec": {"ports": [{"port": 80}], "loadBalancerAnnotations": {}},
    }
    problems = validate_objects([bad_service])
    assert "Service/shop/web: metadata.labels.tier: invalid label value 'front end'" in problems
    assert any("Kubernetes 1.29.0: spec: Additional properties are not allowed" in p for p in problems)
    assert any("Kubernetes 1.33.0" in p for p in problems)


def test_crd_objects_are_checked_by_kumos_schemas() -> None:
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"listeners": [{"name": "https", "port": 443, "protocol": "HTTPS"}]},
    }
    assert validate_object(gateway) == [
        "Gateway/shop/web: spec: 'gatewayClassName' is a required property",
        "Gateway/shop/web: spec.listeners[0].tls: required for protocol HTTPS",
    ]
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web-tls", "namespace": "shop"},
        "spec": {"dnsNames": ["www.example.com"], "issuerRef": {"name": "le"}},
    }
    assert validate_object(certificate) == [
        "Certificate/shop/web-tls: spec: 'secretName' is a required property"
    ]


def test_an_unknown_kind_is_a_problem_not_a_warning() -> None:
    problems = validate_object({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert len(problems) == 2 and all("kumo has no schema for it" in p for p in problems)


def test_duplicates_are_reported(make_spec: SpecFactory) -> None:
    objects = render(make_spec("aws"))
    assert validate_objects(objects + objects[:1]) == ["Namespace/kumo-system: rendered twice"]
