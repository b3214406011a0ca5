"""Field-by-field diff of the rendered release against the live objects.

Only fields kumo manages are compared: every field the rendered object sets, plus fields kumo
applied before (its managedFields entry) that the spec no longer renders. Fields other tools or
controllers own alone (status, defaults, labels added by hand) are not kumo's and never show.
For each difference, the live field's current manager is named, so a `kubectl scale` or
`kubectl edit` made by hand is told apart from a change in kumo.yaml.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kumo.deploy.objects import FIELD_MANAGER, Obj, Ref

Segment = str | int | tuple[tuple[str, Any], ...]
Path = tuple[Segment, ...]


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()
_MERGE_KEYS = ("name", "containerPort", "mountPath", "devicePath", "ip", "topologyKey")
_IGNORED_TOP = {"status"}
_IGNORED_METADATA = {
    "name",
    "namespace",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "managedFields",
}


@dataclass
class FieldChange:
    path: str
    live: Any
    desired: Any
    manager: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "live": None if self.live is MISSING else self.live,
            "desired": None if self.desired is MISSING else self.desired,
            "liveAbsent": self.live is MISSING,
            "desiredAbsent": self.desired is MISSING,
            "changedBy": self.manager,
        }


@dataclass
class ObjectDiff:
    ref: Ref
    action: str  # create, update, prune, unchanged
    changes: list[FieldChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.ref.as_dict(), "action": self.action, "changes": [c.as_dict() for c in self.changes]}


def format_path(path: Path) -> str:
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif isinstance(segment, tuple):
            text += "[" + ",".join(f"{k}={v}" for k, v in segment) + "]"
        else:
            text += f".{segment}" if text else segment
    return text


def _merge_key(desired: list[Any], live: list[Any]) -> str | None:
    if not desired or not all(isinstance(i, dict) for i in desired + live):
        return None
    for key in _MERGE_KEYS:
        if all(key in item for item in desired) and all(key in item for item in live):
            return key
    if all("port" in i for i in desired + live):
        return "port"
    return None


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    # Numbers and quantities may come back as strings (or the other way round).
    return not isinstance(a, (dict, list)) and not isinstance(b, (dict, list)) and str(a) == str(b)


def _walk(desired: Any, live: Any, path: Path, out: list[tuple[Path, Any, Any]]) -> None:
    if isinstance(desired, dict) and isinstance(live, dict):
        for key, value in desired.items():
            if not path and key in _IGNORED_TOP:
                continue
            if path == ("metadata",) and key in _IGNORED_METADATA:
                continue
            if key not in live:
                out.append(((*path, key), MISSING, value))
            else:
                _walk(value, live[key], (*path, key), out)
        return
    if isinstance(desired, list) and isinstance(live, list):
        key = _merge_key(desired, live)
        if key is not None:
            by_key = {item[key]: item for item in live}
            for item in desired:
                segment: Segment = ((key, item[key]),)
                if item[key] not in by_key:
                    out.append(((*path, segment), MISSING, item))
                else:
                    _walk(item, by_key[item[key]], (*path, segment), out)
            return
        if len(desired) == len(live):
            for index, (d, lv) in enumerate(zip(desired, live, strict=True)):
                _walk(d, lv, (*path, index), out)
            return
    if not _same(desired, live):
        out.append((path, live, desired))


def _fields_paths(node: dict[str, Any], path: Path, out: list[Path]) -> None:
    """Leaf paths of a managedFields ``fieldsV1`` tree."""
    children = {k: v for k, v in node.items() if k != "."}
    if not children:
        out.append(path)
        return
    for raw, child in children.items():
        kind, _, rest = raw.partition(":")
        segment: Segment
        if kind == "f":
            segment = rest
        elif kind == "k":
            try:
                segment = tuple(sorted(json.loads(rest).items()))
            except ValueError:
                continue
        elif kind == "i":
            segment = int(rest)
        else:  # "v:" (set members) cannot be compared by path; skip
            continue
        _fields_paths(child if isinstance(child, dict) else {}, (*path, segment), out)


def managed_paths(live: Obj) -> dict[Path, str]:
    """Every leaf field path in ``live`` mapped to its manager (the last manager listed wins)."""
    owners: dict[Path, str] = {}
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        paths: list[Path] = []
        _fields_paths(entry.get("fieldsV1") or {}, (), paths)
        for path in paths:
            owners[path] = str(entry.get("manager") or "")
    return owners


def _kumo_paths(live: Obj) -> list[Path]:
    paths: list[Path] = []
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER and entry.get("operation", "Apply") == "Apply":
            _fields_paths(entry.get("fieldsV1") or {}, (), paths)
    return paths


def _lookup(node: Any, path: Path) -> Any:
    for segment in path:
        if isinstance(segment, tuple):
            if not isinstance(node, list):
                return MISSING
            wanted = dict(segment)
            node = next(
                (i for i in node if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items())),
                MISSING,
            )
        elif isinstance(segment, int):
            if not isinstance(node, list) or segment >= len(node):
                return MISSING
            node = node[segment]
        else:
            if not isinstance(node, dict) or segment not in node:
                return MISSING
            node = node[segment]
        if node is MISSING:
            return MISSING
    return node


def _owner(owners: dict[Path, str], path: Path) -> str | None:
    """The manager of ``path`` or of the nearest field under it that someone owns."""
    if path in owners:
        return owners[path]
    below = [m for p, m in owners.items() if p[: len(path)] == path]
    return below[-1] if below else None


def diff_object(desired: Obj, live: Obj) -> list[FieldChange]:
    raw: list[tuple[Path, Any, Any]] = []
    _walk(desired, live, (), raw)
    owners = managed_paths(live)
    changes = [FieldChange(format_path(p), lv, d, _owner(owners, p)) for p, lv, d in raw]
    seen = {c.path for c in changes}
    for path in _kumo_paths(live):
        if (path and path[0] in ("status",)) or path[:2] == ("metadata", "managedFields"):
            continue
        if _lookup(desired, path) is MISSING:
            value = _lookup(live, path)
            text = format_path(path)
            if value is not MISSING and text not in seen and not _covered(text, seen):
                changes.append(FieldChange(text, value, MISSING, None))
    return changes


def _covered(path: str, seen: set[str]) -> bool:
    return any(path.startswith(prefix + ".") or path.startswith(prefix + "[") for prefix in seen)


def describe(change: FieldChange) -> str:
    live = "(absent)" if change.live is MISSING else json.dumps(change.live, default=str)
    desired = "(absent)" if change.desired is MISSING else json.dumps(change.desired, default=str)
    who = ""
    if change.manager and change.manager != FIELD_MANAGER:
        who = f"   (changed by {change.manager})"
    elif change.desired is MISSING:
        who = "   (no longer in kumo.yaml)"
    return f"{change.path}: {live} -> {desired}{who}"
