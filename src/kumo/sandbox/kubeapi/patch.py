"""The three patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge.

Strategic merge and server-side apply both need to know which lists are maps keyed by a field
(containers by ``name``, ports by ``containerPort``...). That knowledge lives in :func:`list_keys`
and is shared with :mod:`kumo.sandbox.kubeapi.apply`.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from kumo.sandbox.kubeapi.errors import ApiError, bad_request

# Lists merged by key, named by field. "ports" is decided by its items (container vs Service port).
_KEYED: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": ("name",),
    "readinessGates": ("conditionType",),
    "containerStatuses": ("name",),
    "initContainerStatuses": ("name",),
}
# Lists of scalars merged as sets.
SET_LISTS = frozenset({"finalizers"})


def list_keys(field: str, items: list[Any]) -> tuple[str, ...] | None:
    """The merge keys of a list field, or ``None`` when the list is atomic (replaced whole)."""
    if field == "ports":
        dicts = [i for i in items if isinstance(i, dict)]
        if dicts and all("containerPort" in i for i in dicts):
            return ("containerPort",)
        if dicts and all("port" in i for i in dicts):
            return ("port",)
        return None
    return _KEYED.get(field)


def item_key(item: Any, keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    if not isinstance(item, dict):
        return None
    return tuple(item.get(k) for k in keys)


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
    except jsonpatch.JsonPatchTestFailed as exc:
        raise ApiError(
            422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
        ) from exc
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, TypeError) as exc:
        raise ApiError(
            422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
        ) from exc
    if not isinstance(result, dict):
        raise bad_request("json patch result is not an object")
    return result


# --- strategic merge patch --------------------------------------------------------------------


def strategic_merge(target: Any, patch: Any, field: str = "") -> Any:
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
            merged = strategic_merge(result.get(key), value, key)
            if merged is None and isinstance(value, dict) and value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = merged
        if isinstance(retain, list):
            result = {k: v for k, v in result.items() if k in retain}
        return result
    if isinstance(patch, list):
        return _merge_list(target if isinstance(target, list) else [], patch, field)
    return copy.deepcopy(patch)


def _merge_list(target: list[Any], patch: list[Any], field: str) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if field in SET_LISTS:
        out = list(target)
        for v in patch:
            if v not in out:
                out.append(v)
        return out
    keys = list_keys(field, [i for i in patch if not (isinstance(i, dict) and "$patch" in i)] or target)
    if keys is None:
        return [copy.deepcopy(i) for i in patch]
    result = [copy.deepcopy(i) for i in target]
    for item in patch:
        if not isinstance(item, dict):
            continue
        if item.get("$patch") == "delete":
            k = item_key(item, tuple(kk for kk in keys if kk in item) or keys)
            result = [r for r in result if item_key(r, tuple(kk for kk in keys if kk in item) or keys) != k]
            continue
        k = item_key(item, keys)
        for idx, existing in enumerate(result):
            if item_key(existing, keys) == k:
                result[idx] = strategic_merge(existing, item)
                break
        else:
            result.append(strategic_merge({}, item))
    return result
