"""In-cluster manifests for ``kumo console`` (``kumo render --with-console``).

Read-only by construction: the ClusterRole grants get/list/watch only (plus get on pods/log), the
container runs as non-root with a read-only root filesystem, and the console listens on the Pod
network only with the token from a Secret the operator creates (``--token-file``): it refuses a
non-loopback address without one. It finds the DNS controller's Pods through its own Pod watch
(``--dns-from-pods``) and reads their ``/status.json``.
"""

from __future__ import annotations

from typing import Any

from kumo.render.addons.dns_controller import NAME as DNS_NAME
from kumo.render.context import RenderContext
from kumo.render.meta import addon_labels, metadata
from kumo.render.security import NONROOT_UID, container_security_context, pod_security_context
from kumo.render.workload import PSS_ENFORCE

NAME = "kumo-console"
PORT = 8080
TOKEN_SECRET = "kumo-console-token"
TOKEN_DIR = "/var/run/kumo-console"
READ = ["get", "list", "watch"]

#: Everything the console watches, and nothing it does not.
RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "services", "events", "nodes"], "verbs": READ},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    # Release history. RBAC cannot filter by label: the console itself lists only Secrets labelled
    # kumo.dev/owner=kumo, but this rule lets its ServiceAccount read every Secret (docs/console.md).
    {"apiGroups": [""], "resources": ["secrets"], "verbs": READ},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": READ},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": READ},
    {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["gateways"], "verbs": READ},
    {"apiGroups": ["cert-manager.io"], "resources": ["certificates"], "verbs": READ},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": ["get", "list"]},
]


def render_console(ctx: RenderContext) -> list[dict[str, Any]]:
    spec = ctx.spec
    ns = spec.dns.controller.namespace if spec.dns is not None else "kumo-system"
    image = spec.dns.controller.image if spec.dns is not None else "ghcr.io/kumo-dev/kumo:0.1.0"
    own = addon_labels(NAME, "console")
    selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}
    args = ["console", f"--address=0.0.0.0:{PORT}", f"--token-file={TOKEN_DIR}/token"]
    if spec.dns is not None and spec.dns.controller.enabled:
        args.append(f"--dns-from-pods={DNS_NAME}")
    container = {
        "name": "console",
        "image": image,
        "args": args,
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 20,
            "failureThreshold": 6,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "384Mi"}},
        "securityContext": container_security_context(read_only_root=True),
        "volumeMounts": [
            {"name": "token", "mountPath": TOKEN_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME}
    namespace: list[dict[str, Any]] = []
    if spec.dns is None or not spec.dns.controller.enabled:  # else the DNS add-on creates it
        namespace = [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": metadata(ns, {**own, PSS_ENFORCE: "restricted"}),
            }
        ]
    return [
        *namespace,
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(NAME, own, ns)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": metadata(NAME, own),
            "rules": RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": metadata(NAME, own),
            "roleRef": role_ref,
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata(NAME, own, ns),
            "spec": {
                "replicas": 1,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": own},
                    "spec": {
                        "serviceAccountName": NAME,
                        "securityContext": pod_security_context(NONROOT_UID),
                        "containers": [container],
                        "volumes": [
                            {"name": "token", "secret": {"secretName": TOKEN_SECRET, "defaultMode": 0o440}},
                            {"name": "tmp", "emptyDir": {}},
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(NAME, own, ns),
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
            },
        },
    ]
