"""Label and field selectors, parsed the way the API server parses them.

One parser for the whole project: the API emulator filters lists and watches with it, and the DNS
controller's ``--label-filter`` / ``--annotation-filter`` / ``--gateway-label-filter`` use it, so a
selector means the same thing on both sides.

Label selectors support ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key`` (exists) and ``!key``.
Field selectors support ``=``, ``==`` and ``!=`` on a dotted path (``metadata.name``,
``spec.nodeName``, ``status.phase``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_KEY = r"[A-Za-z0-9./_-]+"
_VAL = r"[A-Za-z0-9._-]*"


class SelectorError(ValueError):
    """A selector that does not parse; the message is the API server's."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op == "=":
            return present and labels[self.key] == self.values[0]
        if self.op == "!=":
            return not present or labels[self.key] != self.values[0]
        if self.op == "in":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # notin


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    cur = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^)]*)\)$")
_EQ_RE = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VAL})$")
_EXISTS_RE = re.compile(rf"^(!?)\s*({_KEY})$")


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text:
        return []
    reqs: list[Requirement] = []
    for part in _split_top(text):
        m = _SET_RE.match(part)
        if m:
            vals = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), m.group(2), vals))
            continue
        m = _EQ_RE.match(part)
        if m:
            op = "=" if m.group(2) in ("=", "==") else "!="
            reqs.append(Requirement(m.group(1), op, (m.group(3),)))
            continue
        m = _EXISTS_RE.match(part)
        if m:
            reqs.append(Requirement(m.group(2), "!" if m.group(1) else "exists"))
            continue
        raise SelectorError(f"unable to parse requirement: found '{part}', expected a valid label selector")
    return reqs


def selector_from_label_selector_obj(sel: Mapping[str, Any] | None) -> list[Requirement] | None:
    """A ``LabelSelector`` object (matchLabels/matchExpressions). ``None`` selects nothing."""
    if sel is None:
        return None
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (sel.get("matchLabels") or {}).items()]
    opmap = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in sel.get("matchExpressions") or []:
        reqs.append(
            Requirement(
                str(expr.get("key")),
                opmap.get(str(expr.get("operator")), "in"),
                tuple(str(v) for v in expr.get("values") or ()),
            )
        )
    return reqs


def labels_match(reqs: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    lab = labels or {}
    return all(r.matches(lab) for r in reqs)


@dataclass(frozen=True)
class FieldRequirement:
    path: tuple[str, ...]
    op: str  # "=" or "!="
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        cur: Any = obj
        for p in self.path:
            cur = cur.get(p) if isinstance(cur, Mapping) else None
        actual = "" if cur is None else (str(cur).lower() if isinstance(cur, bool) else str(cur))
        return (actual == self.value) == (self.op == "=")


_FIELD_RE = re.compile(r"^([A-Za-z0-9._]+)\s*(==|=|!=)\s*(.*)$")


def parse_field_selector(text: str | None) -> list[FieldRequirement]:
    if not text:
        return []
    out: list[FieldRequirement] = []
    for part in _split_top(text):
        m = _FIELD_RE.match(part)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        op = "=" if m.group(2) in ("=", "==") else "!="
        out.append(FieldRequirement(tuple(m.group(1).split(".")), op, m.group(3).strip()))
    return out


def fields_match(reqs: list[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in reqs)


def make_filter(
    label_selector: str | None, field_selector: str | None
) -> Callable[[Mapping[str, Any]], bool] | None:
    """One predicate for both selectors, or ``None`` when nothing is filtered."""
    lreqs = parse_label_selector(label_selector)
    freqs = parse_field_selector(field_selector)
    if not lreqs and not freqs:
        return None

    def pred(obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        return labels_match(lreqs, meta.get("labels")) and fields_match(freqs, obj)

    return pred
