"""The three patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge.

Strategic merge reads each list's ``x-kubernetes-patch-strategy`` and ``x-kubernetes-patch-merge-key``
from the kind's schema (:mod:`kumo.kube.listtypes`), as the API server does: containers merge by
``name``, container ports by ``containerPort`` alone (a known quirk of the real server), lists of
scalars with the ``merge`` strategy (finalizers) as sets; every other list is replaced whole.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from kumo.kube.listtypes import SchemaNode, field, item_key, items, list_type
from kumo.sandbox.kubeapi.errors import ApiError, bad_request


def smp_keys(node: SchemaNode | None) -> tuple[str, ...] | None:
    """The merge key of a list under strategic merge, or ``None`` when the list is replaced whole."""
    lt = list_type(node)
    if lt.smp_merges and lt.merge_key:
        return (lt.merge_key,)
    return None


# --- JSON merge patch -------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- JSON patch -------------------------------------------------------------------------------


def json_patch(target: dict[str, Any], ops: Any) -> dict[str, Any]:
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    try:
        result = jsonpatch.JsonPatch(ops).apply(target)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, TypeError) as exc:
        raise ApiError(
            422,
            "Invalid",
            f"the server rejected our request due to an error in our request: {_patch_error(target, ops)}",
        ) from exc
    if not isinstance(result, dict):
        raise bad_request("json patch result is not an object")
    return result


def _patch_error(target: Any, ops: list[Any]) -> str:
    """The first failing operation, worded as the API server's JSON patch library (evanphx/json-patch)
    words it, never with Python's reprs or type names."""
    doc = target
    for op in ops:
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc)
            continue
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, TypeError):
            pass
        if not isinstance(op, dict):
            return "invalid operation: not an object"
        kind, path, src = str(op.get("op", "")), str(op.get("path", "")), str(op.get("from", ""))
        if kind == "test":
            return f"testing value {path} failed: test failed"
        if kind == "remove":
            return f"Unable to remove nonexistent key: {path.rsplit('/', 1)[-1]}: missing value"
        if kind == "replace":
            return f"replace operation does not apply: doc is missing key: {path}: missing value"
        if kind == "add":
            return f'add operation does not apply: doc is missing path: "{path}": missing value'
        if kind in ("move", "copy"):
            return f"{kind} operation does not apply: doc is missing from path: {src}: missing value"
        return f"Unexpected kind: {kind}"
    return "invalid JSON patch"


# --- strategic merge patch --------------------------------------------------------------------


def strategic_merge(target: Any, patch: Any, node: SchemaNode | None = None) -> Any:
    """Apply a strategic merge patch; ``node`` is the schema of ``target`` (``None``: unknown)."""
    if isinstance(patch, dict):
        if not isinstance(target, dict):
            target = {}
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if patch.get("$patch") == "delete":
            return None
        result = dict(target)
        retain = patch.get("$retainKeys")
        for key, value in patch.items():
            if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
                continue
            if key.startswith("$deleteFromPrimitiveList/"):
                name = key.split("/", 1)[1]
                if isinstance(result.get(name), list) and isinstance(value, list):
                    result[name] = [v for v in result[name] if v not in value]
                continue
            if value is None:
                result.pop(key, None)
                continue
            merged = strategic_merge(result.get(key), value, field(node, key))
            if merged is None and isinstance(value, dict) and value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = merged
        if isinstance(retain, list):
            result = {k: v for k, v in result.items() if k in retain}
        return result
    if isinstance(patch, list):
        return _merge_list(target if isinstance(target, list) else [], patch, node)
    return copy.deepcopy(patch)


def _merge_list(target: list[Any], patch: list[Any], node: SchemaNode | None) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    lt = list_type(node)
    if lt.smp_merges and not lt.merge_key:
        out = list(target)
        for v in patch:
            if v not in out:
                out.append(v)
        return out
    keys = smp_keys(node)
    if keys is None:
        return [copy.deepcopy(i) for i in patch]
    sub = items(node)
    result = [copy.deepcopy(i) for i in target]
    for item in patch:
        if not isinstance(item, dict):
            continue
        if item.get("$patch") == "delete":
            k = item_key(item, keys)
            result = [r for r in result if item_key(r, keys) != k]
            continue
        k = item_key(item, keys)
        for idx, existing in enumerate(result):
            if item_key(existing, keys) == k:
                result[idx] = strategic_merge(existing, item, sub)
                break
        else:
            result.append(strategic_merge({}, item, sub))
    return result
