"""Decoding the Kubernetes protobuf envelope that kubectl's typed clients send.

kubectl (client-go) writes built-in objects as ``application/vnd.kubernetes.protobuf``: the magic
``k8s\\0`` followed by a ``runtime.Unknown`` message that carries apiVersion, kind and the object's
own protobuf bytes. Responses are always JSON, which every client accepts. Only the kinds that
imperative kubectl commands create without a manifest are mapped here (``kubectl create
namespace|configmap|secret|serviceaccount|deployment|service``, ``kubectl expose``,
``kubectl autoscale``) plus
DeleteOptions and Eviction (typed deletes, ``kubectl drain``), each with the fields those commands
set; any other protobuf body gets a 415 that says so.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from kumo.sandbox.kubeapi.errors import ApiError, bad_request

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

# message -> field number -> (json name, type). Types: str, int, bool, bytes, time, msg:<name>,
# map:str (string->string), map:bytes (string->base64), rep:<type>.
_SCHEMAS: dict[str, dict[int, tuple[str, str]]] = {
    "ObjectMeta": {
        1: ("name", "str"),
        2: ("generateName", "str"),
        3: ("namespace", "str"),
        5: ("uid", "str"),
        6: ("resourceVersion", "str"),
        11: ("labels", "map:str"),
        12: ("annotations", "map:str"),
        13: ("ownerReferences", "rep:msg:OwnerReference"),
        14: ("finalizers", "rep:str"),
    },
    "OwnerReference": {
        1: ("kind", "str"),
        3: ("name", "str"),
        4: ("uid", "str"),
        5: ("apiVersion", "str"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "ObjectReference": {
        1: ("kind", "str"),
        2: ("namespace", "str"),
        3: ("name", "str"),
        4: ("uid", "str"),
        5: ("apiVersion", "str"),
        6: ("resourceVersion", "str"),
        7: ("fieldPath", "str"),
    },
    "LocalObjectReference": {1: ("name", "str")},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "int"),
        2: ("preconditions", "msg:Preconditions"),
        3: ("orphanDependents", "bool"),
        4: ("propagationPolicy", "str"),
        5: ("dryRun", "rep:str"),
    },
    "Preconditions": {1: ("uid", "str"), 2: ("resourceVersion", "str")},
    # what `kubectl create deployment|service` and `kubectl expose` fill in
    "Deployment": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:DeploymentSpec")},
    "DeploymentSpec": {
        1: ("replicas", "int"),
        2: ("selector", "msg:LabelSelector"),
        3: ("template", "msg:PodTemplateSpec"),
        4: ("strategy", "msg:DeploymentStrategy"),
        5: ("minReadySeconds", "int"),
        6: ("revisionHistoryLimit", "int"),
        7: ("paused", "bool"),
        9: ("progressDeadlineSeconds", "int"),
    },
    "DeploymentStrategy": {1: ("type", "str"), 2: ("rollingUpdate", "msg:RollingUpdateDeployment")},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intstr"), 2: ("maxSurge", "intstr")},
    "LabelSelector": {
        1: ("matchLabels", "map:str"),
        2: ("matchExpressions", "rep:msg:LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {1: ("key", "str"), 2: ("operator", "str"), 3: ("values", "rep:str")},
    "PodTemplateSpec": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:PodSpec")},
    "PodSpec": {
        2: ("containers", "rep:msg:Container"),
        3: ("restartPolicy", "str"),
        4: ("terminationGracePeriodSeconds", "int"),
        6: ("dnsPolicy", "str"),
        7: ("nodeSelector", "map:str"),
        8: ("serviceAccountName", "str"),
        10: ("nodeName", "str"),
        19: ("schedulerName", "str"),
        20: ("initContainers", "rep:msg:Container"),
        24: ("priorityClassName", "str"),
    },
    "Container": {
        1: ("name", "str"),
        2: ("image", "str"),
        3: ("command", "rep:str"),
        4: ("args", "rep:str"),
        5: ("workingDir", "str"),
        6: ("ports", "rep:msg:ContainerPort"),
        7: ("env", "rep:msg:EnvVar"),
        8: ("resources", "msg:ResourceRequirements"),
        13: ("terminationMessagePath", "str"),
        14: ("imagePullPolicy", "str"),
        20: ("terminationMessagePolicy", "str"),
    },
    "ContainerPort": {
        1: ("name", "str"),
        2: ("hostPort", "int"),
        3: ("containerPort", "int"),
        4: ("protocol", "str"),
        5: ("hostIP", "str"),
    },
    "EnvVar": {1: ("name", "str"), 2: ("value", "str")},
    "ResourceRequirements": {1: ("limits", "map:quantity"), 2: ("requests", "map:quantity")},
    "Service": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "rep:msg:ServicePort"),
        2: ("selector", "map:str"),
        3: ("clusterIP", "str"),
        4: ("type", "str"),
        5: ("externalIPs", "rep:str"),
        7: ("sessionAffinity", "str"),
        8: ("loadBalancerIP", "str"),
        10: ("externalName", "str"),
        11: ("externalTrafficPolicy", "str"),
    },
    "ServicePort": {
        1: ("name", "str"),
        2: ("protocol", "str"),
        3: ("port", "int"),
        4: ("targetPort", "intstr"),
        5: ("nodePort", "int"),
    },
    "Eviction": {1: ("metadata", "msg:ObjectMeta"), 2: ("deleteOptions", "msg:DeleteOptions")},
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "rep:str")},
    "ConfigMap": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map:str"),
        3: ("binaryData", "map:bytes"),
        4: ("immutable", "bool"),
    },
    "Secret": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map:bytes"),
        3: ("type", "str"),
        4: ("stringData", "map:str"),
        5: ("immutable", "bool"),
    },
    "ServiceAccount": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("secrets", "rep:msg:ObjectReference"),
        3: ("imagePullSecrets", "rep:msg:LocalObjectReference"),
        4: ("automountServiceAccountToken", "bool"),
    },
    # `kubectl create role|rolebinding|clusterrole|clusterrolebinding`
    "Role": {1: ("metadata", "msg:ObjectMeta"), 2: ("rules", "rep:msg:PolicyRule")},
    "ClusterRole": {1: ("metadata", "msg:ObjectMeta"), 2: ("rules", "rep:msg:PolicyRule")},
    "PolicyRule": {
        1: ("verbs", "rep:str"),
        2: ("apiGroups", "rep:str"),
        3: ("resources", "rep:str"),
        4: ("resourceNames", "rep:str"),
        5: ("nonResourceURLs", "rep:str"),
    },
    "RoleBinding": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("subjects", "rep:msg:Subject"),
        3: ("roleRef", "msg:RoleRef"),
    },
    "ClusterRoleBinding": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("subjects", "rep:msg:Subject"),
        3: ("roleRef", "msg:RoleRef"),
    },
    "Subject": {1: ("kind", "str"), 2: ("apiGroup", "str"), 3: ("name", "str"), 4: ("namespace", "str")},
    "RoleRef": {1: ("apiGroup", "str"), 2: ("kind", "str"), 3: ("name", "str")},
    # `kubectl create token`, `kubectl auth can-i` and `kubectl auth whoami`
    "TokenRequest": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:TokenRequestSpec")},
    "TokenRequestSpec": {
        1: ("audiences", "rep:str"),
        3: ("boundObjectRef", "msg:BoundObjectReference"),
        4: ("expirationSeconds", "int"),
    },
    "BoundObjectReference": {
        1: ("kind", "str"),
        2: ("apiVersion", "str"),
        3: ("name", "str"),
        4: ("uid", "str"),
    },
    "SelfSubjectReview": {1: ("metadata", "msg:ObjectMeta")},
    "SelfSubjectAccessReview": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:SelfSubjectAccessReviewSpec"),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "msg:ResourceAttributes"),
        2: ("nonResourceAttributes", "msg:NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", "str"),
        2: ("verb", "str"),
        3: ("group", "str"),
        4: ("version", "str"),
        5: ("resource", "str"),
        6: ("subresource", "str"),
        7: ("name", "str"),
    },
    "NonResourceAttributes": {1: ("path", "str"), 2: ("verb", "str")},
    "SelfSubjectRulesReview": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:SelfSubjectRulesReviewSpec"),
    },
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "str")},
    # `kubectl autoscale` (autoscaling/v2)
    "HorizontalPodAutoscaler": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:HorizontalPodAutoscalerSpec"),
    },
    "HorizontalPodAutoscalerSpec": {
        1: ("scaleTargetRef", "msg:CrossVersionObjectReference"),
        2: ("minReplicas", "int"),
        3: ("maxReplicas", "int"),
        4: ("metrics", "rep:msg:MetricSpec"),
    },
    "CrossVersionObjectReference": {1: ("kind", "str"), 2: ("name", "str"), 3: ("apiVersion", "str")},
    "MetricSpec": {1: ("type", "str"), 4: ("resource", "msg:ResourceMetricSource")},
    "ResourceMetricSource": {1: ("name", "str"), 2: ("target", "msg:MetricTarget")},
    # `kubectl certificate approve|deny` PUT the whole object to the approval subresource
    "CertificateSigningRequest": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:CertificateSigningRequestSpec"),
        3: ("status", "msg:CertificateSigningRequestStatus"),
    },
    "CertificateSigningRequestSpec": {
        1: ("request", "bytes"),
        2: ("username", "str"),
        3: ("uid", "str"),
        4: ("groups", "rep:str"),
        5: ("usages", "rep:str"),
        7: ("signerName", "str"),
        8: ("expirationSeconds", "int"),
    },
    "CertificateSigningRequestStatus": {
        1: ("conditions", "rep:msg:CertificateSigningRequestCondition"),
        2: ("certificate", "bytes"),
    },
    "CertificateSigningRequestCondition": {
        1: ("type", "str"),
        2: ("reason", "str"),
        3: ("message", "str"),
        4: ("lastUpdateTime", "time"),
        5: ("lastTransitionTime", "time"),
        6: ("status", "str"),
    },
    "MetricTarget": {
        1: ("type", "str"),
        2: ("value", "quantity"),
        3: ("averageValue", "quantity"),
        4: ("averageUtilization", "int"),
    },
}
_TOP_LEVEL = {
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("authentication.k8s.io/v1", "TokenRequest"),
    ("authentication.k8s.io/v1", "SelfSubjectReview"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    ("v1", "Namespace"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "DeleteOptions"),
    ("meta.k8s.io/v1", "DeleteOptions"),
    ("policy/v1", "Eviction"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
}
# int fields that are pointers in Go: an explicit 0 is a value, not an unset field
_KEEP_ZERO = frozenset(
    {
        "replicas",
        "revisionHistoryLimit",
        "progressDeadlineSeconds",
        "terminationGracePeriodSeconds",
        "minReplicas",
        "averageUtilization",
    }
)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(buf):
            raise bad_request("truncated protobuf body")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = _varint(buf, i)
            out.append((num, val))
        elif wire == 2:
            n, i = _varint(buf, i)
            out.append((num, buf[i : i + n]))
            i += n
        elif wire == 1:
            out.append((num, int.from_bytes(buf[i : i + 8], "little")))
            i += 8
        elif wire == 5:
            out.append((num, int.from_bytes(buf[i : i + 4], "little")))
            i += 4
        else:
            raise bad_request(f"unsupported protobuf wire type {wire}")
    return out


def _scalar(typ: str, raw: int | bytes) -> Any:
    if typ == "str":
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    if typ == "bytes":
        return base64.b64encode(raw if isinstance(raw, bytes) else b"").decode()
    if typ == "bool":
        return bool(raw)
    if typ == "int":
        return int(raw) if isinstance(raw, int) else 0
    if typ.startswith("msg:"):
        return _message(typ[4:], raw if isinstance(raw, bytes) else b"")
    if typ == "intstr":
        parts = dict(_fields(raw if isinstance(raw, bytes) else b""))
        if parts.get(1, 0) == 1:
            return _scalar("str", parts.get(3, b""))
        value = parts.get(2, 0)
        return value if isinstance(value, int) else 0
    if typ == "time":  # meta.v1.Time: seconds since the epoch (nanos are dropped, as in JSON)
        seconds = dict(_fields(raw if isinstance(raw, bytes) else b"")).get(1, 0)
        stamp = datetime.fromtimestamp(seconds if isinstance(seconds, int) else 0, UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    if typ == "quantity":
        return _scalar("str", dict(_fields(raw if isinstance(raw, bytes) else b"")).get(1, b""))
    raise bad_request(f"unsupported protobuf field type {typ}")


def _message(name: str, buf: bytes) -> dict[str, Any]:
    schema = _SCHEMAS[name]
    out: dict[str, Any] = {}
    for num, raw in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue
        key, typ = spec
        if typ.startswith("map:"):
            entry = dict(_fields(raw if isinstance(raw, bytes) else b""))
            k = _scalar("str", entry.get(1, b""))
            vtype = {"map:bytes": "bytes", "map:quantity": "quantity"}.get(typ, "str")
            out.setdefault(key, {})[k] = _scalar(vtype, entry.get(2, b""))
        elif typ.startswith("rep:"):
            out.setdefault(key, []).append(_scalar(typ[4:], raw))
        else:
            out[key] = _scalar(typ, raw)
    # proto2 writes empty strings and false for unset Go fields; JSON omits them
    return {
        k: v
        for k, v in out.items()
        if k in _KEEP_ZERO or k == "immutable" or not (v == "" or v is False or (type(v) is int and v == 0))
    }


def decode(body: bytes) -> dict[str, Any]:
    """Turn a protobuf request body into the JSON object it stands for."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf body without the k8s envelope")
    unknown = dict(_fields(body[len(MAGIC) :]))
    tm_raw = unknown.get(1, b"")
    type_meta = dict(_fields(tm_raw if isinstance(tm_raw, bytes) else b""))
    api_version = _scalar("str", type_meta.get(1, b""))
    kind = _scalar("str", type_meta.get(2, b""))
    raw = unknown.get(2, b"")
    if (api_version, kind) not in _TOP_LEVEL or not isinstance(raw, bytes):
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the emulator accepts {kind or 'objects'} ({api_version}) as JSON only; protobuf bodies are "
            "understood for Namespace, ConfigMap, Secret, ServiceAccount, Deployment, Service, RBAC roles "
            "and bindings, TokenRequest, the self reviews, HorizontalPodAutoscaler and "
            "CertificateSigningRequest",
        )
    obj = _message(kind, raw)
    return {"apiVersion": api_version, "kind": kind, **obj}
