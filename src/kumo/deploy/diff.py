"""Field-by-field diff of what `kumo up` would make of an object against the object as it is live.

The "after" side is not computed here: it is the server's own answer to a server-side dry-run
apply of the rendered object (as `kubectl diff --server-side` does). The server merges lists by
their schema (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`), keeps what other managers
own, and drops what kumo applied before but no longer renders; so this module only compares two
complete objects and needs no knowledge of list keys. Where the server names a list item by its
keys (``k:{...}`` in managedFields), the path shows those keys (``containers[name=web]``);
elsewhere it shows the index.

For each difference the live field's current manager is named, so a `kubectl scale` or
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
_IGNORED_TOP = {"status"}
#: Bookkeeping the server changes on every write (a dry-run included); never a change of kumo's.
_IGNORED_METADATA = {
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
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


def _walk(
    after: Any,
    live: Any,
    where: _Where,
    out: list[tuple[Path, Path, Any, Any]],
) -> None:
    if isinstance(after, dict) and isinstance(live, dict):
        for key in list(after) + [k for k in live if k not in after]:
            if not where.shown and key in _IGNORED_TOP:
                continue
            if where.shown == ("metadata",) and key in _IGNORED_METADATA:
                continue
            _walk(after.get(key, MISSING), live.get(key, MISSING), where.key(key), out)
        return
    if isinstance(after, list) and isinstance(live, list):
        after_keys = [where.after_fields.labels.get((*where.after, i)) for i in range(len(after))]
        live_keys = [where.live_fields.labels.get((*where.live, i)) for i in range(len(live))]
        if all(k is not None for k in after_keys + live_keys):
            # The server named every item by its list-map keys: match items by them.
            live_at = {k: i for i, k in enumerate(live_keys)}
            after_at = {k: i for i, k in enumerate(after_keys)}
            for key in after_keys + [k for k in live_keys if k not in after_at]:
                assert key is not None
                a, lv = after_at.get(key), live_at.get(key)
                _walk(
                    after[a] if a is not None else MISSING,
                    live[lv] if lv is not None else MISSING,
                    where.item(a, lv, key),
                    out,
                )
            return
        for index in range(max(len(after), len(live))):
            _walk(
                after[index] if index < len(after) else MISSING,
                live[index] if index < len(live) else MISSING,
                where.item(index, index, index),
                out,
            )
        return
    if after is MISSING and live is MISSING:
        return
    if after != live:
        out.append((where.shown, where.live, live, after))


def _fields_paths(node: dict[str, Any], path: tuple[str, ...], out: list[tuple[str, ...]]) -> None:
    """Leaf paths of a managedFields ``fieldsV1`` tree, as its raw ``f:``/``k:``/``i:`` segments."""
    children = {k: v for k, v in node.items() if k != "."}
    if not children:
        out.append(path)
        return
    for raw, child in children.items():
        _fields_paths(child if isinstance(child, dict) else {}, (*path, raw), out)


def _resolve(obj: Any, raw_path: tuple[str, ...]) -> tuple[Path, Path] | None:
    """A ``fieldsV1`` path as (index path into ``obj``, the same path labelled with item keys)."""
    node = obj
    indexed: list[Segment] = []
    labelled: list[Segment] = []
    for raw in raw_path:
        kind, _, rest = raw.partition(":")
        if kind == "f" and isinstance(node, dict):
            indexed.append(rest)
            labelled.append(rest)
            node = node.get(rest, MISSING)
        elif kind == "k" and isinstance(node, list):
            try:
                wanted = json.loads(rest)
            except ValueError:
                return None
            index = next(
                (
                    i
                    for i, item in enumerate(node)
                    if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
                ),
                None,
            )
            if index is None:
                return None
            indexed.append(index)
            labelled.append(tuple(wanted.items()))
            node = node[index]
        elif kind == "i" and isinstance(node, list) and rest.isdigit() and int(rest) < len(node):
            indexed.append(int(rest))
            labelled.append(int(rest))
            node = node[int(rest)]
        else:  # "v:" (set members) and anything not present in this object
            return None
        if node is MISSING:
            return None
    return tuple(indexed), tuple(labelled)


@dataclass
class _Fields:
    """What an object's managedFields say: each field's manager, and the server's names for items."""

    owners: dict[Path, str] = field(default_factory=dict)
    labels: dict[Path, Segment] = field(default_factory=dict)

    @classmethod
    def of(cls, obj: Obj) -> _Fields:
        found = cls()
        for entry in (obj.get("metadata") or {}).get("managedFields") or []:
            raw_paths: list[tuple[str, ...]] = []
            _fields_paths(entry.get("fieldsV1") or {}, (), raw_paths)
            for raw in raw_paths:
                resolved = _resolve(obj, raw)
                if resolved is None:
                    continue
                indexed, labelled = resolved
                found.owners[indexed] = str(entry.get("manager") or "")
                for depth, segment in enumerate(labelled):
                    if isinstance(segment, tuple):
                        found.labels[indexed[: depth + 1]] = segment
        return found

    def owner(self, path: Path) -> str | None:
        """The manager of ``path``, or of the nearest field under or above it that someone owns."""
        if path in self.owners:
            return self.owners[path]
        below = [m for p, m in self.owners.items() if p[: len(path)] == path]
        if below:
            return below[-1]
        for depth in range(len(path) - 1, 0, -1):
            if path[:depth] in self.owners:
                return self.owners[path[:depth]]
        return None


@dataclass(frozen=True)
class _Where:
    """A position during the walk: its index path on each side, and the path as shown."""

    after_fields: _Fields
    live_fields: _Fields
    after: Path = ()
    live: Path = ()
    shown: Path = ()

    def key(self, key: str) -> _Where:
        return _Where(
            self.after_fields, self.live_fields, (*self.after, key), (*self.live, key), (*self.shown, key)
        )

    def item(self, after: int | None, live: int | None, shown: Segment) -> _Where:
        # A side without the item keeps an index no object has, so nothing below it resolves.
        return _Where(
            self.after_fields,
            self.live_fields,
            (*self.after, -1 if after is None else after),
            (*self.live, -1 if live is None else live),
            (*self.shown, shown),
        )


def diff_object(after: Obj, live: Obj) -> list[FieldChange]:
    """Every field where ``after`` (the server's dry-run result of kumo's apply) differs from ``live``."""
    raw: list[tuple[Path, Path, Any, Any]] = []
    live_fields = _Fields.of(live)
    _walk(after, live, _Where(_Fields.of(after), live_fields), raw)
    return [
        FieldChange(format_path(shown), live_value, after_value, live_fields.owner(live_path))
        for shown, live_path, live_value, after_value in raw
    ]


def describe(change: FieldChange) -> str:
    live = "(absent)" if change.live is MISSING else json.dumps(change.live, default=str)
    desired = "(absent)" if change.desired is MISSING else json.dumps(change.desired, default=str)
    who = ""
    if change.manager and change.manager != FIELD_MANAGER:
        who = f"   (changed by {change.manager})"
    elif change.desired is MISSING:
        who = "   (no longer in kumo.yaml)"
    return f"{change.path}: {live} -> {desired}{who}"
