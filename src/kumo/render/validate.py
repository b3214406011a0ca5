"""Check rendered objects the way an API server would, offline.

Built-in kinds are validated with kubernetes-validate's strict schemas (unknown fields fail) for
each Kubernetes version asked for. Custom resources, which kubernetes-validate only warns about,
are checked against ``crds.SCHEMAS``; a kind in neither is itself a problem. Label keys and values
are checked for every object, because the schemas leave them as free strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kumo.render.crds import SCHEMAS, cel_problems

DEFAULT_VERSIONS = ("1.29.0", "1.33.0")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')}/{where}{meta.get('name')}"


def _label_problems(obj: dict[str, Any]) -> list[str]:
    problems = []
    label_sets = [("metadata.labels", obj.get("metadata", {}).get("labels", {}))]
    template = obj.get("spec", {}).get("template", {}) if isinstance(obj.get("spec"), dict) else {}
    if isinstance(template, dict) and "metadata" in template:
        label_sets.append(("spec.template.metadata.labels", template["metadata"].get("labels", {})))
    for where, label_set in label_sets:
        for key, value in label_set.items():
            prefix, _, name = key.rpartition("/")
            if (
                (prefix and (len(prefix) > 253 or not _PREFIX.match(prefix)))
                or len(name) > 63
                or not (_LABEL_NAME.match(name))
            ):
                problems.append(f"{where}: invalid label key {key!r}")
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                problems.append(f"{where}.{key}: invalid label value {value!r}")
    return problems


def validate_object(obj: dict[str, Any], versions: Iterable[str] = DEFAULT_VERSIONS) -> list[str]:
    """Problems with one object, each prefixed by kind/namespace/name; empty when it is valid."""
    # Imported here: the schemas are only needed when validating, and loading them slows every command.
    import jsonschema
    import kubernetes_validate

    name = describe(obj)
    problems = [f"{name}: {p}" for p in _label_problems(obj)]
    crd_schema = SCHEMAS.get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if crd_schema is not None:
        validator = jsonschema.Draft202012Validator(crd_schema)
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
            path = ".".join(str(p) for p in error.path)
            problems.append(f"{name}: {path}: {error.message}")
        problems.extend(f"{name}: {p}" for p in cel_problems(obj))
        return problems
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{name}: Kubernetes {version}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: Kubernetes {version}: {exc.message}, and kumo has no schema for it")
    return problems


def validate_objects(
    objects: Iterable[dict[str, Any]], versions: Iterable[str] = DEFAULT_VERSIONS
) -> list[str]:
    versions = tuple(versions)
    problems: list[str] = []
    seen: set[tuple[str, str, str | None, str]] = set()
    for obj in objects:
        meta = obj.get("metadata", {})
        key = (obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace"), meta.get("name", ""))
        if key in seen:
            problems.append(f"{describe(obj)}: rendered twice")
        seen.add(key)
        problems.extend(validate_object(obj, versions))
    return problems
