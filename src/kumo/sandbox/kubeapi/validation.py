"""Schema validation against the real Kubernetes OpenAPI schemas (``kubernetes-validate`` data).

Compiling a validator is slow (the definitions file is large), so each kind's validator is built
once per process and cached. Kinds the data does not know (Gateway API, metrics) are not
checked; custom resources are checked against their CRD's ``openAPIV3Schema``.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

from kumo.sandbox.kubeapi.catalog import ResourceType

SCHEMA_VERSION = "v1.33.0-local"
_lock = threading.Lock()


def _schema_dir() -> Any:
    return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema").joinpath(SCHEMA_VERSION)


@functools.cache
def _registry() -> Registry[Any]:
    defs = json.loads(_schema_dir().joinpath("_definitions.json").read_text())
    return Resource.from_contents(defs) @ Registry()


@functools.cache
def _validator(kind: str, api_version: str) -> jsonschema.protocols.Validator | None:
    gv = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    ref = _schema_dir().joinpath(f"{kind.lower()}-{gv}.json")
    if not ref.is_file():
        return None
    schema = json.loads(ref.read_text())
    registry = Resource.from_contents(schema) @ _registry()
    cls = jsonschema.validators.Draft202012Validator
    return cls(schema, registry=registry)


def _crd_validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_json)
    return jsonschema.validators.Draft7Validator(_strip_k8s_ext(schema))


_crd_cached = functools.lru_cache(maxsize=256)(_crd_validator)


def _strip_k8s_ext(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_k8s_ext(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if isinstance(node, list):
        return [_strip_k8s_ext(v) for v in node]
    return node


def _path(err: jsonschema.ValidationError) -> str:
    out = ""
    for p in err.absolute_path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


def _cause(err: jsonschema.ValidationError) -> dict[str, str]:
    field = _path(err)
    if err.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        name = missing[0] if missing else ""
        return {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": f"{field}.{name}" if field != "<root>" else name,
        }
    if err.validator == "type":
        return {"reason": "FieldValueTypeInvalid", "message": f"Invalid value: {err.message}", "field": field}
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {err.message}", "field": field}


class SchemaValidator:
    def validate(self, rt: ResourceType, obj: dict[str, Any]) -> list[dict[str, str]]:
        if rt.schema is not None:
            with _lock:
                v = _crd_cached(json.dumps(rt.schema, sort_keys=True))
        else:
            with _lock:
                found = _validator(rt.kind, rt.api_version)
            if found is None:
                return []
            v = found
        # status is written by controllers, which the real server does not hold to "required"
        errs = [e for e in v.iter_errors(obj) if not (e.absolute_path and e.absolute_path[0] == "status")]
        errs.sort(key=lambda e: list(map(str, e.absolute_path)))
        return [_cause(e) for e in errs[:20]]
