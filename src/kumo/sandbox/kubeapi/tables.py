"""Server-side printing: the ``meta.k8s.io/v1`` Table form that ``kubectl get`` asks for."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from kumo.sandbox.kubeapi.catalog import ResourceType

_COL_DESC = {"name": "Name must be unique within a namespace."}


def _col(name: str, typ: str = "string", fmt: str = "", priority: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "type": typ,
        "format": fmt,
        "description": _COL_DESC.get(name.lower(), name),
        "priority": priority,
    }


def age(ts: str | None, now: float | None = None) -> str:
    if not ts:
        return "<unknown>"
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        return "<unknown>"
    t = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    secs = int(max(0.0, (now or time.time()) - t))
    if secs < 120:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m{secs % 60}s" if secs < 600 else f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h{(secs % 3600) // 60}m" if secs < 36000 else f"{secs // 3600}h"
    return f"{secs // 86400}d"


def _pod_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cs = st.get("containerStatuses") or []
    ready = sum(1 for c in cs if c.get("ready"))
    status = st.get("phase", "Pending")
    restarts = sum(int(c.get("restartCount", 0)) for c in cs)
    for c in cs:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            status = waiting["reason"]
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        status = "Terminating"
    return [f"{ready}/{len(spec.get('containers') or [])}", status, restarts]


def _port(p: dict[str, Any]) -> str:
    node = f":{p['nodePort']}" if p.get("nodePort") else ""
    return f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}"


def _svc_cells(o: dict[str, Any]) -> list[Any]:
    spec = o.get("spec") or {}
    ingress = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ext = ",".join(i.get("hostname") or i.get("ip", "") for i in ingress)
    if not ext:
        ext = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    ports = ",".join(_port(p) for p in spec.get("ports") or []) or "<none>"
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), ext, ports]


def _deploy_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
    ]


def _rs_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [spec.get("replicas", 0), st.get("replicas", 0), st.get("readyReplicas", 0)]


def _sts_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 0)}"]


def _ds_cells(o: dict[str, Any]) -> list[Any]:
    st = o.get("status") or {}
    selector = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>",
    ]


def _revision_cells(o: dict[str, Any]) -> list[Any]:
    owner = next(
        (r for r in (o.get("metadata") or {}).get("ownerReferences") or [] if r.get("controller")), None
    )
    ctl = f"{str(owner.get('kind', '')).lower()}.apps/{owner.get('name', '')}" if owner else "<none>"
    return [ctl, o.get("revision", 0)]


def _configmap_cells(o: dict[str, Any]) -> list[Any]:
    return [len(o.get("data") or {}) + len(o.get("binaryData") or {})]


def _secret_cells(o: dict[str, Any]) -> list[Any]:
    return [o.get("type", "Opaque"), len(o.get("data") or {})]


def _pod_wide(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    gates = spec.get("readinessGates") or []
    return [
        st.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        ",".join(str(g.get("conditionType")) for g in gates) if gates else "<none>",
    ]


def _containers(template_spec: dict[str, Any]) -> list[Any]:
    cs = template_spec.get("containers") or []
    return [",".join(str(c.get("name")) for c in cs), ",".join(str(c.get("image")) for c in cs)]


def _selector(o: dict[str, Any]) -> str:
    sel = ((o.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>"


def _workload_wide(o: dict[str, Any]) -> list[Any]:
    tspec = (((o.get("spec") or {}).get("template") or {}).get("spec")) or {}
    return [*_containers(tspec), _selector(o)]


def _svc_wide(o: dict[str, Any]) -> list[Any]:
    sel = (o.get("spec") or {}).get("selector") or {}
    return [",".join(f"{k}={v}" for k, v in sel.items()) or "<none>"]


def _node_cells(o: dict[str, Any]) -> list[Any]:
    conds = (o.get("status") or {}).get("conditions") or []
    ready = next((c for c in conds if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (o.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    version = ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [status, "<none>", version]


def _ns_cells(o: dict[str, Any]) -> list[Any]:
    return [(o.get("status") or {}).get("phase", "Active")]


def _ingress_cells(o: dict[str, Any]) -> list[Any]:
    spec = o.get("spec") or {}
    hosts = ",".join(str(r.get("host")) for r in spec.get("rules") or [] if r.get("host")) or "*"
    ingress = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(str(i.get("hostname") or i.get("ip", "")) for i in ingress)
    ports = "80, 443" if spec.get("tls") else "80"
    return [spec.get("ingressClassName", "<none>"), hosts, address, ports]


def _lease_cells(o: dict[str, Any]) -> list[Any]:
    return [(o.get("spec") or {}).get("holderIdentity", "")]


def _event_cells(o: dict[str, Any]) -> list[Any]:
    # one printer for both APIs, as the API server prints its one internal Event: the core form
    # (involvedObject, message, lastTimestamp) or the events.k8s.io view (regarding, note, deprecated*)
    inv = o.get("involvedObject") or o.get("regarding") or {}
    seen = o.get("lastTimestamp") or o.get("deprecatedLastTimestamp") or o.get("eventTime")
    return [
        age(seen),
        o.get("type", ""),
        o.get("reason", ""),
        f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
        o.get("message", o.get("note", "")),
    ]


def _rc_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [spec.get("replicas", 0), st.get("replicas", 0), st.get("readyReplicas", 0)]


def _rc_wide(o: dict[str, Any]) -> list[Any]:
    tspec = (((o.get("spec") or {}).get("template") or {}).get("spec")) or {}
    sel = (o.get("spec") or {}).get("selector") or {}
    return [*_containers(tspec), ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>"]


def _hpa_target(metric: dict[str, Any], current: dict[str, Any] | None) -> str:
    """One metric as kubectl's printer shows it: ``cpu: 12%/50%`` (``<unknown>`` before a reading)."""
    typ = str(metric.get("type", ""))
    source = metric.get(typ[:1].lower() + typ[1:]) or {}
    target = source.get("target") or {}
    name = source.get("name") or (source.get("metric") or {}).get("name") or ""
    cur = ((current or {}).get(typ[:1].lower() + typ[1:]) or {}).get("current") or {}
    if target.get("averageUtilization") is not None:
        now = f"{cur['averageUtilization']}%" if cur.get("averageUtilization") is not None else "<unknown>"
        want = f"{target['averageUtilization']}%"
    else:
        key = "averageValue" if target.get("averageValue") is not None else "value"
        now = str(cur.get(key, "<unknown>"))
        want = str(target.get(key, "<unset>"))
    return f"{name}: {now}/{want}" if name else f"{now}/{want}"


def _hpa_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    current = st.get("currentMetrics") or []
    targets = [
        _hpa_target(m, current[i] if i < len(current) else None)
        for i, m in enumerate(spec.get("metrics") or [])
        if isinstance(m, dict)
    ]
    return [
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        ", ".join(targets) or "<none>",
        spec.get("minReplicas", "<unset>"),
        spec.get("maxReplicas", 0),
        st.get("currentReplicas", 0),
    ]


_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def _storageclass_cells(o: dict[str, Any]) -> list[Any]:
    return [
        o.get("provisioner", ""),
        o.get("reclaimPolicy", "Delete"),
        o.get("volumeBindingMode", "Immediate"),
        bool(o.get("allowVolumeExpansion", False)),
    ]


def _duration(seconds: int) -> str:
    """apimachinery's HumanDuration (``10m``, ``24h``, ``2d12h``, ``1y30d``)."""
    minutes, hours = seconds // 60, seconds // 3600
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return f"{hours // (24 * 365)}y{(hours // 24) % 365}d"
    return f"{hours // (24 * 365)}y"


def _csr_cells(o: dict[str, Any]) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    conds = [str(c.get("type")) for c in st.get("conditions") or [] if c.get("status", "True") == "True"]
    if st.get("certificate"):
        conds.append("Issued")
    seconds = spec.get("expirationSeconds")
    return [
        age((o.get("metadata") or {}).get("creationTimestamp")),
        spec.get("signerName", ""),
        spec.get("username", ""),
        _duration(int(seconds)) if seconds else "<none>",
        ",".join(conds) or "Pending",
    ]


_KINDS: dict[str, tuple[list[dict[str, Any]], Any]] = {
    "Pod": ([_col("Ready"), _col("Status"), _col("Restarts", "integer")], _pod_cells),
    "Service": ([_col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)")], _svc_cells),
    "Deployment": (
        [_col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer")],
        _deploy_cells,
    ),
    "ReplicaSet": (
        [_col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer")],
        _rs_cells,
    ),
    "StatefulSet": ([_col("Ready")], _sts_cells),
    "DaemonSet": (
        [
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _col("Node Selector"),
        ],
        _ds_cells,
    ),
    "ControllerRevision": ([_col("Controller"), _col("Revision", "integer")], _revision_cells),
    "ConfigMap": ([_col("Data", "integer")], _configmap_cells),
    "Secret": ([_col("Type"), _col("Data", "integer")], _secret_cells),
    "Node": ([_col("Status"), _col("Roles"), _col("Version")], _node_cells),
    "Namespace": ([_col("Status")], _ns_cells),
}


_EVENT_PRINTER = (
    [_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Message")],
    _event_cells,
)

# kinds printed with columns of their own, by (group, kind)
_BY_GROUP: dict[tuple[str, str], tuple[list[dict[str, Any]], Any]] = {
    ("networking.k8s.io", "Ingress"): (
        [_col("Class"), _col("Hosts"), _col("Address"), _col("Ports")],
        _ingress_cells,
    ),
    ("coordination.k8s.io", "Lease"): ([_col("Holder")], _lease_cells),
    ("", "ReplicationController"): (
        [_col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer")],
        _rc_cells,
    ),
    ("storage.k8s.io", "StorageClass"): (
        [
            _col("Provisioner"),
            _col("ReclaimPolicy"),
            _col("VolumeBindingMode"),
            _col("AllowVolumeExpansion", "boolean"),
        ],
        _storageclass_cells,
    ),
    ("certificates.k8s.io", "CertificateSigningRequest"): (
        [_col("Age"), _col("SignerName"), _col("Requestor"), _col("RequestedDuration"), _col("Condition")],
        _csr_cells,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): (
        [
            _col("Reference"),
            _col("Targets"),
            _col("MinPods", "integer"),
            _col("MaxPods", "integer"),
            _col("Replicas", "integer"),
        ],
        _hpa_cells,
    ),
    ("", "Event"): _EVENT_PRINTER,
    ("events.k8s.io", "Event"): _EVENT_PRINTER,
}


# -o wide: columns after AGE with priority 1, as the real printers add them
_WORKLOAD_WIDE = (
    [_col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)],
    _workload_wide,
)
_WIDE: dict[tuple[str, str], tuple[list[dict[str, Any]], Any]] = {
    ("", "Pod"): (
        [
            _col("IP", priority=1),
            _col("Node", priority=1),
            _col("Nominated Node", priority=1),
            _col("Readiness Gates", priority=1),
        ],
        _pod_wide,
    ),
    ("", "Service"): ([_col("Selector", priority=1)], _svc_wide),
    ("", "ReplicationController"): (
        [_col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)],
        _rc_wide,
    ),
    ("apps", "Deployment"): _WORKLOAD_WIDE,
    ("apps", "ReplicaSet"): _WORKLOAD_WIDE,
    ("apps", "StatefulSet"): (
        [_col("Containers", priority=1), _col("Images", priority=1)],
        lambda o: _workload_wide(o)[:2],
    ),
    ("apps", "DaemonSet"): _WORKLOAD_WIDE,
}


@lru_cache(maxsize=512)
def _jsonpath(expr: str) -> JSONPath | None:
    """A printer column's JSONPath (``.spec.replicas``, ``{.status.conditions[?(@.type=="Ready")]
    .status}``) compiled once; None when it does not parse (the column then prints nothing)."""
    path = expr.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1].strip()
    try:
        return parse_jsonpath("$" + path if path.startswith((".", "[")) else path)
    except (JsonPathLexerError, JsonPathParserError):
        return None


def _crd_columns(rt: ResourceType) -> list[dict[str, Any]]:
    cols = rt.printer_columns or ()
    return [
        {
            "name": str(c.get("name", "")),
            "type": str(c.get("type", "string")),
            "format": str(c.get("format", "")),
            "description": str(c.get("description", "")),
            "priority": int(c.get("priority", 0) or 0),
        }
        for c in cols
    ]


def _crd_cell(column: dict[str, Any], obj: dict[str, Any]) -> Any:
    """One cell as the apiextensions table convertor fills it: the first JSONPath result, typed
    by the column; a date becomes an age; a missing value is null (kubectl prints <none>)."""
    path = _jsonpath(str(column.get("jsonPath", "")))
    found = path.find(obj) if path is not None else []
    if not found or found[0].value is None:
        return None
    value = found[0].value
    typ = column.get("type", "string")
    if typ == "date":
        return age(value) if isinstance(value, str) else None
    if typ == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if typ == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if typ == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _printer(rt: ResourceType) -> tuple[list[dict[str, Any]], Any]:
    if (rt.group, rt.kind) in _BY_GROUP:
        return _BY_GROUP[(rt.group, rt.kind)]
    if rt.group in ("", "apps") and rt.kind in _KINDS:
        return _KINDS[rt.kind]
    return ([], None)


def _events_first(rt: ResourceType) -> bool:
    # like the real server, Events lead with LAST SEEN and keep NAME for -o wide
    return rt.kind == "Event" and rt.group in ("", "events.k8s.io")


def columns(rt: ResourceType) -> list[dict[str, Any]]:
    if rt.printer_columns:
        return [_col("Name", fmt="name"), *_crd_columns(rt)]
    if _events_first(rt):
        return [*_printer(rt)[0], _col("Name", fmt="name", priority=1)]
    wide = _WIDE.get((rt.group, rt.kind), ([], None))[0]
    cols = _printer(rt)[0]
    own_age = any(c["name"] == "Age" for c in cols)  # a printer that places AGE itself
    return [_col("Name", fmt="name"), *cols, *([] if own_age else [_col("Age")]), *wide]


def row(rt: ResourceType, obj: dict[str, Any], include: str) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    fn = _printer(rt)[1]
    if rt.printer_columns:
        cells = [meta.get("name", ""), *(_crd_cell(c, obj) for c in rt.printer_columns)]
    elif _events_first(rt):
        cells = [*(fn(obj) if fn else []), meta.get("name", "")]
    else:
        wide_fn = _WIDE.get((rt.group, rt.kind), ([], None))[1]
        own_age = any(c["name"] == "Age" for c in _printer(rt)[0])
        name = meta.get("name", "")
        if rt.kind == "StorageClass" and (meta.get("annotations") or {}).get(_DEFAULT_CLASS) == "true":
            name += " (default)"
        cells = [
            name,
            *(fn(obj) if fn else []),
            *([] if own_age else [age(meta.get("creationTimestamp"))]),
            *(wide_fn(obj) if wide_fn else []),
        ]
    out: dict[str, Any] = {"cells": cells}
    if include == "Object":
        out["object"] = obj
    elif include != "None":
        out["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    return out


def table(
    rt: ResourceType,
    items: list[dict[str, Any]],
    rv: str,
    include: str,
    cont: str | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": rv}
    if cont:
        meta["continue"] = cont
    out: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    if with_columns:
        out["columnDefinitions"] = columns(rt)
    out["rows"] = [row(rt, o, include) for o in items]
    return out
