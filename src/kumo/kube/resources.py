"""Mapping (apiVersion, kind) to the REST path: plural name and whether it lives in a namespace.

Common kinds come from a built-in table, so most calls need no discovery round trip; anything
else (CRDs such as Gateway) is looked up once through /api and /apis discovery and cached.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceInfo:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def collection_path(self, namespace: str | None = None) -> str:
        """URL path of the collection; cluster-wide when a namespaced kind gets no namespace."""
        base = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection_path(namespace)}/{name}"


def _table() -> dict[tuple[str, str], ResourceInfo]:
    rows: list[tuple[str, str, str, bool]] = [
        ("v1", "Namespace", "namespaces", False),
        ("v1", "Node", "nodes", False),
        ("v1", "PersistentVolume", "persistentvolumes", False),
        ("v1", "Pod", "pods", True),
        ("v1", "Service", "services", True),
        ("v1", "Endpoints", "endpoints", True),
        ("v1", "ConfigMap", "configmaps", True),
        ("v1", "Secret", "secrets", True),
        ("v1", "ServiceAccount", "serviceaccounts", True),
        ("v1", "Event", "events", True),
        ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
        ("v1", "ResourceQuota", "resourcequotas", True),
        ("v1", "LimitRange", "limitranges", True),
        ("apps/v1", "Deployment", "deployments", True),
        ("apps/v1", "ReplicaSet", "replicasets", True),
        ("apps/v1", "StatefulSet", "statefulsets", True),
        ("apps/v1", "DaemonSet", "daemonsets", True),
        ("apps/v1", "ControllerRevision", "controllerrevisions", True),
        ("batch/v1", "Job", "jobs", True),
        ("batch/v1", "CronJob", "cronjobs", True),
        ("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True),
        ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
        ("networking.k8s.io/v1", "Ingress", "ingresses", True),
        ("networking.k8s.io/v1", "IngressClass", "ingressclasses", False),
        ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
        ("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True),
        ("rbac.authorization.k8s.io/v1", "Role", "roles", True),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
        ("coordination.k8s.io/v1", "Lease", "leases", True),
        ("events.k8s.io/v1", "Event", "events", True),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
        ("storage.k8s.io/v1", "StorageClass", "storageclasses", False),
        ("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False),
        ("metrics.k8s.io/v1beta1", "PodMetrics", "pods", True),
        ("metrics.k8s.io/v1beta1", "NodeMetrics", "nodes", False),
    ]
    return {(a, k): ResourceInfo(a, k, p, n) for a, k, p, n in rows}


BUILTIN: dict[tuple[str, str], ResourceInfo] = _table()


def from_discovery(api_version: str, document: dict[str, object]) -> dict[str, ResourceInfo]:
    """Kinds of one group/version from its APIResourceList, skipping subresources (``pods/status``)."""
    found: dict[str, ResourceInfo] = {}
    resources = document.get("resources")
    if not isinstance(resources, list):
        return found
    for entry in resources:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("name", ""))
        kind = str(entry.get("kind", ""))
        if not name or not kind or "/" in name:
            continue
        found.setdefault(kind, ResourceInfo(api_version, kind, name, bool(entry.get("namespaced"))))
    return found
