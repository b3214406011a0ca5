"""Schemas for the custom resources render emits.

kubernetes-validate knows only built-in kinds and merely warns about others, so the fields the
CRDs' own OpenAPI schemas and CEL rules require are checked here: Gateway API v1 (Gateway,
HTTPRoute), cert-manager v1 Certificate, and GKE's ManagedCertificate.
"""

from __future__ import annotations

from typing import Any

_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 253,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_SECTION = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
_HOSTNAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 253,
    "pattern": r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _closed(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": _NAME, "namespace": _SECTION, "labels": _STRING_MAP, "annotations": _STRING_MAP},
}

_PARENT_REF = _closed(
    {
        "group": {"type": "string"},
        "kind": {"type": "string"},
        "namespace": _SECTION,
        "name": _NAME,
        "sectionName": _SECTION,
        "port": _PORT,
    },
    ["name"],
)
_BACKEND_REF = _closed(
    {
        "group": {"type": "string"},
        "kind": {"type": "string"},
        "namespace": _SECTION,
        "name": _NAME,
        "port": _PORT,
        "weight": {"type": "integer", "minimum": 0, "maximum": 1000000},
    },
    ["name"],
)
_FILTER = _closed(
    {
        "type": {
            "enum": [
                "RequestHeaderModifier",
                "ResponseHeaderModifier",
                "RequestMirror",
                "RequestRedirect",
                "URLRewrite",
                "ExtensionRef",
            ]
        },
        "requestRedirect": _closed(
            {
                "scheme": {"enum": ["http", "https"]},
                "hostname": _HOSTNAME,
                "port": _PORT,
                "statusCode": {"enum": [301, 302]},
            }
        ),
    },
    ["type"],
)
_MATCH = _closed(
    {
        "path": _closed(
            {
                "type": {"enum": ["Exact", "PathPrefix", "RegularExpression"]},
                "value": {"type": "string", "maxLength": 1024, "pattern": "^/"},
            }
        )
    }
)

SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("gateway.networking.k8s.io/v1", "Gateway"): _closed(
        {
            "apiVersion": {"const": "gateway.networking.k8s.io/v1"},
            "kind": {"const": "Gateway"},
            "metadata": _METADATA,
            "spec": _closed(
                {
                    "gatewayClassName": _SECTION,
                    "listeners": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 64,
                        "items": _closed(
                            {
                                "name": _SECTION,
                                "hostname": _HOSTNAME,
                                "port": _PORT,
                                "protocol": {
                                    "type": "string",
                                    "pattern": r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$",
                                },
                                "tls": _closed(
                                    {
                                        "mode": {"enum": ["Terminate", "Passthrough"]},
                                        "certificateRefs": {
                                            "type": "array",
                                            "maxItems": 64,
                                            "items": _closed(
                                                {
                                                    "group": {"type": "string"},
                                                    "kind": {"type": "string"},
                                                    "name": _NAME,
                                                    "namespace": _SECTION,
                                                },
                                                ["name"],
                                            ),
                                        },
                                        "options": _STRING_MAP,
                                    }
                                ),
                                "allowedRoutes": {"type": "object"},
                            },
                            ["name", "port", "protocol"],
                        ),
                    },
                    "addresses": {"type": "array"},
                    "infrastructure": {"type": "object"},
                },
                ["gatewayClassName", "listeners"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): _closed(
        {
            "apiVersion": {"const": "gateway.networking.k8s.io/v1"},
            "kind": {"const": "HTTPRoute"},
            "metadata": _METADATA,
            "spec": _closed(
                {
                    "parentRefs": {"type": "array", "maxItems": 32, "items": _PARENT_REF},
                    "hostnames": {"type": "array", "maxItems": 16, "items": _HOSTNAME},
                    "rules": {
                        "type": "array",
                        "maxItems": 16,
                        "items": _closed(
                            {
                                "matches": {"type": "array", "maxItems": 64, "items": _MATCH},
                                "filters": {"type": "array", "maxItems": 16, "items": _FILTER},
                                "backendRefs": {"type": "array", "maxItems": 16, "items": _BACKEND_REF},
                            }
                        ),
                    },
                }
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
    ("cert-manager.io/v1", "Certificate"): _closed(
        {
            "apiVersion": {"const": "cert-manager.io/v1"},
            "kind": {"const": "Certificate"},
            "metadata": _METADATA,
            "spec": _closed(
                {
                    "secretName": _NAME,
                    "dnsNames": {"type": "array", "minItems": 1, "items": _HOSTNAME},
                    "commonName": {"type": "string", "maxLength": 64},
                    "issuerRef": _closed(
                        {"name": _NAME, "kind": {"type": "string"}, "group": {"type": "string"}}, ["name"]
                    ),
                },
                ["secretName", "issuerRef"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
    ("networking.gke.io/v1", "ManagedCertificate"): _closed(
        {
            "apiVersion": {"const": "networking.gke.io/v1"},
            "kind": {"const": "ManagedCertificate"},
            "metadata": _METADATA,
            "spec": _closed(
                {
                    "domains": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 100,
                        "items": {"type": "string", "maxLength": 63 * 4, "pattern": r"^[a-z0-9.-]+$"},
                    }
                },
                ["domains"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
}


def cel_problems(obj: dict[str, Any]) -> list[str]:
    """The rules the CRDs state in CEL, which a JSON Schema cannot."""
    problems: list[str] = []
    kind = obj.get("kind")
    spec = obj.get("spec", {})
    if kind == "Gateway":
        names = [listener.get("name") for listener in spec.get("listeners", [])]
        if len(names) != len(set(names)):
            problems.append("spec.listeners: listener names must be unique")
        certmap = "networking.gke.io/certmap" in obj.get("metadata", {}).get("annotations", {})
        for index, listener in enumerate(spec.get("listeners", [])):
            tls = listener.get("tls")
            if listener.get("protocol") == "HTTP" and tls is not None:
                problems.append(f"spec.listeners[{index}].tls: must not be set for protocol HTTP")
            if listener.get("protocol") == "HTTPS" and tls is None and not certmap:
                problems.append(f"spec.listeners[{index}].tls: required for protocol HTTPS")
            if (
                tls
                and tls.get("mode", "Terminate") == "Terminate"
                and not (tls.get("certificateRefs") or tls.get("options"))
            ):
                problems.append(
                    f"spec.listeners[{index}].tls: certificateRefs or options are required to Terminate"
                )
    if kind == "HTTPRoute":
        for index, rule in enumerate(spec.get("rules", [])):
            for ref_index, ref in enumerate(rule.get("backendRefs", [])):
                if ref.get("kind", "Service") == "Service" and "port" not in ref:
                    problems.append(
                        f"spec.rules[{index}].backendRefs[{ref_index}].port: required for a Service"
                    )
            redirects = [f for f in rule.get("filters", []) if f.get("type") == "RequestRedirect"]
            if redirects and rule.get("backendRefs"):
                problems.append(f"spec.rules[{index}]: a RequestRedirect rule cannot also have backendRefs")
    return problems
