"""docs/spec.md: a field reference of kumo.yaml, generated from its JSON Schema.

`kumo schema --format markdown > docs/spec.md` writes it; a test keeps the file in step with the
model, so every field's description lives in one place (the pydantic model).
"""

from __future__ import annotations

import json
from typing import Any

from kumo.spec.schema import json_schema

HEADER = """# kumo.yaml field reference

Generated from the JSON Schema (`kumo schema --format markdown > docs/spec.md`); do not edit by hand.
Keys are camelCase. Start with the root, then follow the links.
"""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(node: dict[str, Any]) -> str:
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        return f"[{name}](#{name.lower()})"
    if "anyOf" in node:
        kinds = [_type(n) for n in node["anyOf"] if n.get("type") != "null"]
        nullable = any(n.get("type") == "null" for n in node["anyOf"])
        return " or ".join(kinds) + (" or null" if nullable else "")
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " or ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type(node.get('items') or {})}"
    if kind == "object":
        values = node.get("additionalProperties")
        keys = node.get("propertyNames")
        key = _type(keys) if isinstance(keys, dict) and keys else "name"
        if isinstance(values, dict):
            return f"map of {key} to {_type(values)}"
        return "object"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    return str(kind or "any")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: dict[str, Any]) -> list[str]:
    required = set(model.get("required") or [])
    lines = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, node in (model.get("properties") or {}).items():
        default = "required" if name in required else f"`{json.dumps(node.get('default'))}`"
        if name not in required and "default" not in node:
            default = ""
        description = node.get("description") or ""
        lines.append(f"| `{name}` | {_cell(_type(node))} | {_cell(default)} | {_cell(description)} |")
    return lines


def field_reference() -> str:
    schema = json_schema()
    definitions: dict[str, Any] = schema.get("$defs") or {}
    out = [HEADER, "## kumo.yaml (root)", ""]
    if schema.get("description"):
        out += [schema["description"], ""]
    out += _table(schema)
    for name in sorted(definitions):
        model = definitions[name]
        out += ["", f"## {name}", ""]
        if model.get("description"):
            out += [_cell(model["description"]), ""]
        if "properties" in model:
            out += _table(model)
        elif "enum" in model:
            out.append("One of " + ", ".join(f"`{json.dumps(v)}`" for v in model["enum"]) + ".")
    return "\n".join(out) + "\n"
