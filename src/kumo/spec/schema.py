"""JSON Schema export, for editors (yaml-language-server) and for docs."""

from __future__ import annotations

from typing import Any

from kumo.spec.model import Spec


def json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kumo.dev/schema/kumo.v1alpha1.json"
    schema["title"] = "kumo.yaml"
    return schema
