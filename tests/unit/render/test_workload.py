"""What every app gets: labels, a hardened Deployment (ARCHITECTURE section 6) and its Namespace."""

from __future__ import annotations

from kumo.render import render_addons, render_app
from tests.unit.render.conftest import SpecFactory, pick

LABELS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "kumo.dev/app",
    "kumo.dev/env",
}


def test_every_app_object_carries_kumos_labels(make_spec: SpecFactory) -> None:
    for obj in render_app(make_spec("generic", "expose: gateway\n")):
        labels = obj["metadata"]["labels"]
        assert set(labels) >= LABELS, obj["kind"]
        assert labels["app.kubernetes.io/managed-by"] == "kumo"
        assert labels["kumo.dev/app"] == "shop"
        assert labels["kumo.dev/env"] == "default"


def test_addon_labels_do_not_depend_on_the_app(make_spec: SpecFactory) -> None:
    """Two apps on one cluster share the DNS controller: their renders of it must be identical."""
    shop = render_addons(make_spec("generic", "expose: gateway\n"))
    staging = render_addons(make_spec("generic", "expose: gateway\n"), env="staging")
    assert shop and shop == staging
    for obj in shop:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "kumo"
        assert "kumo.dev/app" not in labels and "kumo.dev/env" not in labels, obj["kind"]


def test_environment_goes_into_instance_and_env_labels(make_spec: SpecFactory) -> None:
    deployment = pick(render_app(make_spec("aws"), env="staging"), "Deployment")
    assert deployment["metadata"]["labels"]["kumo.dev/env"] == "staging"
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/instance": "shop-staging",
    }


def test_deployment_is_hardened_and_nginx_gets_writable_dirs(make_spec: SpecFactory) -> None:
    deployment = pick(render_app(make_spec("aws")), "Deployment")
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "seccompProfile": {"type": "RuntimeDefault"},
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,  # pod level: the seed put it on the container, where it is invalid
        "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}],
    }
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert "fsGroup" not in container["securityContext"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts == {"/tmp": "tmp", "/var/cache/nginx": "var-cache-nginx", "/var/run": "var-run"}
    assert {v["name"]: v["emptyDir"] for v in pod["volumes"]} == {
        "tmp": {},
        "var-cache-nginx": {},
        "var-run": {},
    }
    assert container["ports"] == [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}


def test_other_images_get_only_tmp_and_high_ports_need_no_sysctl(make_spec: SpecFactory) -> None:
    spec = make_spec("aws", image="ghcr.io/example/api:1.0.0", port=8080)
    pod = pick(render_app(spec), "Deployment")["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    assert "sysctls" not in pod["securityContext"]


def test_security_can_be_loosened_per_service(make_spec: SpecFactory) -> None:
    spec = make_spec(
        "generic",
        "tls: 'off'\n",
        extra_service="  - name: legacy\n    image: example/legacy:3\n    security:\n"
        "      runAsNonRoot: false\n      readOnlyRootFilesystem: false\n",
    )
    objects = render_app(spec)
    pod = pick(objects, "Deployment", "legacy")["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "volumes" not in pod
    # A root Pod would be refused by the "restricted" standard, so the namespace does not enforce it.
    assert "pod-security.kubernetes.io/enforce" not in pick(objects, "Namespace")["metadata"]["labels"]


def test_namespace_enforces_the_restricted_pod_security_standard(make_spec: SpecFactory) -> None:
    namespace = pick(render_app(make_spec("aws")), "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_env_resources_probes_and_command(make_spec: SpecFactory) -> None:
    extra = (
        "  - name: api\n    image: ghcr.io/example/api:1.0.0\n    port: 8080\n    replicas: 3\n"
        "    command: [/app/api]\n    args: [--verbose]\n    env:\n      LOG_LEVEL: debug\n"
        "    resources:\n      requests: {cpu: 250m, memory: 256Mi}\n      limits: {memory: 512Mi}\n"
        "    probes:\n      readiness: {path: null, port: 9000}\n"
        "      liveness: {path: /live, failureThreshold: 5}\n"
    )
    deployment = pick(
        render_app(make_spec("generic", "tls: 'off'\n", extra_service=extra)), "Deployment", "api"
    )
    assert deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/app/api"]
    assert container["args"] == ["--verbose"]
    assert container["env"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }
    assert container["readinessProbe"]["tcpSocket"] == {"port": 9000}
    assert container["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
    assert container["livenessProbe"]["failureThreshold"] == 5


def test_item18_each_service_gets_a_network_policy_admitting_only_its_port(make_spec: SpecFactory) -> None:
    worker = "  - name: worker\n    image: busybox:1.36\n    port: 8080\n"
    objects = render_app(make_spec("generic", "tls: 'off'\n", extra_service=worker))
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}
    assert sorted(policies) == ["web", "worker"]
    web, internal = policies["web"]["spec"], policies["worker"]["spec"]
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert web["podSelector"]["matchLabels"] == deployments["web"]["spec"]["selector"]["matchLabels"]
    assert web["policyTypes"] == ["Ingress"]  # egress is left alone
    # public endpoint: from anywhere, but only to the container's port
    assert web["ingress"] == [{"ports": [{"protocol": "TCP", "port": 80}]}]
    # no endpoint: only from Pods of the same namespace
    assert internal["ingress"] == [
        {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8080}]}
    ]
    assert policies["web"]["metadata"]["namespace"] == "shop"


def test_item18_network_policy_can_be_switched_off(make_spec: SpecFactory) -> None:
    worker = "  - name: worker\n    image: busybox:1.36\n    security:\n      networkPolicy: false\n"
    objects = render_app(make_spec("generic", "tls: 'off'\n", extra_service=worker))
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "NetworkPolicy"] == ["web"]


def test_item18_the_switch_is_described_in_the_json_schema() -> None:
    from kumo.spec import json_schema

    schema = json_schema()
    security = schema["$defs"]["Security"]["properties"]["networkPolicy"]
    assert security["default"] is True
    assert "NetworkPolicy" in security["description"] and "from its own namespace" in security["description"]
