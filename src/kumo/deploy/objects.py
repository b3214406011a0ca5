"""Identity, labels and ordering of the objects in a release."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

APP_LABEL = "kumo.dev/app"
ENV_LABEL = "kumo.dev/env"
RELEASE_LABEL = "kumo.dev/release"
FIELD_MANAGER = "kumo"

#: Apply order: what others refer to goes first. Deletion runs in reverse.
_KIND_ORDER = [
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Secret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "IngressClass",
    "Ingress",
    "GatewayClass",
    "Gateway",
    "HTTPRoute",
]
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


@dataclass(frozen=True, order=True)
class Ref:
    """What identifies an object: apiVersion, kind, namespace ("" when cluster-scoped), name."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Obj) -> Ref:
        metadata = obj.get("metadata") or {}
        return cls(
            str(obj["apiVersion"]), str(obj["kind"]), str(metadata.get("namespace") or ""), metadata["name"]
        )

    @property
    def short(self) -> str:
        """``deployment/web`` as kubectl prints it."""
        return f"{self.kind.lower()}/{self.name}"

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.kind} {self.name}{where}"

    def as_dict(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }


def order_key(obj: Obj) -> tuple[int, str, str]:
    kind = str(obj.get("kind"))
    rank = _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)
    return rank, kind, str((obj.get("metadata") or {}).get("name"))


def in_apply_order(objects: Iterable[Obj]) -> list[Obj]:
    return sorted(objects, key=order_key)


def in_delete_order(objects: Iterable[Obj]) -> list[Obj]:
    return sorted(objects, key=order_key, reverse=True)


def release_labels(app: str, env: str, release: str) -> dict[str, str]:
    return {APP_LABEL: app, ENV_LABEL: env, RELEASE_LABEL: release}


def labelled(obj: Obj, labels: dict[str, str]) -> Obj:
    """A copy of ``obj`` carrying ``labels``, on the object and on a workload's Pod template.

    The Pod template gets them too so Pods can be found by release; selectors are left alone,
    since they are immutable.
    """
    result = copy.deepcopy(obj)
    metadata = result.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    if result.get("kind") in _WORKLOADS:
        template = (result.get("spec") or {}).get("template")
        if isinstance(template, dict):
            tmeta = template.setdefault("metadata", {})
            tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
    if result.get("kind") == "CronJob":
        job_template = ((result.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template")
        if isinstance(job_template, dict):
            tmeta = job_template.setdefault("metadata", {})
            tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
    return result


def is_namespaced_default(obj: Obj) -> bool:
    """Whether a rendered object should get the release namespace when it names none."""
    return str(obj.get("kind")) not in {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "IngressClass",
        "GatewayClass",
        "StorageClass",
        "PersistentVolume",
    }
