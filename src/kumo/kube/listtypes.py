"""List semantics from the Kubernetes schemas, as the API server reads them.

Server-side apply and strategic merge patch both need to know, for each list field, whether it is
atomic (replaced whole), a set of scalars, or a map keyed by some of its items' fields. The API
server takes that from the OpenAPI extensions ``x-kubernetes-list-type`` and
``x-kubernetes-list-map-keys`` (server-side apply) and ``x-kubernetes-patch-strategy`` and
``x-kubernetes-patch-merge-key`` (strategic merge); kubernetes-validate ships them for every
built-in kind, and a CustomResourceDefinition carries its own in ``openAPIV3Schema``. This module
walks those schemas; it keeps no table of its own.

A :class:`SchemaNode` is a cursor into one kind's schema: ``node.field("spec").field("ports")``.
A missing node (``None``) means "not described": lists there are atomic, as for a real server.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

SCHEMA_VERSION = "v1.33.0-local"
# List-map keys that have a default take part in an item's identity with that default, as in
# structured merge: a Service's 53/TCP and 53/UDP ports are two items, and a port without a
# protocol is 53/TCP. (The bundled schemas carry no defaults; protocol is the one list-map key
# the API server defaults.)
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}


@dataclass(frozen=True)
class ListType:
    """How one list field merges.

    ``kind`` and ``keys`` are server-side apply's view (``atomic``, ``set`` or ``map`` keyed by
    ``keys``); ``merge_key`` and ``strategy`` are strategic merge patch's (a list merges by key only
    when ``"merge"`` is in ``strategy``; a list of scalars with ``"merge"`` merges as a set).
    """

    kind: str = "atomic"
    keys: tuple[str, ...] = ()
    merge_key: str | None = None
    strategy: frozenset[str] = frozenset()

    @property
    def smp_merges(self) -> bool:
        return "merge" in self.strategy


ATOMIC = ListType()


def _schema_dir() -> Any:
    return resources.files("kubernetes_validate").joinpath("kubernetes-json-schema").joinpath(SCHEMA_VERSION)


def definitions() -> dict[str, Any]:
    """Every built-in schema definition by name (``io.k8s.api.apps.v1.Deployment``); read-only."""
    return _definitions()


@functools.cache
def _definitions() -> dict[str, Any]:
    defs: dict[str, Any] = json.loads(_schema_dir().joinpath("_definitions.json").read_text())["$defs"]
    return defs


class SchemaNode:
    """A position in a kind's schema; ``$ref`` and single-entry ``allOf`` are followed lazily,
    once: a node keeps the children it has resolved (a built-in kind's tree is shared, and the
    emulator walks it on every write)."""

    __slots__ = ("_defs", "_kids", "_list", "_node")

    def __init__(self, node: dict[str, Any], defs: dict[str, Any]) -> None:
        self._defs = defs
        self._node = self._resolve(node)
        self._kids: dict[str | None, SchemaNode | None] = {}
        self._list: ListType | None = None

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        for _ in range(8):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = self._defs.get(ref.rsplit("/", 1)[-1])
                if not isinstance(target, dict):
                    return {}
                # Extensions beside a $ref (x-kubernetes-list-type...) belong to the referring field.
                node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
                continue
            all_of = node.get("allOf")
            if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
                node = {**{k: v for k, v in node.items() if k != "allOf"}, **all_of[0]}
                continue
            break
        return node

    @property
    def raw(self) -> dict[str, Any]:
        return self._node

    def field(self, name: str) -> SchemaNode | None:
        """The schema of a map field (a declared property, else ``additionalProperties``)."""
        if name in self._kids:
            return self._kids[name]
        props = self._node.get("properties")
        extra = self._node.get("additionalProperties")
        if isinstance(props, dict) and isinstance(props.get(name), dict):
            child: SchemaNode | None = SchemaNode(props[name], self._defs)
        elif isinstance(extra, dict):
            child = SchemaNode(extra, self._defs)
        else:
            child = None
        self._kids[name] = child
        return child

    def items(self) -> SchemaNode | None:
        """The schema of a list's items."""
        if None not in self._kids:
            items = self._node.get("items")
            self._kids[None] = SchemaNode(items, self._defs) if isinstance(items, dict) else None
        return self._kids[None]

    def list_type(self) -> ListType:
        if self._list is None:
            n = self._node
            kind = n.get("x-kubernetes-list-type")
            keys = n.get("x-kubernetes-list-map-keys")
            merge_key = n.get("x-kubernetes-patch-merge-key")
            strategy = n.get("x-kubernetes-patch-strategy")
            self._list = ListType(
                kind=kind if kind in ("atomic", "set", "map") else "atomic",
                keys=tuple(str(k) for k in keys) if kind == "map" and isinstance(keys, list) else (),
                merge_key=str(merge_key) if isinstance(merge_key, str) else None,
                strategy=frozenset(strategy.split(",")) if isinstance(strategy, str) else frozenset(),
            )
        return self._list


def list_type(node: SchemaNode | None) -> ListType:
    """The semantics of a list at ``node``; atomic where the schema says nothing."""
    return ATOMIC if node is None else node.list_type()


def field(node: SchemaNode | None, name: str) -> SchemaNode | None:
    return None if node is None else node.field(name)


def items(node: SchemaNode | None) -> SchemaNode | None:
    return None if node is None else node.items()


@functools.cache
def _builtin_root(kind: str, api_version: str) -> dict[str, Any] | None:
    gv = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    ref = _schema_dir().joinpath(f"{kind.lower()}-{gv}.json")
    if not ref.is_file():
        return None
    root: dict[str, Any] = json.loads(ref.read_text())
    return root


@functools.cache
def builtin_schema(api_version: str, kind: str) -> SchemaNode | None:
    """The schema of a built-in kind (``apps/v1``, ``Deployment``), or ``None`` if unknown."""
    root = _builtin_root(kind, api_version)
    return None if root is None else SchemaNode(root, _definitions())


def crd_schema(open_api_v3: dict[str, Any]) -> SchemaNode:
    """The schema of a custom resource, from its CRD version's ``openAPIV3Schema``.

    ``metadata`` is described by the built-in ObjectMeta (its ownerReferences and finalizers
    are keyed lists there), as the API server does for custom resources.
    """
    node = dict(open_api_v3)
    props = dict(node.get("properties") or {})
    props["metadata"] = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    node["properties"] = props
    return SchemaNode(node, _definitions())


def schema_for(api_version: str, kind: str, open_api_v3: dict[str, Any] | None = None) -> SchemaNode | None:
    """The schema of any kind: a CRD's own when given, else the built-in one."""
    if open_api_v3 is not None:
        return crd_schema(open_api_v3)
    return builtin_schema(api_version, kind)


def item_key(
    item: Any, keys: tuple[str, ...], defaults: dict[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """An item's identity in a keyed list (a missing key counts as its default, or ``None``)."""
    if not isinstance(item, dict):
        return None
    d = defaults or {}
    return tuple(item.get(k, d.get(k)) for k in keys)


def duplicate_keys(
    obj: Any, node: SchemaNode | None, path: str = "", defaults: dict[str, Any] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Items of ``map``-type lists whose keys repeat an earlier item's: ``(path, key)``, such as
    ``("spec.ports[1]", {"port": 53, "protocol": "TCP"})``."""
    if node is None:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict | list):
                yield from duplicate_keys(v, node.field(k), f"{path}.{k}" if path else k, defaults)
        return
    if isinstance(obj, list):
        lt = node.list_type()
        sub = node.items()
        if lt.kind == "map" and lt.keys:
            seen: set[str] = set()
            for idx, item in enumerate(obj):
                key = item_key(item, lt.keys, defaults)
                if key is None:
                    continue
                ident = json.dumps(key, sort_keys=True, default=str)
                if ident in seen:
                    yield f"{path}[{idx}]", dict(zip(lt.keys, key, strict=True))
                seen.add(ident)
        for idx, item in enumerate(obj):
            if isinstance(item, dict | list):
                yield from duplicate_keys(item, sub, f"{path}[{idx}]", defaults)
