"""A minimal OpenAPI v3 surface: enough for clients to learn which operations exist and that the
server validates fields itself (``fieldValidation``), which is what ``kubectl apply`` checks
before deciding whether to validate on the client."""

from __future__ import annotations

import hashlib
from typing import Any

from kumo.sandbox.kubeapi.catalog import Catalog

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def index(catalog: Catalog) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, versions in catalog.groups().items():
        for v in versions:
            p = _gv_path(group, v)
            digest = hashlib.sha256(p.encode()).hexdigest()[:16].upper()
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
        "components": {"schemas": {}},
    }
