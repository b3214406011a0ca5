"""The DNS controller's own manifests: what replaces the seed's external-dns chart.

Least privilege: the ClusterRole grants get/list/watch only on the objects its sources read, plus
event writes so bad annotations can be reported on the object. The leader-election Lease lives in
the controller's namespace, so that right is a namespaced Role, not a cluster-wide one.
Two replicas run with leader election; the PodDisruptionBudget keeps one through node drains.
"""

from __future__ import annotations

from typing import Any

from kumo.render.context import RenderContext, dns_role_arn
from kumo.render.meta import labels, metadata
from kumo.render.security import NONROOT_UID, container_security_context, pod_security_context
from kumo.render.workload import PSS_ENFORCE
from kumo.spec import Spec
from kumo.spec.model import dns_sources

NAME = "kumo-dns"
METRICS_PORT = 7979
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
READ = ["get", "list", "watch"]

# What each source reads. The controller only publishes LoadBalancer Services, Ingresses and
# HTTPRoutes (with their Gateways' addresses), so it needs no pods, nodes or endpoints.
_SOURCE_RULES: dict[str, list[dict[str, Any]]] = {
    "service": [{"apiGroups": [""], "resources": ["services"], "verbs": READ}],
    "ingress": [{"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": READ}],
    "gateway-httproute": [
        {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["gateways", "httproutes"], "verbs": READ}
    ],
}
# Events are how a bad annotation is reported on its object (kumo.kube.record_event writes core/v1).
_EVENT_RULES = [{"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]}]
LEASE_NAME = NAME
# create cannot be limited by name; reading and renewing are limited to the controller's own Lease.
_LEASE_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": [LEASE_NAME],
        "verbs": ["get", "update"],
    },
]


def controller_args(spec: Spec) -> list[str]:
    """``kumo dns run`` flags, in external-dns's spelling."""
    assert spec.dns is not None
    dns = spec.dns
    args = ["dns", "run"]
    args += [f"--source={source}" for source in dns_sources(spec)]
    args += [
        f"--provider={dns.provider}",
        f"--domain-filter={dns.zone}",
        f"--txt-owner-id={dns.owner_id}",
        f"--policy={dns.controller.policy}",
        "--registry=txt",
        f"--interval={dns.controller.interval}",
    ]
    if dns.provider == "route53":
        args.append(f"--aws-zone-type={dns.zone_type}")
    args += ["--leader-elect", f"--leader-election-id={LEASE_NAME}", f"--metrics-address=:{METRICS_PORT}"]
    return args


def cluster_role_rules(spec: Spec) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for source in dns_sources(spec):
        rules.extend(_SOURCE_RULES[source])
    return rules + _EVENT_RULES


def render_dns_controller(ctx: RenderContext) -> list[dict[str, Any]]:
    spec = ctx.spec
    if spec.dns is None or not spec.dns.controller.enabled:
        return []
    dns = spec.dns
    ns = dns.controller.namespace
    own = labels(ctx, NAME, "dns-controller")
    own["app.kubernetes.io/instance"] = NAME  # one controller per cluster, whatever the app
    pod_selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}

    sa_annotations: dict[str, str] = {}
    if spec.target.cloud == "aws" and dns.provider == "route53":
        sa_annotations[IRSA_ANNOTATION] = dns_role_arn(ctx.account_id, ctx.cluster_name)

    env: list[dict[str, Any]] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
    ]
    if spec.target.cloud == "aws" and spec.target.region:
        env.append({"name": "AWS_REGION", "value": spec.target.region})

    container = {
        "name": "controller",
        "image": dns.controller.image,
        "args": controller_args(spec),
        "env": env,
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "metrics"},
            "periodSeconds": 20,
            "failureThreshold": 6,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": container_security_context(read_only_root=True),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(NAME, own, ns),
        "spec": {
            "replicas": dns.controller.replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": pod_selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": own},
                "spec": {
                    "serviceAccountName": NAME,
                    "securityContext": pod_security_context(NONROOT_UID),
                    "affinity": {
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "weight": 100,
                                    "podAffinityTerm": {
                                        "labelSelector": {"matchLabels": pod_selector},
                                        "topologyKey": "kubernetes.io/hostname",
                                    },
                                }
                            ]
                        }
                    },
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
    role_ref = {"apiGroup": "rbac.authorization.k8s.io"}
    subject = [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": metadata(ns, {**own, PSS_ENFORCE: "restricted"}),
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(NAME, own, ns, sa_annotations),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": metadata(NAME, own),
            "rules": cluster_role_rules(spec),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": metadata(NAME, own),
            "roleRef": {**role_ref, "kind": "ClusterRole", "name": NAME},
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(f"{NAME}-leader-election", own, ns),
            "rules": _LEASE_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(f"{NAME}-leader-election", own, ns),
            "roleRef": {**role_ref, "kind": "Role", "name": f"{NAME}-leader-election"},
            "subjects": subject,
        },
        deployment,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": metadata(NAME, own, ns),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": pod_selector}},
        },
        network_policy(own, ns, pod_selector),
    ]


def network_policy(own: dict[str, str], ns: str, pod_selector: dict[str, str]) -> dict[str, Any]:
    """Egress: DNS, and HTTPS to the Kubernetes API and the DNS provider (6443 too, because the
    API server's real port is what a NetworkPolicy sees after the Service is resolved).
    Ingress: only the metrics and health port."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(NAME, own, ns),
        "spec": {
            "podSelector": {"matchLabels": pod_selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": METRICS_PORT}]}],
            "egress": [
                {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]},
            ],
        },
    }
