"""What the real API server fills in on write: defaults, initial status, allocated IPs and ports.

Only fields that clients read back (kubectl printers, rollout logic, the DNS controller) are
defaulted, so objects look like a real cluster's without copying every default of Kubernetes.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_RANGE = range(30000, 32768)


class Allocator:
    """ClusterIPs and NodePorts, unique among live Services."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.ips: set[str] = set()
        self.ports: set[int] = set()
        self._next_ip = 10

    def ip(self) -> str:
        while True:
            self._next_ip += 1
            addr = str(SERVICE_CIDR.network_address + self._next_ip)
            if addr not in self.ips:
                self.ips.add(addr)
                return addr

    def node_port(self) -> int:
        if len(self.ports) >= NODE_PORT_RANGE.stop - NODE_PORT_RANGE.start:
            # As the real allocator does, a full range is the request's fault, not a hang or a 500.
            raise ApiError(
                422,
                "Invalid",
                f"failed to allocate a nodePort: range "
                f"{NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1} is full",
            )
        while True:
            port = self._rng.randrange(NODE_PORT_RANGE.start, NODE_PORT_RANGE.stop)
            if port not in self.ports:
                self.ports.add(port)
                return port

    def release(self, service: dict[str, Any]) -> None:
        """Free a deleted Service's ClusterIPs and NodePorts."""
        spec = service.get("spec")
        if not isinstance(spec, dict):
            return
        for ip in spec.get("clusterIPs") or []:
            self.ips.discard(str(ip))
        for p in spec.get("ports") or []:
            if isinstance(p, dict) and p.get("nodePort"):
                self.ports.discard(int(p["nodePort"]))


def _pct(value: Any, default: Any) -> Any:
    return default if value is None else value


def apply_defaults(rt: ResourceType, obj: dict[str, Any], alloc: Allocator, creating: bool) -> None:
    kind = rt.kind if not rt.group or rt.group in ("apps", "batch", "autoscaling") else ""
    spec = obj.get("spec")
    if kind == "Pod" and isinstance(spec, dict):
        _pod_spec(spec)
        if creating:
            _default_tolerations(spec)
            obj["status"] = {"phase": "Pending", "qosClass": _qos(spec)}
    elif kind == "Service" and isinstance(spec, dict):
        _service(spec, alloc)
        if creating:
            obj["status"] = {"loadBalancer": {}}
    elif kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        if creating:
            obj["status"] = {"phase": "Active"}
    elif kind == "ReplicationController" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        tmpl = spec.get("template")
        if isinstance(tmpl, dict):
            labels = (tmpl.get("metadata") or {}).get("labels") or {}
            if not spec.get("selector") and labels:
                spec["selector"] = dict(labels)
            if not obj["metadata"].get("labels") and labels:
                obj["metadata"]["labels"] = dict(labels)
            if isinstance(tmpl.get("spec"), dict):
                _pod_spec(tmpl["spec"])
        if creating:
            obj["status"] = {"replicas": 0}
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet") and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        if kind != "ReplicaSet":  # a ReplicaSet keeps no history
            spec.setdefault("revisionHistoryLimit", 10)
        if kind == "Deployment":
            spec.setdefault("progressDeadlineSeconds", 600)
            strat = spec.setdefault("strategy", {"type": "RollingUpdate"})
            if strat.get("type", "RollingUpdate") == "RollingUpdate":
                strat["type"] = "RollingUpdate"
                ru = strat.setdefault("rollingUpdate", {})
                ru["maxSurge"] = _pct(ru.get("maxSurge"), "25%")
                ru["maxUnavailable"] = _pct(ru.get("maxUnavailable"), "25%")
        if kind == "StatefulSet":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            strat = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
            if strat.get("type", "RollingUpdate") == "RollingUpdate":
                strat["type"] = "RollingUpdate"
                strat.setdefault("rollingUpdate", {}).setdefault("partition", 0)
            spec.setdefault(
                "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
            )
        tmpl = spec.get("template")
        if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
            _pod_spec(tmpl["spec"])
        if creating:
            obj["status"] = {"replicas": 0, "availableReplicas": 0} if kind == "StatefulSet" else {}
    elif kind == "DaemonSet" and isinstance(spec, dict):
        spec.setdefault("revisionHistoryLimit", 10)
        strat = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if strat.get("type", "RollingUpdate") == "RollingUpdate":
            strat["type"] = "RollingUpdate"
            ru = strat.setdefault("rollingUpdate", {})
            ru["maxUnavailable"] = _pct(ru.get("maxUnavailable"), 1)
            ru["maxSurge"] = _pct(ru.get("maxSurge"), 0)
        tmpl = spec.get("template")
        if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
            _pod_spec(tmpl["spec"])
        if creating:
            # the counts the official clients' models require, before the controller reports
            obj["status"] = {
                "currentNumberScheduled": 0,
                "desiredNumberScheduled": 0,
                "numberMisscheduled": 0,
                "numberReady": 0,
            }
    elif kind == "HorizontalPodAutoscaler" and isinstance(spec, dict):
        _hpa(spec)
        if creating:
            # desiredReplicas has no omitempty in Go: the official client's model requires it
            obj["status"] = {"desiredReplicas": 0}
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
    elif kind in ("Job", "CronJob") and creating:
        obj["status"] = {}


def _hpa(spec: dict[str, Any]) -> None:
    """autoscaling/v2 defaults: one replica at least, 80% CPU when no metric is given, and every
    unset scaling rule filled in once ``behavior`` is given."""
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.get("behavior")
    if not isinstance(behavior, dict):
        return
    up = behavior.get("scaleUp")
    up = up if isinstance(up, dict) else {}
    up.setdefault("stabilizationWindowSeconds", 0)
    up.setdefault("selectPolicy", "Max")
    up.setdefault(
        "policies",
        [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ],
    )
    down = behavior.get("scaleDown")
    down = down if isinstance(down, dict) else {}
    down.setdefault("selectPolicy", "Max")
    down.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])
    behavior["scaleUp"], behavior["scaleDown"] = up, down


def _pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        image = str(c.get("image", ""))
        tag = image.rsplit("/", 1)[-1]
        latest = ":" not in tag or tag.endswith(":latest")
        c.setdefault("imagePullPolicy", "Always" if latest and "@" not in tag else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")


# The DefaultTolerationSeconds admission plugin: Pods ride out a NotReady or unreachable Node for
# five minutes before they are evicted.
_DEFAULT_TOLERATIONS = (
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
)


def _default_tolerations(spec: dict[str, Any]) -> None:
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    for default in _DEFAULT_TOLERATIONS:
        if not any(isinstance(t, dict) and t.get("key") == default["key"] for t in tolerations):
            tolerations.append(dict(default))
    spec["tolerations"] = tolerations


def _qos(spec: dict[str, Any]) -> str:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    any_set = False
    guaranteed = bool(containers)
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        if not lim or set(lim) < {"cpu", "memory"} or any(req.get(k, lim[k]) != lim[k] for k in lim):
            guaranteed = False
    if guaranteed:
        return "Guaranteed"
    return "Burstable" if any_set else "BestEffort"


def _service(spec: dict[str, Any], alloc: Allocator) -> None:
    stype = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if stype != "ExternalName":
        if spec.get("clusterIP") in (None, ""):
            ip = alloc.ip()
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        elif spec.get("clusterIP") != "None":
            alloc.ips.add(str(spec["clusterIP"]))
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        else:
            spec.setdefault("clusterIPs", ["None"])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    for p in spec.get("ports") or []:
        if not isinstance(p, dict):
            continue
        p.setdefault("protocol", "TCP")
        if "port" in p:
            p.setdefault("targetPort", p["port"])
        lb_ports = stype == "LoadBalancer" and spec["allocateLoadBalancerNodePorts"]
        wants_node_port = stype == "NodePort" or lb_ports
        if wants_node_port and not p.get("nodePort"):
            p["nodePort"] = alloc.node_port()
        elif p.get("nodePort"):
            alloc.ports.add(int(p["nodePort"]))
