"""Writing objects as a YAML stream or as one file per object."""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from kumo.errors import UsageError


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
# The first line of every file `kumo render -o` writes. Only files that carry it are ever replaced or
# removed by a later render: a hand-written file in the directory is never touched.
MARKER = "# Written by `kumo render -o`: the next render into this directory replaces or removes this file.\n"


def _is_ours(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8") as handle:
            return handle.read(len(MARKER)) == MARKER
    except (OSError, UnicodeDecodeError):
        return False


def write_directory(objects: list[dict[str, Any]], directory: Path) -> list[Path]:
    """Write one file per object. Files of an earlier render (those with ``MARKER``) are removed
    first, so that ``kubectl apply -f DIR`` never applies an object the spec no longer has. Any
    other file stays; if one has the name a new file needs, nothing is written and nothing removed.
    Each file is written to a temporary name and renamed, so none is ever half-written."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: exists and is not a directory", "Pass a directory for --output-dir.")
    names = [file_name(index, obj) for index, obj in enumerate(objects, start=1)]
    existing = [p for p in directory.iterdir() if p.is_file() or p.is_symlink()] if directory.exists() else []
    ours = {p.name for p in existing if p.is_file() and not p.is_symlink() and _is_ours(p)}
    theirs = sorted(p.name for p in existing if p.name in set(names) and p.name not in ours)
    if theirs:
        raise UsageError(
            f"{directory}: {', '.join(theirs)} {'was' if len(theirs) == 1 else 'were'} not written by "
            "kumo render (no marker line); nothing was written",
            "Move those files away, or render into another directory.",
        )
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, obj in zip(names, objects, strict=True):
        path = directory / name
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(MARKER + to_yaml_stream([obj]).removeprefix("---\n"))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(path)
    for stale in ours - set(names):
        if _RENDERED.match(stale):
            (directory / stale).unlink(missing_ok=True)
    return written
