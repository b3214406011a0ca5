"""The resource catalogue: every kind the emulator serves, in one table.

Discovery, routing, storage keys and validation all read from here, so adding a kind is one line.
CustomResourceDefinitions add entries at run time (see :meth:`Catalog.register_crd`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list")
CREATE = ("create",)


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    singular: str = ""
    virtual: bool = False  # computed on read (metrics), never stored
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    # a CRD version's additionalPrinterColumns (None for built-ins, which tables.py prints)
    printer_columns: tuple[dict[str, Any], ...] | None = field(default=None, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``deployments.apps``: the name real error messages use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def store_key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


def _rt(
    group: str,
    version: str,
    kind: str,
    plural: str,
    namespaced: bool = True,
    short: Iterable[str] = (),
    sub: Iterable[str] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
    cats: Iterable[str] = (),
    virtual: bool = False,
) -> ResourceType:
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=tuple(short),
        verbs=verbs,
        subresources=tuple(sub),
        categories=tuple(cats),
        singular=kind.lower(),
        virtual=virtual,
    )


BUILTIN: tuple[ResourceType, ...] = (
    _rt("", "v1", "Namespace", "namespaces", False, ["ns"], ["status"]),
    _rt("", "v1", "Pod", "pods", True, ["po"], ["status", "log", "eviction"], cats=["all"]),
    _rt("", "v1", "Service", "services", True, ["svc"], ["status"], cats=["all"]),
    _rt("", "v1", "Endpoints", "endpoints", True, ["ep"]),
    _rt("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
    _rt("", "v1", "Secret", "secrets", True),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"], ["token"]),
    _rt("", "v1", "Event", "events", True, ["ev"]),
    _rt("", "v1", "Node", "nodes", False, ["no"], ["status"]),
    _rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ["pvc"], ["status"]),
    _rt("", "v1", "ResourceQuota", "resourcequotas", True, ["quota"], ["status"]),
    _rt("", "v1", "LimitRange", "limitranges", True, ["limits"]),
    _rt(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        True,
        ["rc"],
        ["status", "scale"],
        cats=["all"],
    ),
    _rt("", "v1", "PersistentVolume", "persistentvolumes", False, ["pv"], ["status"]),
    _rt("", "v1", "PodTemplate", "podtemplates", True),
    _rt("apps", "v1", "Deployment", "deployments", True, ["deploy"], ["status", "scale"], cats=["all"]),
    _rt("apps", "v1", "ReplicaSet", "replicasets", True, ["rs"], ["status", "scale"], cats=["all"]),
    _rt("apps", "v1", "StatefulSet", "statefulsets", True, ["sts"], ["status", "scale"], cats=["all"]),
    _rt("apps", "v1", "DaemonSet", "daemonsets", True, ["ds"], ["status"], cats=["all"]),
    _rt("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    _rt("batch", "v1", "Job", "jobs", True, [], ["status"], cats=["all"]),
    _rt("batch", "v1", "CronJob", "cronjobs", True, ["cj"], ["status"], cats=["all"]),
    _rt(
        "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ["hpa"], ["status"]
    ),
    _rt("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", True, ["ing"], ["status"]),
    _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ["netpol"]),
    _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["pdb"], ["status"]),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _rt("coordination.k8s.io", "v1", "Lease", "leases", True),
    _rt("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ["sc"]),
    _rt("storage.k8s.io", "v1", "CSIDriver", "csidrivers", False),
    _rt("storage.k8s.io", "v1", "CSINode", "csinodes", False),
    _rt("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", False, [], ["status"]),
    _rt(
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        False,
        ["csr"],
        ["status", "approval"],
    ),
    _rt("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ["pc"]),
    _rt("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", False),
    _rt("events.k8s.io", "v1", "Event", "events", True, ["ev"]),
    _rt(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ["crd", "crds"],
        ["status"],
    ),
    _rt("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", False, ["gc"], ["status"]),
    _rt("gateway.networking.k8s.io", "v1", "Gateway", "gateways", True, ["gtw"], ["status"]),
    _rt("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", True, [], ["status"]),
    _rt("gateway.networking.k8s.io", "v1", "GRPCRoute", "grpcroutes", True, [], ["status"]),
    _rt("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant", "referencegrants", True, ["refgrant"]),
    # reviews: answered at once, never stored (see rbac.py)
    _rt(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        False,
        verbs=CREATE,
        virtual=True,
    ),
    _rt("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False, verbs=CREATE, virtual=True),
    _rt(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=CREATE,
        virtual=True,
    ),
    _rt(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        False,
        verbs=CREATE,
        virtual=True,
    ),
    _rt(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        False,
        verbs=CREATE,
        virtual=True,
    ),
    _rt("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=READ_VERBS, virtual=True),
    _rt("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=READ_VERBS, virtual=True),
)

# Preferred versions for groups that have them; the first registered version otherwise.
GROUP_PRIORITY = [
    "",
    "apps",
    "batch",
    "autoscaling",
    "discovery.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "coordination.k8s.io",
    "storage.k8s.io",
    "certificates.k8s.io",
    "scheduling.k8s.io",
    "node.k8s.io",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "apiextensions.k8s.io",
    "gateway.networking.k8s.io",
    "metrics.k8s.io",
]


class Catalog:
    """Lookup of resource types by URL parts, kind or short name."""

    def __init__(self, types: Iterable[ResourceType] = BUILTIN) -> None:
        self._by_path: dict[tuple[str, str, str], ResourceType] = {}
        self._crd_owned: dict[str, list[tuple[str, str, str]]] = {}
        for rt in types:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        self._by_path[(rt.group, rt.version, rt.plural)] = rt

    def remove(self, group: str, version: str, plural: str) -> None:
        self._by_path.pop((group, version, plural), None)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rt in self._by_path.values():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None

    def types(self) -> list[ResourceType]:
        return list(self._by_path.values())

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions, preferred first."""
        out: dict[str, list[str]] = {}
        for rt in self._by_path.values():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        order = {g: i for i, g in enumerate(GROUP_PRIORITY)}
        return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self._by_path.values() if rt.group == group and rt.version == version]

    def register_crd(self, crd: dict[str, Any]) -> None:
        """Serve the kinds a CustomResourceDefinition declares (every served version)."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = str(spec.get("group", ""))
        name = str((crd.get("metadata") or {}).get("name", ""))
        self.unregister_crd(name)
        owned: list[tuple[str, str, str]] = []
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            subs = ver.get("subresources") or {}
            rt = ResourceType(
                group=group,
                version=str(ver.get("name")),
                kind=str(names.get("kind", "")),
                plural=str(names.get("plural", "")),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                subresources=tuple(s for s in ("status", "scale") if s in subs),
                categories=tuple(names.get("categories") or ()),
                singular=str(names.get("singular") or str(names.get("kind", "")).lower()),
                schema=(ver.get("schema") or {}).get("openAPIV3Schema"),
                printer_columns=tuple(
                    c for c in ver.get("additionalPrinterColumns") or () if isinstance(c, dict)
                ),
            )
            self.add(rt)
            owned.append((rt.group, rt.version, rt.plural))
        self._crd_owned[name] = owned

    def unregister_crd(self, name: str) -> None:
        for key in self._crd_owned.pop(name, []):
            self._by_path.pop(key, None)
