"""Writing objects as a YAML stream or as one file per object."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 4096
    # Objects share sub-structures (selectors, verb lists); anchors would only confuse readers.
    yaml.representer.ignore_aliases = lambda data: True
    return yaml


def to_yaml_stream(objects: Iterable[dict[str, Any]]) -> str:
    yaml = _yaml()
    parts = []
    for obj in objects:
        buffer = io.StringIO()
        yaml.dump(obj, buffer)
        parts.append("---\n" + buffer.getvalue())
    return "".join(parts)


def file_name(index: int, obj: dict[str, Any]) -> str:
    """``NN-<namespace>-<kind>-<name>.yaml``: sorted by name, it is the apply order."""
    meta = obj.get("metadata", {})
    parts = [meta.get("namespace") or "cluster", obj["kind"].lower(), meta["name"]]
    stem = "-".join(re.sub(r"[^a-z0-9.-]+", "-", part.lower()) for part in parts)
    return f"{index:02d}-{stem}.yaml"


_RENDERED = re.compile(r"^\d{2,}-[a-z0-9.-]+\.yaml$")


def write_directory(objects: list[dict[str, Any]], directory: Path) -> list[Path]:
    """Write one file per object. Files of an earlier render are removed first, so that
    ``kubectl apply -f DIR`` never applies an object the spec no longer has; other files stay."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.is_file() and _RENDERED.match(stale.name):
            stale.unlink()
    written = []
    for index, obj in enumerate(objects, start=1):
        path = directory / file_name(index, obj)
        path.write_text(to_yaml_stream([obj]).removeprefix("---\n"), encoding="utf-8")
        written.append(path)
    return written
