"""The DNS controller's own manifests: what replaces the seed's external-dns chart.

Least privilege: the ClusterRole grants get/list/watch only on the objects its sources read (the
table in ``kumo.sourcekinds``), plus event writes so bad annotations can be reported on the object.
The leader-election Lease lives in the controller's namespace, so that right is a namespaced Role,
not a cluster-wide one.
Two replicas run with leader election; the PodDisruptionBudget keeps one through node drains.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from kumo.render.context import RenderContext, dns_role_arn
from kumo.render.meta import addon_labels, metadata
from kumo.render.security import NONROOT_UID, container_security_context, pod_security_context
from kumo.render.workload import PSS_ENFORCE
from kumo.sourcekinds import rbac_rules
from kumo.spec import DnsController, Spec
from kumo.spec.model import dns_sources

NAME = "kumo-dns"
METRICS_PORT = 7979
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
READ = ["get", "list", "watch"]

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
    # the zones every release registers (kumo.dns.zoneconfig), watched; only in this namespace
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": READ},
]


LOCAL_DATA_DIR = "/var/lib/kumo-dns"
LOCAL_DNS_PORT = 5353
# With the local provider only the leader serves DNS; it labels its own Pod with this, and the
# kumo-dns Service selects it (kumo.dns.serving.SERVING_LABEL; render may not import dns).
SERVING_LABEL = "kumo.dev/dns-serving"
# ... which needs reading and labelling Pods, in the controller's own namespace only.
_SERVING_RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "patch"]}]


#: The ConfigMap (in the controller's namespace) where every release registers its zone and owner id.
ZONES_CONFIGMAP = "kumo-dns-zones"


def zones_entry(spec: Spec, namespace: str, release: str) -> tuple[str, str]:
    """This release's key and value in the zones ConfigMap (read by kumo.dns.zoneconfig)."""
    assert spec.dns is not None
    value = json.dumps({"zone": spec.dns.zone, "ownerId": spec.dns.owner_id}, sort_keys=True)
    return f"{namespace}.{release}", value


def controller_args(spec: Spec, *, shared: bool = False) -> list[str]:
    """``kumo dns run`` flags, in external-dns's spelling, plus the chosen provider's settings.

    ``shared``: the cluster add-on, which serves every release. Its zones and owner ids come from
    the zones ConfigMap (watched), not from this spec, so deploying another app leaves its flags
    as they are.
    """
    assert spec.dns is not None
    dns = spec.dns
    args = ["dns", "run"]
    args += [f"--source={source}" for source in dns_sources(spec)]
    args += [
        f"--provider={dns.provider}",
        *(
            [f"--zones-configmap={dns.controller.namespace}/{ZONES_CONFIGMAP}"]
            if shared
            else [f"--domain-filter={dns.zone}", f"--txt-owner-id={dns.owner_id}"]
        ),
        f"--policy={dns.controller.policy}",
        "--registry=txt",
        f"--interval={dns.controller.interval}",
    ]
    if dns.provider == "route53":
        args.append(f"--aws-zone-type={dns.zone_type}")
    elif dns.provider == "rfc2136" and dns.rfc2136 is not None:
        server = dns.rfc2136
        args += [
            f"--rfc2136-host={server.host}",
            f"--rfc2136-port={server.port}",
            f"--rfc2136-zone={dns.zone}",
        ]
        if server.tsig_key_name:
            args += [
                f"--rfc2136-tsig-keyname={server.tsig_key_name}",
                f"--rfc2136-tsig-secret-alg={server.tsig_algorithm}",
                "--rfc2136-tsig-axfr",  # external-dns signs the zone transfer only with this flag
            ]
    elif dns.provider == "webhook" and dns.webhook is not None:
        args.append(f"--webhook-provider-url={dns.webhook.url}")
    elif dns.provider == "local":
        args += [
            f"--local-zone={dns.zone}",
            f"--local-db={LOCAL_DATA_DIR}/zone.sqlite",
            f"--local-listen=0.0.0.0:{LOCAL_DNS_PORT}",
        ]
    # The Pod's own address (POD_IP from the downward API), never every interface.
    args += [
        "--leader-elect",
        f"--leader-election-id={LEASE_NAME}",
        f"--metrics-address=$(POD_IP):{METRICS_PORT}",
    ]
    return args


def _provider_port(spec: Spec) -> int | None:
    """The port the provider is reached on, when it is not HTTPS or DNS."""
    assert spec.dns is not None
    if spec.dns.provider == "rfc2136" and spec.dns.rfc2136 is not None:
        return spec.dns.rfc2136.port
    if spec.dns.provider == "webhook" and spec.dns.webhook is not None:
        url = urlsplit(spec.dns.webhook.url)
        return url.port or (443 if url.scheme == "https" else 80)
    return None


def cluster_role_rules(spec: Spec) -> list[dict[str, Any]]:
    # what the sources watch comes from the one table of sources (kumo.sourcekinds), which the
    # controller starts its informers from: the role grants exactly what it reads
    return rbac_rules(dns_sources(spec)) + _EVENT_RULES


def render_dns_controller(ctx: RenderContext) -> list[dict[str, Any]]:
    spec = ctx.spec
    if spec.dns is None or not spec.dns.controller.enabled:
        return []
    dns = spec.dns
    ns = dns.controller.namespace
    own = addon_labels(NAME, "dns-controller")
    pod_selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}

    sa_annotations: dict[str, str] = {}
    if spec.target.cloud == "aws" and dns.provider == "route53":
        sa_annotations[IRSA_ANNOTATION] = dns_role_arn(ctx.account_id, ctx.cluster_name)

    env: list[dict[str, Any]] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    if spec.target.cloud == "aws" and spec.target.region:
        env.append({"name": "AWS_REGION", "value": spec.target.region})
    if dns.provider == "rfc2136" and dns.rfc2136 is not None and dns.rfc2136.tsig_secret is not None:
        ref = dns.rfc2136.tsig_secret
        env.append(
            {
                "name": "KUMO_RFC2136_TSIG_SECRET",
                "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}},
            }
        )
    local = dns.provider == "local"
    ports: list[dict[str, Any]] = [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    if local:
        ports += [
            {"name": "dns-udp", "containerPort": LOCAL_DNS_PORT, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": LOCAL_DNS_PORT, "protocol": "TCP"},
        ]
        mounts.append({"name": "zone", "mountPath": LOCAL_DATA_DIR})
        volumes.append({"name": "zone", "emptyDir": {}})

    container = {
        "name": "controller",
        "image": dns.controller.image,
        "args": controller_args(spec, shared=True),
        "env": env,
        "ports": ports,
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "metrics"},
            "periodSeconds": 20,
            "failureThreshold": 6,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": container_security_context(read_only_root=True),
        "volumeMounts": mounts,
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
                    "volumes": volumes,
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
            "rules": _LEASE_RULES + (_SERVING_RULES if local else []),
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
        network_policy(
            own, ns, pod_selector, _provider_port(spec), serves_dns=local, metrics_from=_peers(dns.controller)
        ),
        *([dns_service(own, ns, pod_selector)] if local else []),
    ]


def dns_service(own: dict[str, str], ns: str, pod_selector: dict[str, str]) -> dict[str, Any]:
    """The local provider's DNS on port 53, sent only to the Pod that serves it: the leader."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(NAME, own, ns),
        "spec": {
            "type": "ClusterIP",
            "selector": {**pod_selector, SERVING_LABEL: "true"},
            "ports": [
                {"name": "dns-udp", "port": 53, "targetPort": "dns-udp", "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "targetPort": "dns-tcp", "protocol": "TCP"},
            ],
        },
    }


def _peers(controller: DnsController) -> list[dict[str, Any]]:
    peers = []
    for peer in controller.metrics_from:
        entry: dict[str, Any] = {}
        if peer.namespace_selector is not None:
            entry["namespaceSelector"] = {"matchLabels": dict(peer.namespace_selector)}
        if peer.pod_selector is not None:
            entry["podSelector"] = {"matchLabels": dict(peer.pod_selector)}
        peers.append(entry)
    return peers


def network_policy(
    own: dict[str, str],
    ns: str,
    pod_selector: dict[str, str],
    provider_port: int | None = None,
    serves_dns: bool = False,
    metrics_from: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Egress: DNS, and HTTPS to the Kubernetes API and the DNS provider (6443 too, because the
    API server's real port is what a NetworkPolicy sees after the Service is resolved), plus the
    provider's own port (rfc2136, webhook). Ingress: the metrics and health port only from the
    peers in ``dns.controller.metricsFrom`` (none by default; the kubelet's probes come from the
    node, which is always admitted), and the embedded DNS server's port with the local provider."""
    https = [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]
    if provider_port is not None and provider_port not in (53, 443, 6443):
        https.append({"protocol": "TCP", "port": provider_port})
    ingress: list[dict[str, Any]] = []
    if metrics_from:
        ingress.append({"from": metrics_from, "ports": [{"protocol": "TCP", "port": METRICS_PORT}]})
    if serves_dns:
        ingress.append(
            {
                "ports": [
                    {"protocol": "UDP", "port": LOCAL_DNS_PORT},
                    {"protocol": "TCP", "port": LOCAL_DNS_PORT},
                ]
            }
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(NAME, own, ns),
        "spec": {
            "podSelector": {"matchLabels": pod_selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": [
                {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"ports": https},
            ],
        },
    }
