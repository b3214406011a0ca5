"""The DNS controller's own manifests: IRSA, least-privilege RBAC, HA, and its network policy."""

from __future__ import annotations

from typing import Any

from kumo.render import CloudFacts, controller_args, render_addons
from tests.unit.render.conftest import SpecFactory, kinds, pick


def _rules(objects: list[dict[str, Any]], kind: str) -> list[tuple[str, str, tuple[str, ...]]]:
    rules = pick(objects, kind)["rules"]
    return [
        (g, r, tuple(rule["verbs"])) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
    ]


def test_objects_in_apply_order(make_spec: SpecFactory) -> None:
    assert kinds(render_addons(make_spec("aws"))) == [
        "Namespace/kumo-system",
        "ServiceAccount/kumo-dns",
        "ClusterRole/kumo-dns",
        "ClusterRoleBinding/kumo-dns",
        "Role/kumo-dns-leader-election",
        "RoleBinding/kumo-dns-leader-election",
        "Deployment/kumo-dns",
        "PodDisruptionBudget/kumo-dns",
        "NetworkPolicy/kumo-dns",
    ]


def test_irsa_role_arn_from_a_deterministic_name(make_spec: SpecFactory) -> None:
    account = pick(render_addons(make_spec("aws")), "ServiceAccount")
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::${kumo:aws-account-id}:role/shop-kumo-dns"
    }
    known = pick(render_addons(make_spec("aws", top="  accountId: '123456789012'\n")), "ServiceAccount")
    assert known["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        "arn:aws:iam::123456789012:role/shop-kumo-dns"
    )
    filled = pick(
        render_addons(make_spec("aws"), facts=CloudFacts(account_id="210987654321")), "ServiceAccount"
    )
    assert filled["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "arn:aws:iam::210987654321:"
    )


def test_no_irsa_annotation_off_aws(make_spec: SpecFactory) -> None:
    account = pick(render_addons(make_spec("generic", "tls: 'off'\n")), "ServiceAccount")
    assert "annotations" not in account["metadata"]


def test_cluster_role_reads_only_what_the_sources_need(make_spec: SpecFactory) -> None:
    read = ("get", "list", "watch")
    write_events = ("create", "patch")
    # the service source reads Nodes (NodePort), Pods and EndpointSlices (headless) as external-dns
    assert _rules(render_addons(make_spec("aws")), "ClusterRole") == [
        ("", "nodes", read),
        ("", "pods", read),
        ("", "services", read),
        ("discovery.k8s.io", "endpointslices", read),
        ("", "events", write_events),
    ]
    ingress = _rules(render_addons(make_spec("aws", "expose: ingress\n")), "ClusterRole")
    assert ingress == [("networking.k8s.io", "ingresses", read), ("", "events", write_events)]
    gateway = _rules(render_addons(make_spec("generic", "expose: gateway\n")), "ClusterRole")
    assert gateway == [
        ("gateway.networking.k8s.io", "gateways", read),
        ("gateway.networking.k8s.io", "httproutes", read),
        ("", "namespaces", read),  # a listener's allowedRoutes may select namespaces by label
        ("", "events", write_events),
    ]


def test_cluster_role_comes_from_the_one_table_of_sources(make_spec: SpecFactory) -> None:
    from typing import get_args

    from kumo.sourcekinds import SOURCE_KINDS, rbac_rules
    from kumo.spec.model import DnsSource

    assert set(get_args(DnsSource)) <= set(SOURCE_KINDS)  # what kumo.yaml may name, kumo can run

    spec = make_spec("aws", dns="  controller:\n    sources: [service, ingress, gateway-httproute]\n")
    role = pick(render_addons(spec), "ClusterRole")
    assert role["rules"][:-1] == rbac_rules(["service", "ingress", "gateway-httproute"])


def test_rbac_has_no_wildcards_writes_or_cluster_wide_leases(make_spec: SpecFactory) -> None:
    objects = render_addons(make_spec("aws", dns="  controller:\n    sources: [service, ingress]\n"))
    cluster_rules = _rules(objects, "ClusterRole")
    assert {r for _, r, _ in cluster_rules} == {
        "services",
        "nodes",
        "pods",
        "endpointslices",
        "ingresses",
        "events",
    }
    for _, resource, verbs in cluster_rules:
        assert "*" not in verbs and resource != "*"
        assert not {"delete", "update", "deletecollection", "escalate", "bind"} & set(verbs)
        assert resource == "events" or set(verbs) == {"get", "list", "watch"}
    role = pick(objects, "Role")
    assert role["metadata"]["namespace"] == "kumo-system"
    assert _rules(objects, "Role") == [
        ("coordination.k8s.io", "leases", ("create",)),
        ("coordination.k8s.io", "leases", ("get", "update")),
        ("", "configmaps", ("get", "list", "watch")),
    ]
    assert role["rules"][1]["resourceNames"] == ["kumo-dns"]
    binding = pick(objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kumo-dns", "namespace": "kumo-system"}]
    cluster_binding = pick(objects, "ClusterRoleBinding")
    assert cluster_binding["roleRef"]["kind"] == "ClusterRole"
    assert all(o["apiVersion"] == "rbac.authorization.k8s.io/v1" for o in objects if "Role" in o["kind"])


def test_deployment_runs_kumo_dns_with_external_dns_flags(make_spec: SpecFactory) -> None:
    spec = make_spec("aws")
    deployment = pick(render_addons(spec), "Deployment")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "kumo-dns"
    (container,) = pod["containers"]
    assert (
        container["args"]
        == controller_args(spec, shared=True)
        == [
            "dns",
            "run",
            "--source=service",
            "--provider=route53",
            "--zones-configmap=kumo-system/kumo-dns-zones",
            "--policy=sync",
            "--registry=txt",
            "--interval=1m",
            "--aws-zone-type=public",
            "--leader-elect",
            "--leader-election-id=kumo-dns",
            "--metrics-address=$(POD_IP):7979",
        ]
    )
    assert {"name": "AWS_REGION", "value": "ap-northeast-1"} in container["env"]
    assert {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in container["env"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == 65532
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_policy_and_replicas_come_from_the_spec(make_spec: SpecFactory) -> None:
    spec = make_spec(
        "generic", "tls: 'off'\n", dns="  controller:\n    replicas: 3\n    policy: upsert-only\n"
    )
    deployment = pick(render_addons(spec), "Deployment")
    assert deployment["spec"]["replicas"] == 3
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--policy=upsert-only" in args and "--provider=local" in args
    assert not [a for a in args if a.startswith("--aws-")]


def test_pod_disruption_budget_keeps_one(make_spec: SpecFactory) -> None:
    pdb = pick(render_addons(make_spec("aws")), "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1


def test_network_policy_allows_dns_https_out_and_metrics_in(make_spec: SpecFactory) -> None:
    policy = pick(render_addons(make_spec("aws")), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == []  # metrics only from dns.controller.metricsFrom; none by default
    egress_ports = {(p["protocol"], p["port"]) for rule in policy["egress"] for p in rule["ports"]}
    assert egress_ports == {("UDP", 53), ("TCP", 53), ("TCP", 443), ("TCP", 6443)}


def test_disabled_controller_renders_nothing(make_spec: SpecFactory) -> None:
    assert render_addons(make_spec("aws", dns="  controller:\n    enabled: false\n")) == []


def test_rfc2136_settings_and_the_tsig_secret_from_a_secret(make_spec: SpecFactory) -> None:
    dns = (
        "  rfc2136:\n    host: ns1.example.com\n    port: 5353\n    tsigKeyName: kumo-key\n"
        "    tsigSecret: {name: dns-tsig, key: secret}\n"
    )
    spec = make_spec("generic", "tls: 'off'\n", dns=dns, provider="rfc2136")
    objects = render_addons(spec)
    container = pick(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][7:12] == [
        "--interval=1m",
        "--rfc2136-host=ns1.example.com",
        "--rfc2136-port=5353",
        "--rfc2136-zone=example.com",
        "--rfc2136-tsig-keyname=kumo-key",
    ]
    assert {
        "name": "KUMO_RFC2136_TSIG_SECRET",
        "valueFrom": {"secretKeyRef": {"name": "dns-tsig", "key": "secret"}},
    } in container["env"]
    egress = pick(objects, "NetworkPolicy")["spec"]["egress"][1]["ports"]
    assert {"protocol": "TCP", "port": 5353} in egress


def test_webhook_url_and_its_port(make_spec: SpecFactory) -> None:
    objects = render_addons(make_spec("gcp", "expose: ingress\n"))
    args = pick(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--provider=webhook" in args
    assert "--webhook-provider-url=http://dns-webhook.kumo-system.svc:8888" in args
    egress = pick(objects, "NetworkPolicy")["spec"]["egress"][1]["ports"]
    assert {"protocol": "TCP", "port": 8888} in egress


def test_local_provider_serves_its_zone_from_a_writable_volume(make_spec: SpecFactory) -> None:
    objects = render_addons(make_spec("generic", "tls: 'off'\n"))
    pod = pick(objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert "--local-zone=example.com" in container["args"]
    assert "--local-db=/var/lib/kumo-dns/zone.sqlite" in container["args"]
    assert {"name": "zone", "mountPath": "/var/lib/kumo-dns"} in container["volumeMounts"]
    assert {"name": "zone", "emptyDir": {}} in pod["volumes"]
    ingress = pick(objects, "NetworkPolicy")["spec"]["ingress"]
    assert ingress[0] == {"ports": [{"protocol": "UDP", "port": 5353}, {"protocol": "TCP", "port": 5353}]}


def test_item10_metrics_port_admitted_only_from_the_configured_scraper(make_spec: SpecFactory) -> None:
    dns = (
        "  controller:\n    metricsFrom:\n"
        "      - namespaceSelector: {kubernetes.io/metadata.name: monitoring}\n"
        "        podSelector: {app.kubernetes.io/name: prometheus}\n"
    )
    policy = pick(render_addons(make_spec("aws", dns=dns)), "NetworkPolicy")["spec"]
    assert policy["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": 7979}],
        }
    ]
    args = pick(render_addons(make_spec("aws")), "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    assert "--metrics-address=$(POD_IP):7979" in args  # the Pod's address, not every interface


def test_item11_local_provider_dns_service_selects_only_the_serving_pod(make_spec: SpecFactory) -> None:
    objects = render_addons(make_spec("generic", "tls: 'off'\n"))
    service = pick(objects, "Service")
    deployment = pick(objects, "Deployment")
    assert service["metadata"] == {**service["metadata"], "name": "kumo-dns", "namespace": "kumo-system"}
    assert service["spec"]["selector"] == {
        **deployment["spec"]["selector"]["matchLabels"],
        "kumo.dev/dns-serving": "true",
    }
    assert {(p["port"], p["targetPort"], p["protocol"]) for p in service["spec"]["ports"]} == {
        (53, "dns-udp", "UDP"),
        (53, "dns-tcp", "TCP"),
    }
    role = next(o for o in objects if o["kind"] == "Role")
    assert {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "patch"]} in role["rules"]
    # other providers serve no DNS: no Service, no Pod rights
    aws = render_addons(make_spec("aws"))
    assert not [o for o in aws if o["kind"] == "Service"]
    assert all("pods" not in rule["resources"] for o in aws if o["kind"] == "Role" for rule in o["rules"])
