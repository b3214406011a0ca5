# ruff: noqa: E501  (inline YAML documents)
"""Valid kumo.yaml files: defaults, environments, previews, retargeting, the JSON Schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from kumo.errors import SpecError
from kumo.spec import dns_sources, json_schema, load_spec, retarget
from tests.unit.spec.conftest import BASE

EXAMPLES = sorted(Path(__file__).parents[3].joinpath("examples").glob("*/kumo.yaml"))


def test_the_seed_example_states_the_seed_system() -> None:
    spec = load_spec(EXAMPLES[[p.parent.name for p in EXAMPLES].index("online-app")])
    assert spec.app == "online-app"
    assert (spec.target.cloud, spec.target.region) == ("aws", "ap-northeast-1")
    assert spec.cluster is not None and spec.cluster.name == "online-app"
    assert spec.cluster.nodes.instance_type == "t3.medium"
    assert (spec.cluster.nodes.min, spec.cluster.nodes.max, spec.cluster.nodes.desired) == (1, 1, 1)
    nginx = spec.services[0]
    assert (nginx.image, nginx.replicas, nginx.port) == ("nginx:1.27", 2, 80)
    assert nginx.endpoint is not None and nginx.endpoint.hostname == "nginx.example.com"
    assert nginx.endpoint.tls == "auto"
    assert [(p.port, p.protocol) for p in nginx.endpoint.ports] == [(443, "https")]
    assert spec.dns is not None and spec.dns.provider == "route53"
    assert spec.dns.owner_id == "my-hostedzone-identifier"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_is_valid_with_every_environment(path: Path) -> None:
    spec = load_spec(path)
    for env in [*spec.environments, "pr-7"]:
        resolved = load_spec(path, env=env)
        assert resolved.namespace == f"{spec.app}-{env}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_every_example_matches_the_json_schema(path: Path) -> None:
    document = YAML(typ="safe").load(path.read_text())
    jsonschema.Draft202012Validator(json_schema()).validate(document)


def test_defaults(write: Callable[[str], Path]) -> None:
    spec = load_spec(write(BASE.replace("    replicas: 2\n", "")))
    service = spec.services[0]
    assert service.replicas == 2
    assert service.security.run_as_non_root and service.security.read_only_root_filesystem
    assert spec.default_namespace == "shop"
    assert dns_sources(spec) == ["service"]


def test_tls_off_defaults_to_plain_http_on_80(write: Callable[[str], Path]) -> None:
    spec = load_spec(
        write(
            BASE.replace("cloud: aws", "cloud: generic").replace(
                "      hostname: www.example.com", "      hostname: www.example.com\n      tls: 'off'"
            )
        )
    )
    endpoint = spec.services[0].endpoint
    assert endpoint is not None
    assert [(p.port, p.protocol) for p in endpoint.ports] == [(80, "http")]


def test_environment_overrides_merge_over_the_base(write: Callable[[str], Path]) -> None:
    text = (
        BASE
        + "environments:\n  staging:\n    services:\n      web:\n        replicas: 1\n        env:\n          MODE: s\n"
    )
    spec = load_spec(write(text), env="staging")
    assert spec.services[0].replicas == 1
    assert spec.services[0].env == {"MODE": "s"}
    assert spec.services[0].image == "nginx:1.27"
    assert spec.namespace == "shop-staging"
    assert spec.services[0].endpoint is not None
    assert spec.services[0].endpoint.hostname == "staging.www.example.com"


def test_an_environment_may_set_its_own_hostname(write: Callable[[str], Path]) -> None:
    text = (
        BASE
        + "environments:\n  prod:\n    services:\n      web:\n        endpoint:\n          hostname: example.com\n"
    )
    spec = load_spec(write(text), env="prod")
    assert spec.services[0].endpoint is not None
    assert spec.services[0].endpoint.hostname == "example.com"


def test_a_preview_environment_copies_the_base_with_templated_names(write: Callable[[str], Path]) -> None:
    spec = load_spec(write(BASE), env="pr-42")
    assert spec.namespace == "shop-pr-42"
    assert spec.services[0].endpoint is not None
    assert spec.services[0].endpoint.hostname == "pr-42.www.example.com"


def test_derived_dns_sources_follow_the_endpoints(write: Callable[[str], Path]) -> None:
    text = (
        BASE.replace("cloud: aws", "cloud: generic").replace("  region: ap-northeast-1\n", "")
        + "  - name: api\n    image: nginx:1.27\n    endpoint:\n      hostname: api.example.com\n"
        "      expose: gateway\n  - name: admin\n    image: nginx:1.27\n    endpoint:\n"
        "      hostname: admin.example.com\n      expose: ingress\n"
    )
    spec = load_spec(
        write(
            text.replace(
                "      hostname: www.example.com\n", "      hostname: www.example.com\n      tls: 'off'\n", 1
            )
        )
    )
    assert dns_sources(spec) == ["service", "ingress", "gateway-httproute"]


def test_retarget_validates_the_spec_for_the_new_cloud(write: Callable[[str], Path]) -> None:
    spec = load_spec(
        write(
            BASE.replace(
                "      hostname: www.example.com", "      hostname: www.example.com\n      expose: ingress"
            )
        )
    )
    gcp = retarget(spec, "gcp", region="asia-northeast1")
    assert (gcp.target.cloud, gcp.target.region) == ("gcp", "asia-northeast1")
    with pytest.raises(SpecError) as caught:
        retarget(spec, "gcp")
    assert caught.value.problems == [
        "--profile gcp: target.region: expected a region of gcp such as asia-northeast1, found 'ap-northeast-1'"
    ]
    with pytest.raises(SpecError) as caught:
        retarget(load_spec(write(BASE)), "gcp", region="asia-northeast1")
    assert caught.value.problems[0].startswith(
        "--profile gcp: services[0].endpoint.tls: a load balancer Service"
    )


def test_json_schema_describes_the_fields_by_their_yaml_names() -> None:
    schema = json_schema()
    assert schema["title"] == "kumo.yaml"
    assert set(schema["required"]) >= {"app", "target", "services"}
    endpoint = schema["$defs"]["Endpoint"]["properties"]
    assert {"hostname", "expose", "tls", "ports", "loadBalancer", "ingressClass", "gatewayClass"} <= set(
        endpoint
    )


def test_env_values_written_as_numbers_or_booleans_become_text(write: Callable[[str], Path]) -> None:
    spec = load_spec(
        write(BASE.replace("    port: 80", "    port: 80\n    env:\n      PORT: 8080\n      DEBUG: true"))
    )
    assert spec.services[0].env == {"PORT": "8080", "DEBUG": "true"}
