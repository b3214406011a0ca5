"""Schema validation against the real Kubernetes OpenAPI schemas (``kubernetes-validate`` data).

Each kind's schema is made self-contained (its ``$ref``s into ``_definitions.json`` inlined, a
recursive reference accepting anything) and compiled to Python with fastjsonschema once per
process, then cached: a Service validates in about 0.1 ms, where interpreting the schema with
jsonschema takes 5 ms. Kinds the data does not know (Gateway API, metrics) are not checked;
custom resources are checked against their CRD's ``openAPIV3Schema``. Like the real server's
OpenAPI check, ``status`` is not held to the schema (controllers write it), and the first error
found is reported as the cause.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import os
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import re2

from kumo.kube.listtypes import KEY_DEFAULTS, duplicate_keys, schema_for
from kumo.sandbox.kubeapi.catalog import ResourceType

SCHEMA_VERSION = "v1.33.0-local"
_DROP = frozenset({"description", "format", "$schema", "$id", "nullable"})
_lock = threading.Lock()

Check = Callable[[Any], Any]


def _schema_dir() -> Any:
    return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema").joinpath(SCHEMA_VERSION)


@functools.cache
def _definitions() -> dict[str, Any]:
    defs: dict[str, Any] = json.loads(_schema_dir().joinpath("_definitions.json").read_text())["$defs"]
    return defs


def _inline(node: Any, defs: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in stack or name not in defs:
                return {}
            return _inline(defs[name], defs, (*stack, name))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP or key.startswith("x-kubernetes"):
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {pk: _inline(pv, defs, stack) for pk, pv in value.items()}
            else:
                out[key] = _inline(value, defs, stack)
        return _type_union(out)
    if isinstance(node, list):
        return [_inline(v, defs, stack) for v in node]
    return node


def _type_union(node: dict[str, Any]) -> dict[str, Any]:
    """``oneOf`` of branches that only name types (int-or-string: ``[{type: [string, null]},
    {type: [integer, null]}]``) as one ``type`` list. The generated validator tries each branch by
    raising and catching an exception that formats every local of the function (~0.2 ms each, ten
    times per Deployment); and the API server takes null for an int-or-string (as if omitted), which
    the ``oneOf`` refused because null matched both branches."""
    branches = node.get("oneOf")
    if not isinstance(branches, list):
        return node
    if not all(isinstance(b, dict) and b.keys() == {"type"} for b in branches):
        return node
    types: list[str] = []
    for branch in branches:
        for typ in branch["type"] if isinstance(branch["type"], list) else [branch["type"]]:
            if typ not in types:
                types.append(typ)
    rest = {k: v for k, v in node.items() if k != "oneOf"}
    return {**rest, "type": types}


@functools.cache
def _builtin_schema(kind: str, api_version: str) -> dict[str, Any] | None:
    gv = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    ref = _schema_dir().joinpath(f"{kind.lower()}-{gv}.json")
    if not ref.is_file():
        return None
    schema: dict[str, Any] = _inline(json.loads(ref.read_text()), _definitions())
    schema.get("properties", {}).pop("status", None)
    return schema


def _cache_dir() -> Path:
    base = os.environ.get("KUMO_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kumo" / "kubeapi-schemas"


def _trusted(info: os.stat_result, kind: int) -> bool:
    """Ours alone: owned by this user, of the expected type, and writable by nobody else."""
    return (
        stat.S_IFMT(info.st_mode) == kind
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _trusted_dir(directory: Path) -> bool:
    try:
        return all(_trusted(os.lstat(d), stat.S_IFDIR) for d in (directory, directory.parent))
    except OSError:
        return False


def _read_cached(path: Path) -> Any:
    """The cached code object, only from a regular file (not a symlink) in a directory that are
    both this user's and writable by no one else: the cache holds code that is executed, so a
    file someone else could have written or planted is never loaded."""
    if not _trusted_dir(path.parent):
        return None
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            if _trusted(os.fstat(handle.fileno()), stat.S_IFREG):
                return marshal.loads(handle.read())
    return None


def _write_cached(path: Path, code: Any) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted_dir(path.parent):
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # mode 0600, a fresh name
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(code))
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)


class _NotRe2:
    """Stands for a ``pattern`` that Go's regexp (RE2) cannot compile, as the API server would refuse."""

    def __init__(self, pattern: str, why: str) -> None:
        self.pattern, self.why = pattern, why

    def search(self, value: str) -> None:
        raise fastjsonschema.JsonSchemaValueException(
            f"data must match pattern {self.pattern}, which is not a valid RE2 expression: {self.why}",
            value=value,
            name="data",
            rule="pattern",
        )


def _linear_patterns(patterns: dict[str, Any]) -> dict[str, Any]:
    """The schema's ``pattern``s compiled with RE2, as the API server (Go's regexp) does: matching is
    linear in the input, so ``^(a+)+$`` cannot make a request backtrack for minutes. The keys are the
    patterns as written (fastjsonschema's values rewrite ``$`` for Python's ``re``)."""
    options = re2.Options()
    options.log_errors = False
    out: dict[str, Any] = {}
    for pattern in patterns:
        try:
            out[pattern] = re2.compile(pattern, options)
        except re2.error as exc:
            out[pattern] = _NotRe2(pattern, str(exc.args[0] if exc.args else exc))
    return out


def _load(code: Any) -> Check:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    namespace["REGEX_PATTERNS"] = _linear_patterns(namespace.get("REGEX_PATTERNS") or {})
    check: Check = namespace["validate"]
    return check


def _compile(schema: dict[str, Any], label: str, cache: bool = True) -> Check:
    """Compile a schema to a validator; the compiled code is cached on disk between processes,
    because generating it takes about a second for a Pod or Deployment."""
    text = json.dumps(schema, sort_keys=True)
    key = hashlib.sha256(f"{fastjsonschema.VERSION}|{sys.version}|{text}".encode()).hexdigest()[:32]
    path = _cache_dir() / f"{key}.marshal"
    code = _read_cached(path) if cache else None
    if code is None:
        code = compile(fastjsonschema.compile_to_code(schema), f"<kubeapi schema {label}>", "exec")
        if cache:
            _write_cached(path, code)
    return _load(code)


@functools.cache
def _builtin(kind: str, api_version: str) -> Check | None:
    schema = _builtin_schema(kind, api_version)
    if schema is None:
        return None
    return _compile(schema, f"{api_version}/{kind}")


def _unknown(schema: Any, value: Any, path: str, out: list[str], drop: bool = False) -> None:
    """Paths of fields ``schema`` does not declare (removed from ``value`` when ``drop``)."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields") is True:
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in list(value.items()):
            where = f"{path}.{key}" if path else key
            if isinstance(props, dict) and key in props:
                _unknown(props[key], sub, where, out, drop)
            elif isinstance(extra, dict):
                _unknown(extra, sub, where, out, drop)
            elif isinstance(props, dict) and extra is None:
                out.append(where)
                if drop:
                    del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for idx, item in enumerate(value):
            _unknown(schema["items"], item, f"{path}[{idx}]", out, drop)


@functools.lru_cache(maxsize=256)
def _custom(schema_json: str) -> Check:
    schema = _inline(json.loads(schema_json), {})
    schema.get("properties", {}).pop("status", None)
    return _compile(schema, "custom resource", cache=False)  # small; not worth a disk cache


def _cause(err: fastjsonschema.JsonSchemaValueException) -> dict[str, str]:
    field = re.sub(r"^data\.?", "", err.name or "") or "<root>"
    message = re.sub(r"^data[.\[\]\w-]*\s", "", err.message)
    if err.rule == "required" and isinstance(err.value, dict):
        missing = [r for r in (err.rule_definition or []) if r not in err.value]
        name = missing[0] if missing else ""
        return {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": f"{field}.{name}" if field != "<root>" else name,
        }
    if err.rule == "type":
        return {
            "reason": "FieldValueTypeInvalid",
            "message": f"Invalid value: {err.value!r}: {message}",
            "field": field,
        }
    if err.rule == "enum":
        return {
            "reason": "FieldValueNotSupported",
            "message": f"Unsupported value: {err.value!r}: supported values: "
            + ", ".join(f'"{v}"' for v in err.rule_definition or []),
            "field": field,
        }
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {message}", "field": field}


# Keyed lists where the API server's validation only warns about a repeated key (env variables
# and container ports: existing workloads have them); everywhere else a repeat is invalid.
_DUPLICATES_WARN_ONLY = re.compile(
    r"(?:containers|initContainers|ephemeralContainers)\[\d+\]\.(?:env|ports)\[\d+\]$"
)


def duplicate_causes(rt: ResourceType, obj: dict[str, Any]) -> list[dict[str, str]]:
    """``FieldValueDuplicate`` causes for items of ``map``-type lists whose keys repeat."""
    out: list[dict[str, str]] = []
    for path, key in duplicate_keys(obj, schema_for(rt.api_version, rt.kind, rt.schema), "", KEY_DEFAULTS):
        if _DUPLICATES_WARN_ONLY.search(path):
            continue
        shown = json.dumps(key, sort_keys=True, separators=(",", ":"))
        out.append({"reason": "FieldValueDuplicate", "message": f"Duplicate value: {shown}", "field": path})
    return out[:1]


class SchemaValidator:
    """Checks objects against their kind's schema; returns ``Status`` causes (empty when valid)."""

    def validate(self, rt: ResourceType, obj: dict[str, Any]) -> list[dict[str, str]]:
        with _lock:
            if rt.schema is not None:
                check: Check | None = _custom(json.dumps(rt.schema, sort_keys=True))
            else:
                check = _builtin(rt.kind, rt.api_version)
        if check is None:
            return []
        body = {k: v for k, v in obj.items() if k != "status"}
        try:
            check(body)
        except fastjsonschema.JsonSchemaValueException as err:
            return [_cause(err)]
        return duplicate_causes(rt, body)

    def unknown_fields(self, rt: ResourceType, obj: dict[str, Any], drop: bool = False) -> list[str]:
        """Fields the kind's schema does not declare: a 400 under ``fieldValidation=Strict``, else
        removed (``drop``) with a warning, as the API server does. A custom resource is pruned by
        its CRD's structural schema, except under ``x-kubernetes-preserve-unknown-fields``."""
        if rt.schema is not None:
            schema: dict[str, Any] | None = {
                **rt.schema,
                "properties": {
                    **(rt.schema.get("properties") or {}),
                    "apiVersion": {},
                    "kind": {},
                    "metadata": {"x-kubernetes-preserve-unknown-fields": True},
                },
            }
        else:
            with _lock:
                schema = _builtin_schema(rt.kind, rt.api_version)
        out: list[str] = []
        if schema is not None and schema.get("properties"):
            body = obj if drop else {k: v for k, v in obj.items() if k != "status"}
            _unknown(
                {
                    **schema,
                    "properties": {
                        **schema["properties"],
                        "status": {"x-kubernetes-preserve-unknown-fields": True},
                    },
                },
                body,
                "",
                out,
                drop,
            )
        return out
