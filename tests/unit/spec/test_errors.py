# ruff: noqa: E501  (a table of inputs and messages reads best one case per line)
"""Bad kumo.yaml files: each gives ``path:line:col: field.path: expected ..., found ...``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kumo.errors import SpecError, UsageError
from kumo.spec import load_spec
from tests.unit.spec.conftest import BASE

ARN_US = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a"
ARN_TOKYO = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0f1e2d3c-4b5a"
HOST = "      hostname: www.example.com"


def _gcp(text: str) -> str:
    return text.replace("cloud: aws", "cloud: gcp").replace(
        "region: ap-northeast-1", "region: asia-northeast1"
    )


# (id, file text, expected first problem without the "<path>:" prefix)
CASES: list[tuple[str, str, str]] = [
    (
        "wrong-type",
        BASE.replace("replicas: 2", "replicas: two"),
        "10:15: services[0].replicas: expected an integer, found 'two'",
    ),
    (
        "unknown-key",
        BASE.replace("replicas: 2", "replics: 2"),
        "10:5: services[0].replics: unknown key 'replics'; did you mean 'replicas'?",
    ),
    (
        "unknown-top-key",
        BASE.replace("services:", "servics:"),
        "7:1: servics: unknown key 'servics'; did you mean 'services'?",
    ),
    (
        "invalid-hostname",
        BASE.replace("hostname: www.example.com", "hostname: -bad-.example.com"),
        "13:17: services[0].endpoint.hostname: expected a DNS name such as www.example.com, "
        "found '-bad-.example.com'",
    ),
    (
        "hostname-outside-zone",
        BASE.replace("hostname: www.example.com", "hostname: www.example.org"),
        "13:17: services[0].endpoint.hostname: expected a name inside dns.zone 'example.com', found 'www.example.org'",
    ),
    (
        "negative-replicas",
        BASE.replace("replicas: 2", "replicas: -1"),
        "10:15: services[0].replicas: expected a number >= 0, found -1",
    ),
    (
        "port-0",
        BASE.replace("port: 80", "port: 0"),
        "11:11: services[0].port: expected a number >= 1, found 0",
    ),
    (
        "port-70000",
        BASE.replace("port: 80", "port: 70000"),
        "11:11: services[0].port: expected a number <= 65535, found 70000",
    ),
    (
        "malformed-yaml",
        BASE.replace("  cloud: aws", "  cloud: [aws"),
        "4:9: invalid YAML: expected ',' or ']', but got ':'",
    ),
    (
        "tab-indented",
        BASE.replace("  region: ap-northeast-1", "\tregion: ap-northeast-1"),
        "4:1: a tab is used for indentation; YAML allows only spaces",
    ),
    (
        "duplicate-key",
        BASE.replace("    port: 80", "    port: 80\n    image: nginx:1.26"),
        '12:5: duplicate key "image"; each key may appear once',
    ),
    (
        "invalid-image",
        BASE.replace("image: nginx:1.27", "image: Nginx:Latest!"),
        "9:12: services[0].image: expected an image reference such as nginx:1.27 or "
        "ghcr.io/org/app@sha256:..., found 'Nginx:Latest!'",
    ),
    (
        "cert-arn-other-region",
        BASE.replace(HOST, f"{HOST}\n      tls:\n        certificateArn: {ARN_US}"),
        "15:25: services[0].endpoint.tls.certificateArn: expected an ACM certificate in the load balancer's "
        "region ap-northeast-1, found one in us-east-1",
    ),
    (
        "bad-region",
        BASE.replace("region: ap-northeast-1", "region: tokyo"),
        "4:11: target.region: expected a region of aws such as ap-northeast-1, found 'tokyo'",
    ),
    (
        "missing-region",
        BASE.replace("  region: ap-northeast-1\n", ""),
        "3:3: target: region is required for cloud 'aws', found none",
    ),
    (
        "bad-k8s-version",
        BASE + "cluster:\n  name: shop\n  version: '1.7'\n",
        "16:12: cluster.version: expected a Kubernetes minor version such as '1.33', found '1.7'",
    ),
    (
        "min-greater-than-max",
        BASE + "cluster:\n  name: shop\n  nodes:\n    min: 3\n    max: 2\n    desired: 2\n",
        "17:5: cluster.nodes: expected min <= desired <= max, found min=3 desired=2 max=2",
    ),
    (
        "duplicate-service",
        BASE + "  - name: web\n    image: nginx:1.27\n",
        "14:11: services[1].name: service names must be unique, found 'web' twice",
    ),
    (
        "bad-env-var-name",
        BASE.replace("    port: 80", "    port: 80\n    env:\n      1BAD: x"),
        "13:7: services[0].env.1BAD: expected an environment variable name like LOG_LEVEL, found '1BAD'",
    ),
    (
        "provider-the-controller-lacks",
        BASE.replace("  zone: example.com", "  zone: example.com\n  provider: clouddns"),
        "7:13: dns.provider: the DNS controller writes to route53, rfc2136, local, inmemory, webhook; found 'clouddns' (reach it through an external-dns webhook provider with provider: webhook, or set dns.controller.enabled: false)",
    ),
    (
        "rfc2136-without-server",
        BASE.replace("  zone: example.com", "  zone: example.com\n  provider: rfc2136"),
        "6:3: dns: dns.rfc2136 is required for provider rfc2136, found none",
    ),
    (
        "webhook-settings-for-route53",
        BASE.replace("  zone: example.com", "  zone: example.com\n  webhook:\n    url: http://hook:8888"),
        "8:5: dns.webhook: dns.webhook applies to provider webhook, found 'route53'",
    ),
    (
        "webhook-url-without-scheme",
        BASE.replace(
            "  zone: example.com", "  zone: example.com\n  provider: webhook\n  webhook:\n    url: hook:8888"
        ),
        "9:10: dns.webhook.url: expected an http(s) URL such as http://dns-webhook.kumo-system.svc:8888, found 'hook:8888'",
    ),
    (
        "control-character",
        BASE.replace("cloud: aws", "cloud: a\x1bws"),
        "3:11: invalid YAML: character 0x001b is not allowed",
    ),
    (
        "environment-services-null",
        BASE + "environments:\n  staging:\n    services:\n",
        "16:5: environments.staging.services: expected a list, found None",
    ),
    (
        "key-that-looks-like-a-pydantic-tag",
        BASE + '"x[key]": 1\n',
        "14:1: x[key]: unknown key 'x[key]'; expected one of apiVersion, app, namespace, target, cluster, dns, services, preview, environments",
    ),
    (
        "wildcard-with-gke-managed-certificate",
        _gcp(BASE).replace(HOST, "      hostname: '*.example.com'\n      expose: ingress"),
        "13:17: services[0].endpoint.hostname: GKE managed certificates do not cover wildcard names; expected a plain name, or tls certificateName/secretName, found '*.example.com'",
    ),
    (
        "bad-namespace",
        BASE.replace("app: shop", "app: shop\nnamespace: Shop_NS"),
        "2:12: namespace: expected a namespace name (a DNS label of at most 63 characters), found 'Shop_NS'",
    ),
    (
        "bad-quantity",
        BASE.replace("    port: 80", "    port: 80\n    resources:\n      requests:\n        cpu: lots"),
        "14:9: services[0].resources.requests: cpu: expected a quantity such as 100m or 128Mi, found 'lots'",
    ),
    (
        "unknown-cloud",
        BASE.replace("cloud: aws", "cloud: digitalocean"),
        "3:10: target.cloud: expected 'aws', 'gcp', 'azure' or 'generic', found 'digitalocean'",
    ),
    (
        "acm-arn-on-gcp",
        _gcp(BASE).replace(
            HOST, f"{HOST}\n      expose: ingress\n      tls:\n        certificateArn: {ARN_TOKYO}"
        ),
        "16:25: services[0].endpoint.tls.certificateArn: an ACM certificate needs target.cloud aws",
    ),
    (
        "unknown-environment-service",
        BASE + "environments:\n  staging:\n    services:\n      wbe:\n        replicas: 1\n",
        "17:7: environments.staging.services.wbe: unknown service 'wbe'; did you mean 'web'?",
    ),
    (
        "environment-bad-value",
        BASE + "environments:\n  staging:\n    services:\n      web:\n        replicas: -3\n",
        "18:19: environments.staging.services.web.replicas: expected a number >= 0, found -3",
    ),
    (
        "environment-unknown-key",
        BASE + "environments:\n  prod:\n    servces: {}\n",
        "16:5: environments.prod.servces: unknown key 'servces'; did you mean 'services'?",
    ),
    (
        "secret-on-aws",
        BASE.replace(HOST, f"{HOST}\n      tls:\n        secretName: web-tls"),
        "15:9: services[0].endpoint.tls: expected tls auto, off or certificateArn on aws "
        "(the load balancer terminates TLS with an ACM certificate)",
    ),
    (
        "ingress-class-without-ingress",
        BASE.replace(HOST, f"{HOST}\n      ingressClass: nginx"),
        "14:21: services[0].endpoint.ingressClass: ingressClass needs expose ingress, found 'loadbalancer'",
    ),
    (
        "missing-image",
        BASE.replace("    image: nginx:1.27\n", ""),
        "8:5: services[0].image: required, but missing",
    ),
    ("not-a-mapping", "- app: shop\n", "1:1: expected a mapping with app, target and services, found a list"),
    (
        "ttl-0",
        BASE.replace(HOST, f"{HOST}\n      ttl: 0"),
        "14:12: services[0].endpoint.ttl: expected a number >= 1, found 0",
    ),
    (
        "https-without-tls",
        BASE.replace(
            HOST, f"{HOST}\n      tls: 'off'\n      ports:\n        - port: 443\n          protocol: https"
        ),
        "17:21: services[0].endpoint.ports[0].protocol: expected http or tcp because tls is off, found 'https'",
    ),
    (
        "bad-owner-id",
        BASE.replace("  zone: example.com", "  zone: example.com\n  ownerId: 'bad owner'"),
        "7:12: dns.ownerId: expected text matching ^[A-Za-z0-9][A-Za-z0-9._-]*$, found 'bad owner'",
    ),
    (
        "bad-tls-word",
        BASE.replace(HOST, f"{HOST}\n      tls: yes-please"),
        "14:12: services[0].endpoint.tls: expected 'auto' or 'off' or a certificate reference "
        "(certificateArn, secretName or certificateName), found 'yes-please'",
    ),
    (
        "tls-on-gcp-load-balancer",
        _gcp(BASE),
        "13:7: services[0].endpoint.tls: a load balancer Service on gcp cannot terminate TLS; expected tls: off, "
        "or expose ingress or gateway, found tls 'auto'",
    ),
    (
        "sources-miss-what-endpoints-need",
        BASE.replace("  zone: example.com", "  zone: example.com\n  controller:\n    sources: [ingress]"),
        "8:14: dns.controller.sources: the endpoints need sources service, found ingress",
    ),
    (
        "gateway-on-aws",
        BASE.replace(HOST, f"{HOST}\n      expose: gateway"),
        "14:15: services[0].endpoint.expose: expected loadbalancer or ingress on aws, found gateway",
    ),
    (
        "no-services",
        BASE.split("services:")[0] + "services: []\n",
        "7:1: services: expected at least 1 item(s), found 0",
    ),
    ("empty-file", "", "1:1: the file is empty; expected a mapping with app, target and services"),
    (
        "only-comments",
        "# nothing here\n\n",
        "1:1: the file is empty; expected a mapping with app, target and services",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_located(write: Callable[[str], Path], text: str, expected: str) -> None:
    path = write(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.problems[0] == f"{path}:{expected}"
    assert caught.value.exit_code == 2
    assert caught.value.hint and "kumo schema" in caught.value.hint


def test_at_least_twenty_distinct_bad_inputs() -> None:
    assert len({text for _, text, _ in CASES}) >= 20


def test_every_problem_is_reported_not_just_the_first(write: Callable[[str], Path]) -> None:
    path = write(BASE.replace("replicas: 2", "replicas: -1").replace("port: 80", "port: 0"))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.problems == [
        f"{path}:10:15: services[0].replicas: expected a number >= 0, found -1",
        f"{path}:11:11: services[0].port: expected a number >= 1, found 0",
    ]


def test_unknown_key_without_close_match_lists_the_choices(write: Callable[[str], Path]) -> None:
    path = write(BASE.replace("  zone: example.com", "  zone: example.com\n  colour: blue"))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    problem = caught.value.problems[0]
    assert problem.startswith(f"{path}:7:3: dns.colour: unknown key 'colour'; expected one of zone, provider")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_spec(tmp_path / "nope.yaml")
    assert caught.value.message == f"{tmp_path / 'nope.yaml'}: no such file"
    assert caught.value.exit_code == 2


def test_bad_environment_name_for_a_preview(write: Callable[[str], Path]) -> None:
    with pytest.raises(UsageError) as caught:
        load_spec(write(BASE), env="Feature_X")
    assert caught.value.message.startswith("--env 'Feature_X': expected an environment name")


def test_a_misspelled_required_key_is_reported_once(write: Callable[[str], Path]) -> None:
    path = write(BASE.replace("    image: nginx:1.27", "    imgae: nginx:1.27"))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.problems == [
        f"{path}:9:5: services[0].imgae: unknown key 'imgae'; did you mean 'image'?"
    ]
