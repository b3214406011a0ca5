"""Server-side apply: field sets, managedFields bookkeeping, conflicts and removal of dropped fields.

A field set is a ``set`` of paths; a path is a tuple of fieldsV1 elements (``f:spec``,
``k:{"name":"web"}`` for an item of a keyed list, ``v:"x"`` for a member of a set list). A path
names a leaf (a scalar, an atomic list, an empty map) or, for keyed-list items, the item itself.
The same representation tracks ``Update`` managers, so a PUT or patch that changes a field takes
ownership of it away from whoever applied it, as on a real API server.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

import orjson

from kumo.kube.listtypes import KEY_DEFAULTS, SchemaNode, field, items, list_type, schema_for
from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.errors import ApiError

Node = SchemaNode | None
Path = tuple[str, ...]
FieldSet = set[Path]

_MISSING = object()
# Metadata the server owns; never part of anyone's field set.
_SERVER_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generateName",
    }
)


def schema_of(rt: ResourceType | None) -> Node:
    """The schema whose list types drive merges of ``rt``'s objects."""
    if rt is None:
        return None
    return schema_for(rt.api_version, rt.kind, rt.schema)


def ssa_keys(node: Node) -> tuple[str, ...] | None:
    lt = list_type(node)
    return lt.keys if lt.kind == "map" and lt.keys else None


def key_of(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: item.get(k, KEY_DEFAULTS.get(k)) for k in keys if k in item or k in KEY_DEFAULTS}


def _matches(item: Any, want: dict[str, Any]) -> bool:
    return isinstance(item, dict) and all(item.get(k, KEY_DEFAULTS.get(k)) == v for k, v in want.items())


def _dumps_key(d: dict[str, Any]) -> str:
    return orjson.dumps(d, option=orjson.OPT_SORT_KEYS).decode()


def fieldset(obj: dict[str, Any], rt: ResourceType | None, subresource: str | None = None) -> FieldSet:
    """The paths an object sets, limited to what the (sub)resource lets a client write."""
    out: FieldSet = set()
    root = schema_of(rt)
    for key, value in _writable(obj, rt, subresource).items():
        if key == "metadata" and isinstance(value, dict):
            meta = field(root, "metadata")
            for mk, mv in value.items():
                _walk(mv, ("f:metadata", "f:" + mk), field(meta, mk), out)
            continue
        _walk(value, ("f:" + key,), field(root, key), out)
    return out


def _walk(node: Any, prefix: Path, schema: Node, out: FieldSet) -> None:
    if node is None:
        return
    if isinstance(node, dict):
        if not node:
            out.add(prefix)
        for k, v in node.items():
            _walk(v, (*prefix, "f:" + k), field(schema, k), out)
        return
    if isinstance(node, list):
        lt = list_type(schema)
        if lt.kind == "set" and node:
            for v in node:
                out.add((*prefix, "v:" + orjson.dumps(v).decode()))
            return
        keys = ssa_keys(schema)
        if keys and node and all(isinstance(i, dict) for i in node):
            sub = items(schema)
            for item in node:
                ip = (*prefix, "k:" + _dumps_key(key_of(item, keys)))
                out.add(ip)
                for k, v in item.items():
                    _walk(v, (*ip, "f:" + k), field(sub, k), out)
            return
        out.add(prefix)
        return
    out.add(prefix)


def _writable(obj: dict[str, Any], rt: ResourceType | None, subresource: str | None) -> dict[str, Any]:
    """The part of an object a (sub)resource write owns, keyed like a field set's first levels."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "status" and rt is not None and rt.has_status and subresource != "status":
            continue
        if subresource == "status" and key != "status":
            continue
        if key == "metadata" and isinstance(value, dict):
            out[key] = {mk: mv for mk, mv in value.items() if mk not in _SERVER_META}
            continue
        out[key] = value
    return out


def _paths(node: Any, prefix: Path, schema: Node) -> FieldSet:
    out: FieldSet = set()
    _walk(node, prefix, schema, out)
    return out


def _diff(old: Any, new: Any, prefix: Path, schema: Node, changed: FieldSet, removed: FieldSet) -> None:
    """Paths whose value a write changed or added, and paths it removed; equal subtrees are skipped
    with one C-level comparison, so small edits to big objects stay cheap."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and (old or not prefix) and (new or not prefix):
        for key, value in new.items():
            if value is None:
                continue
            sub = (*prefix, "f:" + key)
            if key in old and old[key] is not None:
                _diff(old[key], value, sub, field(schema, key), changed, removed)
            else:
                changed |= _paths(value, sub, field(schema, key))
        for key, value in old.items():
            if value is not None and (key not in new or new[key] is None):
                removed |= _paths(value, (*prefix, "f:" + key), field(schema, key))
        return
    old_fs = _paths(old, prefix, schema)
    new_fs = _paths(new, prefix, schema)
    base = len(prefix)
    changed |= {p for p in new_fs if p not in old_fs or value_at(new, p[base:]) != value_at(old, p[base:])}
    removed |= old_fs - new_fs


def to_fields_v1(fs: Iterable[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(fs):
        node = tree
        for el in path:
            node = node.setdefault(el, {})
        if path and path[-1].startswith("k:"):
            node.setdefault(".", {})
    return tree


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> FieldSet:
    out: FieldSet = set()
    for k, v in tree.items():
        if k == ".":
            out.add(prefix)
            continue
        p = (*prefix, k)
        if isinstance(v, dict) and v:
            out |= from_fields_v1(v, p)
        else:
            out.add(p)
    return out


@functools.lru_cache(maxsize=4096)
def _parse_el(el: str) -> Any:
    return orjson.loads(el[2:])


def _find_item(lst: list[Any], el: str) -> int:
    if el.startswith("k:"):
        want = _parse_el(el)
        for idx, item in enumerate(lst):
            if _matches(item, want):
                return idx
    elif el.startswith("v:"):
        val = _parse_el(el)
        for idx, item in enumerate(lst):
            if item == val:
                return idx
    return -1


def value_at(obj: Any, path: Path) -> Any:
    cur = obj
    for el in path:
        if el.startswith("f:"):
            if not isinstance(cur, dict) or el[2:] not in cur:
                return _MISSING
            cur = cur[el[2:]]
        else:
            if not isinstance(cur, list):
                return _MISSING
            idx = _find_item(cur, el)
            if idx < 0:
                return _MISSING
            cur = cur[idx]
    return cur


def remove_path(obj: dict[str, Any], path: Path) -> None:
    """Delete the field at ``path``, pruning maps that the deletion leaves empty."""
    chain: list[tuple[Any, str]] = []
    cur: Any = obj
    for el in path[:-1]:
        chain.append((cur, el))
        if el.startswith("f:"):
            if not isinstance(cur, dict) or el[2:] not in cur:
                return
            cur = cur[el[2:]]
        else:
            if not isinstance(cur, list):
                return
            idx = _find_item(cur, el)
            if idx < 0:
                return
            cur = cur[idx]
    last = path[-1]
    if last.startswith("f:"):
        if isinstance(cur, dict):
            cur.pop(last[2:], None)
    elif isinstance(cur, list):
        idx = _find_item(cur, last)
        if idx >= 0:
            cur.pop(idx)
    # prune now-empty maps (never the top-level sections)
    while chain and len(chain) > 1:
        parent, el = chain.pop()
        child = value_at(parent, (el,))
        if isinstance(child, dict) and not child and el.startswith("f:") and isinstance(parent, dict):
            parent.pop(el[2:], None)
        else:
            break


def drop_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: drop_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [drop_nulls(v) for v in node]
    return node


def ssa_merge(live: Any, applied: Any, schema: Node = None) -> Any:
    if isinstance(applied, dict):
        result = dict(live) if isinstance(live, dict) else {}
        for k, v in applied.items():
            result[k] = (
                ssa_merge(result.get(k, _MISSING), v, field(schema, k)) if k in result else copy.deepcopy(v)
            )
        return result
    if isinstance(applied, list):
        if not isinstance(live, list):
            return copy.deepcopy(applied)
        if list_type(schema).kind == "set":
            return list(live) + [v for v in applied if v not in live]
        keys = ssa_keys(schema)
        if not keys or not all(isinstance(i, dict) for i in applied):
            return copy.deepcopy(applied)
        sub = items(schema)
        result_list = list(live)
        for item in applied:
            k = key_of(item, keys)
            for idx, existing in enumerate(result_list):
                if _matches(existing, k):
                    result_list[idx] = ssa_merge(existing, item, sub)
                    break
            else:
                result_list.append(copy.deepcopy(item))
        return result_list
    return copy.deepcopy(applied)


class ManagerEntry:
    """One managedFields entry. Its field set is parsed only when needed and re-rendered only when
    it changed, which keeps writes to objects with many managers cheap."""

    def __init__(
        self,
        manager: str,
        operation: str,
        api_version: str,
        time: str,
        fields: FieldSet | None = None,
        subresource: str = "",
        raw: dict[str, Any] | None = None,
    ) -> None:
        self.manager = manager
        self.operation = operation  # "Apply" | "Update"
        self.api_version = api_version
        self.time = time
        self.subresource = subresource
        self._fields = fields
        self._raw = raw if fields is None else None

    @property
    def fields(self) -> FieldSet:
        if self._fields is None:
            self._fields = from_fields_v1(self._raw or {})
        return self._fields

    @fields.setter
    def fields(self, value: FieldSet) -> None:
        self._fields = value
        self._raw = None

    def discard(self, paths: FieldSet) -> None:
        """Drop ``paths`` and everything under them."""
        if not paths:
            return
        current = self.fields
        kept = {p for p in current if p not in paths and not any(p[: len(r)] == r for r in paths)}
        if len(kept) != len(current):
            self.fields = kept

    def has_fields(self) -> bool:
        return bool(self._raw) if self._fields is None else bool(self._fields)

    def ident(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self._raw if self._raw is not None else to_fields_v1(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def read_entries(obj: dict[str, Any]) -> list[ManagerEntry]:
    out: list[ManagerEntry] = []
    for e in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(e, dict):
            continue
        raw = e.get("fieldsV1")
        out.append(
            ManagerEntry(
                manager=str(e.get("manager", "")),
                operation=str(e.get("operation", "Update")),
                api_version=str(e.get("apiVersion", "")),
                time=str(e.get("time", "")),
                subresource=str(e.get("subresource", "")),
                raw=raw if isinstance(raw, dict) else {},
            )
        )
    return out


def write_entries(obj: dict[str, Any], entries: list[ManagerEntry]) -> None:
    kept = [e.to_json() for e in entries if e.has_fields()]
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _fmt_path(path: Path) -> str:
    parts = []
    for el in path:
        if el.startswith("f:"):
            parts.append("." + el[2:])
        elif el.startswith("k:"):
            parts.append("[" + ",".join(f"{k}={v}" for k, v in orjson.loads(el[2:]).items()) + "]")
        else:
            parts.append("[" + el[2:] + "]")
    return "".join(parts)


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    rt: ResourceType,
    manager: str,
    now: str,
    subresource: str | None = None,
) -> None:
    """Record a non-apply write: the writer owns what it changed; others lose it."""
    entries = read_entries(old) if old is not None else []
    changed: FieldSet = set()
    removed: FieldSet = set()
    _diff(
        _writable(old or {}, rt, subresource),
        _writable(new, rt, subresource),
        (),
        schema_of(rt),
        changed,
        removed,
    )
    if not changed and not removed:
        write_entries(new, entries)
        return
    sub = subresource or ""
    mine: ManagerEntry | None = None
    for e in entries:
        if e.ident() == (manager, "Update", sub):
            mine = e
        else:
            if e.subresource == sub:
                e.discard(changed | removed)
    if mine is None:
        mine = ManagerEntry(manager, "Update", rt.api_version, now, set(), sub)
        entries.append(mine)
    mine.fields = (mine.fields | changed) - removed
    mine.time = now
    write_entries(new, entries)


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    rt: ResourceType,
    manager: str,
    force: bool,
    now: str,
    subresource: str | None = None,
) -> dict[str, Any]:
    """Return the object after ``manager`` applies ``applied``; raise a 409 on unforced conflicts."""
    applied = drop_nulls(applied)
    applied_meta = dict(applied.get("metadata") or {})
    applied_meta.pop("managedFields", None)
    applied = {**applied, "metadata": applied_meta}
    applied_fs = fieldset(applied, rt, subresource)
    base: dict[str, Any] = copy.deepcopy(live) if live is not None else {}
    entries = read_entries(base)
    sub = subresource or ""
    mine: ManagerEntry | None = None
    conflicts: list[tuple[str, Path]] = []
    for e in entries:
        if e.ident() == (manager, "Apply", sub):
            mine = e
            continue
        if e.subresource != sub:
            continue
        for p in applied_fs & e.fields:
            if p[-1].startswith("k:"):
                continue
            if value_at(base, p) != value_at(applied, p):
                conflicts.append((e.manager, p))
    if conflicts and not force:
        causes = [
            {
                "type": "FieldManagerConflict",
                "message": f'conflict with "{m}": {_fmt_path(p)}',
                "field": _fmt_path(p),
            }
            for m, p in sorted(conflicts)
        ]
        noun = "conflict" if len(conflicts) == 1 else "conflicts"
        msg = f"Apply failed with {len(conflicts)} {noun}: " + "; ".join(c["message"] for c in causes)
        raise ApiError(
            409,
            "Conflict",
            msg,
            details={
                "name": applied_meta.get("name", ""),
                **({"group": rt.group} if rt.group else {}),
                "kind": rt.plural,
            },
            causes=causes,
        )
    if conflicts:
        lost = {p for _, p in conflicts}
        for e in entries:
            if e is not mine:
                e.discard(lost)
    previous = mine.fields if mine is not None else set()
    others: FieldSet = set()
    for e in entries:
        if e is not mine:
            others |= e.fields
    dropped = {
        p for p in previous - applied_fs if p not in others and not any(o[: len(p)] == p for o in others)
    }
    for p in sorted(dropped, key=len, reverse=True):
        if any(p[:i] in dropped for i in range(1, len(p))):
            continue  # its parent goes whole (a keyed item's fields would otherwise unkey it first)
        remove_path(base, p)
    root = schema_of(rt)
    merged: dict[str, Any] = ssa_merge(base, {k: v for k, v in applied.items() if k != "metadata"}, root)
    meta = dict(merged.get("metadata") or {})
    meta_schema = field(root, "metadata")
    for mk, mv in applied_meta.items():
        if mk in ("resourceVersion",):
            continue
        meta[mk] = ssa_merge(meta.get(mk), mv, field(meta_schema, mk)) if mk in meta else copy.deepcopy(mv)
    merged["metadata"] = meta
    if mine is None:
        mine = ManagerEntry(manager, "Apply", rt.api_version, now, set(), sub)
        entries.append(mine)
    mine.fields = applied_fs
    mine.time = now
    mine.api_version = rt.api_version
    write_entries(merged, entries)
    return merged
