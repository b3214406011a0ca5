"""What sources read besides their own object: Gateways and Namespaces (route targets), and Nodes, Pods and
EndpointSlices (NodePort and headless Service targets), kept slim, with which objects a change to one
of them must rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kumo.dns.sources.common import reads_pods_or_nodes
from kumo.dns.sources.gateway import GatewayKey, parent_gateways

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
Obj = dict[str, Any]
#: (kind, object) -> whether its endpoints must be rebuilt
Affects = Callable[[str, Obj], bool]


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def selector_matches(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """A Service's ``spec.selector`` (equality only); an empty one selects every Pod, as external-dns."""
    return all(labels.get(k) == v for k, v in (selector or {}).items())


@dataclass
class SourceContext:
    gateways: dict[GatewayKey, Obj] = field(default_factory=dict)
    # name -> Namespace (its labels): a listener's allowedRoutes may select routes' namespaces
    namespaces: dict[str, Obj] = field(default_factory=dict)
    nodes: dict[str, Obj] = field(default_factory=dict)
    # namespace -> pod name -> pod: a Service reads only its own namespace's Pods
    pods: dict[str, dict[str, Obj]] = field(default_factory=dict)
    # (namespace, service name) -> slice name -> slice
    slices: dict[tuple[str, str], dict[str, Obj]] = field(default_factory=dict)

    def pods_of(self, svc: Mapping[str, Any]) -> list[Obj]:
        """The Pods a Service selects, in its namespace (external-dns's ``pods(svc)``)."""
        namespace = str(_meta(svc).get("namespace") or "")
        selector = (svc.get("spec") or {}).get("selector")
        in_namespace = self.pods.get(namespace, {})
        return [
            in_namespace[name]
            for name in sorted(in_namespace)
            if selector_matches(selector, _meta(in_namespace[name]).get("labels") or {})
        ]

    def slices_of(self, svc: Mapping[str, Any]) -> list[Obj]:
        meta = _meta(svc)
        found = self.slices.get((str(meta.get("namespace") or ""), str(meta.get("name") or "")), {})
        return [found[name] for name in sorted(found)]

    def update(self, kind: str, event: str, obj: Obj) -> Affects | None:
        """Keep a context object; return which source objects to rebuild, or None when nothing they
        read changed (a Node's heartbeat, a Pod's unrelated status field)."""
        meta = _meta(obj)
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        deleted = event == "DELETED"
        if kind == "Gateway":
            key = (namespace, name)
            if not _store(self.gateways, key, obj, deleted, _gateway_view):
                return None
            return lambda k, o: k.endswith("Route") and key in parent_gateways(o)
        if kind == "Namespace":
            if not _store(self.namespaces, name, obj, deleted, lambda o: _meta(o).get("labels") or {}):
                return None
            return lambda k, o: k.endswith("Route") and _meta(o).get("namespace") == name
        if kind == "Node":
            if not _store(self.nodes, name, obj, deleted):
                return None
            return lambda k, o: k == "Service" and reads_pods_or_nodes(o)
        if kind == "Pod":
            in_namespace = self.pods.setdefault(namespace, {})
            old = in_namespace.get(name)
            changed = _store(in_namespace, name, obj, deleted)
            if not in_namespace:
                del self.pods[namespace]
            if not changed:
                return None
            labels = [_meta(p).get("labels") or {} for p in (old, obj) if p is not None]
            return lambda k, o: (
                k == "Service"
                and _meta(o).get("namespace") == namespace
                and reads_pods_or_nodes(o)
                and any(selector_matches((o.get("spec") or {}).get("selector"), lab) for lab in labels)
            )
        if kind == "EndpointSlice":
            service = str((meta.get("labels") or {}).get(SERVICE_NAME_LABEL) or "")
            if not service:
                return None
            by_name = self.slices.setdefault((namespace, service), {})
            changed = _store(by_name, name, obj, deleted)
            if not by_name:
                del self.slices[(namespace, service)]
            if not changed:
                return None
            return lambda k, o: (
                k == "Service" and _meta(o).get("namespace") == namespace and _meta(o).get("name") == service
            )
        raise ValueError(f"unsupported context kind {kind!r}")


def _store(
    table: dict[Any, Obj],
    key: Any,
    obj: Obj,
    deleted: bool,
    significant: Callable[[Obj], Any] | None = None,
) -> bool:
    """Store or drop ``obj``; True when what the sources read of it changed."""
    previous = table.get(key)
    if deleted:
        return table.pop(key, None) is not None
    table[key] = obj
    if previous is None:
        return True
    view = significant or _without_version
    return bool(view(previous) != view(obj))


def _gateway_view(gateway: Obj) -> tuple[Any, ...]:
    """What routes read of a Gateway: its labels (--gateway-label-filter), annotations (target),
    listeners and addresses."""
    meta = _meta(gateway)
    spec = gateway.get("spec") or {}
    return (meta.get("labels"), meta.get("annotations"), spec.get("listeners"), gateway.get("status"))


def _without_version(obj: Obj) -> Obj:
    meta = {k: v for k, v in _meta(obj).items() if k not in ("resourceVersion", "managedFields")}
    return {**obj, "metadata": meta}


def slim_context(kind: str, obj: Obj, annotation_prefix: str) -> Obj:
    """Only what the sources read of a context object (the informers cache this)."""
    meta = _meta(obj)
    out_meta: dict[str, Any] = {
        k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if k in meta
    }
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if kind == "Node":
        return {"metadata": out_meta, "status": {"addresses": status.get("addresses") or []}}
    if kind == "Namespace":
        if meta.get("labels"):
            out_meta["labels"] = meta["labels"]
        return {"metadata": out_meta}
    if kind == "Pod":
        if meta.get("labels"):
            out_meta["labels"] = meta["labels"]
        target = (meta.get("annotations") or {}).get(annotation_prefix + "target")
        if target is not None:
            out_meta["annotations"] = {annotation_prefix + "target": target}
        if meta.get("deletionTimestamp"):
            out_meta["deletionTimestamp"] = meta["deletionTimestamp"]
        ready = [
            c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type") == "Ready"
        ]
        return {
            "metadata": out_meta,
            "spec": {k: spec[k] for k in ("hostname", "nodeName") if spec.get(k)},
            "status": {
                **{k: status[k] for k in ("phase", "hostIP") if status.get(k)},
                "conditions": [{"type": "Ready", "status": c.get("status")} for c in ready],
            },
        }
    if kind == "EndpointSlice":
        label = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if label is not None:
            out_meta["labels"] = {SERVICE_NAME_LABEL: label}
        endpoints = []
        for ep in obj.get("endpoints") or []:
            if not isinstance(ep, dict):
                continue
            ref = ep.get("targetRef") or {}
            endpoints.append(
                {
                    "addresses": list(ep.get("addresses") or [])[:1],
                    "conditions": {"ready": (ep.get("conditions") or {}).get("ready")},
                    "targetRef": {k: ref[k] for k in ("apiVersion", "kind", "name") if k in ref},
                }
            )
        return {"metadata": out_meta, "addressType": obj.get("addressType"), "endpoints": endpoints}
    return obj  # Gateways: the route sources' slim (kumo.dns.sources.common.slim) applies


__all__ = [
    "SERVICE_NAME_LABEL",
    "Affects",
    "SourceContext",
    "selector_matches",
    "slim_context",
]
