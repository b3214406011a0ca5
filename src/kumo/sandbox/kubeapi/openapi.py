"""OpenAPI v3 (per group-version) and v2 (one document) built from the same schema data the
emulator validates with: kubernetes-validate's definitions for built-in kinds and each CRD's
``openAPIV3Schema``. Clients learn which operations exist, that the server validates fields
itself (``fieldValidation``, which ``kubectl apply`` checks before deciding whether to validate on
the client), and every kind's schema with descriptions, which ``kubectl explain`` prints.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from typing import Any

from kumo.kube.listtypes import definitions
from kumo.sandbox.kubeapi.catalog import Catalog, ResourceType

_V3_REF = "#/components/schemas/"
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _convert(node: Any) -> Any:
    """kubernetes-validate's JSON Schema dialect back to the API server's OpenAPI form."""
    if isinstance(node, list):
        return [_convert(v) for v in node]
    if not isinstance(node, dict):
        return node
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and {json.dumps(o.get("type")) for o in one_of if isinstance(o, dict)} == {
        '["string", "null"]',
        '["integer", "null"]',
    }:
        return {"type": "string", "format": "int-or-string", **_keep(node, ("description",))}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$schema", "$id"):
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = _V3_REF + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            if kinds:
                out[key] = kinds[0] if len(kinds) == 1 else kinds
        elif key == "properties" and isinstance(value, dict):
            out[key] = {k: _convert(v) for k, v in value.items()}
        else:
            out[key] = _convert(value)
    if "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores siblings of $ref; the API server wraps it in allOf to keep them
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
    return out


def _keep(node: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: node[k] for k in keys if k in node}


@functools.cache
def _schemas() -> dict[str, Any]:
    return {name: _convert(d) for name, d in definitions().items()}


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for name, d in definitions().items():
        for gvk in d.get("x-kubernetes-group-version-kind") or []:
            out[(str(gvk.get("group", "")), str(gvk.get("version", "")), str(gvk.get("kind", "")))] = name
    return out


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_V3_REF):
            out.add(ref[len(_V3_REF) :])
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def _crd_name(rt: ResourceType) -> str:
    return ".".join([*reversed(rt.group.split(".")), rt.version, rt.kind])


def _crd_schema(rt: ResourceType) -> dict[str, Any]:
    node: dict[str, Any] = _convert(copy.deepcopy(rt.schema or {}))
    props = dict(node.get("properties") or {})
    props["metadata"] = {
        "description": "Standard object's metadata.",
        "allOf": [{"$ref": _V3_REF + _OBJECT_META}],
    }
    props.setdefault("apiVersion", {"type": "string", "description": "APIVersion of this object."})
    props.setdefault("kind", {"type": "string", "description": "Kind of this object."})
    node["properties"] = props
    node.setdefault("type", "object")
    node["x-kubernetes-group-version-kind"] = [{"group": rt.group, "version": rt.version, "kind": rt.kind}]
    return node


def schemas_for(types: list[ResourceType]) -> dict[str, Any]:
    """Every schema the kinds in ``types`` reach, keyed as the API server names them."""
    builtin = _schemas()
    out: dict[str, Any] = {}
    todo: set[str] = set()
    for rt in types:
        if rt.schema is not None:
            out[_crd_name(rt)] = _crd_schema(rt)
            _refs(out[_crd_name(rt)], todo)
            continue
        name = _by_gvk().get((rt.group, rt.version, rt.kind))
        if name is not None:
            todo.add(name)
    while todo:
        name = todo.pop()
        if name in out or name not in builtin:
            continue
        out[name] = builtin[name]
        _refs(builtin[name], todo)
    return out


_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def index(catalog: Catalog) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, versions in catalog.groups().items():
        for v in versions:
            p = _gv_path(group, v)
            kinds = sorted(
                (rt.kind, json.dumps(rt.schema, sort_keys=True)) for rt in catalog.in_group_version(group, v)
            )
            digest = hashlib.sha256(f"{p}|{kinds}".encode()).hexdigest()[:16].upper()
            paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={digest}"}
    return {"paths": paths}


def group_version_doc(catalog: Catalog, group: str, version: str) -> dict[str, Any] | None:
    types = catalog.in_group_version(group, version)
    if not types:
        return None
    params = [
        {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for n in _QUERY_PARAMS
    ]
    paths: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        base = f"/{_gv_path(group, version)}"
        base += f"/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"/{rt.plural}"
        op: dict[str, Any] = {
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params,
            "responses": {"200": {"description": "OK"}},
        }
        item: dict[str, Any] = {"get": {**op, "x-kubernetes-action": "get"}}
        if "patch" in rt.verbs:
            item["patch"] = {**op, "x-kubernetes-action": "patch"}
            item["put"] = {**op, "x-kubernetes-action": "put"}
        if "delete" in rt.verbs:
            item["delete"] = {**op, "x-kubernetes-action": "delete"}
        paths[f"{base}/{{name}}"] = item
        coll: dict[str, Any] = {"get": {**op, "x-kubernetes-action": "list"}}
        if "create" in rt.verbs:
            coll["post"] = {**op, "x-kubernetes-action": "post"}
        paths[base] = coll
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0-kumo"},
        "paths": paths,
        "components": {"schemas": schemas_for(types)},
    }


def swagger_v2(catalog: Catalog) -> dict[str, Any]:
    """``/openapi/v2``: every served kind's schema under ``definitions`` (Swagger 2.0)."""
    types = [rt for rt in catalog.types() if not rt.virtual]
    defs = json.loads(json.dumps(schemas_for(types)).replace(_V3_REF, "#/definitions/"))
    for d in defs.values():
        _unwrap_all_of(d)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0-kumo"},
        "paths": {},
        "definitions": defs,
    }


def _unwrap_all_of(node: Any) -> None:
    """Swagger 2.0 keeps ``$ref`` with siblings; the v3 ``allOf`` wrapper is undone."""
    if isinstance(node, dict):
        all_of = node.get("allOf")
        if (
            isinstance(all_of, list)
            and len(all_of) == 1
            and isinstance(all_of[0], dict)
            and "$ref" in all_of[0]
        ):
            node.pop("allOf")
            node["$ref"] = all_of[0]["$ref"]
        for v in node.values():
            _unwrap_all_of(v)
    elif isinstance(node, list):
        for v in node:
            _unwrap_all_of(v)
