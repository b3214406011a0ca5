"""``--fqdn-template``: the subset of Go's text/template that external-dns users write for names.

external-dns (``source/fqdn``) runs the template on the typed object and splits the output on commas.
kumo reads objects as JSON, so a Go field name is looked up as its JSON name (``.Spec.ClusterIP`` is
``spec.clusterIP``), and ``ObjectMeta``'s promoted fields (``.Name``, ``.Namespace``, ``.Labels``,
``.Annotations``...) come from ``metadata``.

Supported: text, ``{{ pipeline }}`` with ``{{-``/``-}}`` trimming; a pipeline is a command optionally
piped (``|``) into functions; a command is a field path (``.A.B``), ``.``, a string or number literal,
or a function call: external-dns's ``toLower``, ``contains``, ``trimPrefix``, ``trimSuffix``, ``trim``,
``replace``, ``isIPv4``, ``isIPv6``, ``hasKey`` and Go's ``index``, ``printf`` (``%s`` only), ``print``,
``len``, ``eq``, ``ne``, ``not``, ``and``, ``or``; and
``{{if p}}...{{else}}...{{end}}``. Anything else (``range``, ``with``, variables, ``define``) is refused
when the template is parsed, so kumo fails at start instead of publishing wrong names.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_META_FIELDS = {
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "generateName",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "ownerReferences",
    "finalizers",
}


class TemplateError(ValueError):
    pass


def _ip(version: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        try:
            return ipaddress.ip_address(str(value)).version == version
        except ValueError:
            return False

    return check


def _printf(fmt: Any, *args: Any) -> str:
    text = str(fmt)
    if re.search(r"%[^s%]", text):
        raise TemplateError("printf: only %s is supported")
    return text.replace("%%", "\0") % tuple(_text(a) for a in args) if args else text


FUNCS: dict[str, Callable[..., Any]] = {
    "contains": lambda sub, s: str(sub) in str(s),
    "trimPrefix": lambda p, s: str(s)[len(str(p)) :] if str(s).startswith(str(p)) else str(s),
    "trimSuffix": lambda p, s: str(s)[: -len(str(p))] if p and str(s).endswith(str(p)) else str(s),
    "trim": lambda s: str(s).strip(),
    "toLower": lambda s: str(s).lower(),
    "replace": lambda old, new, s: str(s).replace(str(old), str(new)),
    "isIPv4": _ip(4),
    "isIPv6": _ip(6),
    "hasKey": lambda m, k: isinstance(m, Mapping) and str(k) in m,
    "index": lambda m, *keys: _index(m, keys),
    "printf": _printf,
    "print": lambda *a: "".join(_text(x) for x in a),
    "len": lambda v: len(v),
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "not": lambda v: not _truth(v),
    "and": lambda *vs: next((v for v in vs if not _truth(v)), vs[-1]),
    "or": lambda *vs: next((v for v in vs if _truth(v)), vs[-1]),
}


def _index(value: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(str(key), "")
        elif value in ("", None):  # an absent map (Go: a nil map) indexes to the zero value
            value = ""
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            raise TemplateError(f"index: cannot index {type(value).__name__} with {key!r}")
    return value


def _text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field(obj: Any, name: str, top: bool) -> Any:
    if not isinstance(obj, Mapping):
        return ""
    json_name = name[:1].lower() + name[1:]
    if name == "APIVersion":
        json_name = "apiVersion"
    for key in (name, json_name):
        if key in obj:
            return obj[key]
    if top and json_name in _META_FIELDS:
        return (obj.get("metadata") or {}).get(json_name, "")
    return ""  # an omitted optional field: Go's zero value


@dataclass(frozen=True)
class _Cmd:
    kind: str  # field | literal | call | dot
    value: Any
    args: tuple[_Cmd, ...] = ()


Pipeline = tuple[_Cmd, ...]


@dataclass(frozen=True)
class _If:
    cond: Pipeline
    then: tuple[Any, ...]
    other: tuple[Any, ...]


def _parse_operand(token: str, source: str) -> _Cmd:
    if token == ".":
        return _Cmd("dot", None)
    if token.startswith("."):
        parts = token[1:].split(".")
        if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in parts):
            raise TemplateError(f"{source}: bad field {token!r}")
        return _Cmd("field", tuple(parts))
    if token.startswith(('"', "`")):
        return _Cmd("literal", token[1:-1])
    if re.fullmatch(r"-?\d+", token):
        return _Cmd("literal", int(token))
    if token in ("true", "false"):
        return _Cmd("literal", token == "true")
    if token in FUNCS:
        return _Cmd("call", token)
    if token.startswith("$"):
        raise TemplateError(f"{source}: variables ({token}) are not supported")
    raise TemplateError(f"{source}: unknown function {token!r} (supported: {', '.join(sorted(FUNCS))})")


def _tokens(text: str, source: str) -> list[str]:
    lexer = shlex.shlex(text, posix=False, punctuation_chars="|")
    lexer.whitespace_split = True
    lexer.quotes = '"`'
    try:
        return list(lexer)
    except ValueError as exc:
        raise TemplateError(f"{source}: {exc}") from None


def _parse_pipeline(text: str, source: str) -> Pipeline:
    if "(" in text or ":=" in text:
        raise TemplateError(f"{source}: parentheses and variables are not supported")
    cmds: list[_Cmd] = []
    for part in _split_pipes(_tokens(text, source)):
        if not part:
            raise TemplateError(f"{source}: empty command")
        head = _parse_operand(part[0], source)
        args = tuple(_parse_operand(t, source) for t in part[1:])
        if head.kind == "call":
            cmds.append(_Cmd("call", head.value, args))
        elif args:
            raise TemplateError(f"{source}: {part[0]} is not a function")
        else:
            cmds.append(head)
    if not cmds:
        raise TemplateError(f"{source}: empty action")
    return tuple(cmds)


def _split_pipes(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for tok in tokens:
        if tok == "|":
            out.append([])
        else:
            out[-1].append(tok)
    return out


class FqdnTemplate:
    """A parsed ``--fqdn-template``; ``hostnames(obj, kind)`` evaluates it for one object."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes = self._parse(text)

    def _parse(self, text: str) -> tuple[Any, ...]:
        stack: list[tuple[list[Any], Pipeline | None, list[Any] | None]] = [([], None, None)]
        pos = 0
        pending_trim = False
        for match in _ACTION.finditer(text):
            literal = text[pos : match.start()]
            if pending_trim:
                literal = literal.lstrip()
            if match.group(1):
                literal = literal.rstrip()
            if literal:
                stack[-1][0].append(literal)
            pending_trim = bool(match.group(3))
            pos = match.end()
            body = match.group(2).strip()
            source = f"--fqdn-template: {{{{{body}}}}}"
            word = body.split(None, 1)[0] if body else ""
            if word == "if":
                stack.append(([], _parse_pipeline(body[2:], source), None))
            elif word == "else":
                if len(stack) < 2 or stack[-1][2] is not None or body != "else":
                    raise TemplateError(f"{source}: unexpected else (only a plain {{{{else}}}} is supported)")
                branch, cond, _ = stack.pop()
                stack.append(([], cond, branch))
            elif word == "end":
                if len(stack) < 2:
                    raise TemplateError(f"{source}: end without if")
                nodes, cond, then = stack.pop()
                assert cond is not None
                node = (
                    _If(cond, tuple(then), tuple(nodes)) if then is not None else _If(cond, tuple(nodes), ())
                )
                stack[-1][0].append(node)
            elif word in ("range", "with", "define", "template", "block", "break", "continue") or (
                body.startswith("/*")
            ):
                raise TemplateError(f"{source}: {word or 'comments'} is not supported")
            else:
                stack[-1][0].append(_parse_pipeline(body, source))
        if len(stack) != 1:
            raise TemplateError("--fqdn-template: an {{if}} has no {{end}}")
        rest = text[pos:]
        if "{{" in rest or "}}" in rest:
            raise TemplateError("--fqdn-template: unbalanced {{ }}")
        if pending_trim:
            rest = rest.lstrip()
        if rest:
            stack[0][0].append(rest)
        return tuple(stack[0][0])

    def render(self, obj: Mapping[str, Any], kind: str) -> str:
        data = dict(obj)
        data.setdefault("kind", kind)
        out: list[str] = []
        self._render(self.nodes, data, out)
        return "".join(out)

    def hostnames(self, obj: Mapping[str, Any], kind: str) -> list[str]:
        """external-dns ExecTemplate: split on commas, trimmed, trailing dot dropped, empties skipped."""
        names = []
        for part in self.render(obj, kind).split(","):
            name = part.strip().removesuffix(".")
            if name:
                names.append(name)
        return names

    def _render(self, nodes: tuple[Any, ...], data: Mapping[str, Any], out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, str):
                out.append(node)
            elif isinstance(node, _If):
                self._render(node.then if _truth(_run(node.cond, data)) else node.other, data, out)
            else:
                out.append(_text(_run(node, data)))


def _truth(value: Any) -> bool:
    return bool(value) and value != 0


def _eval(cmd: _Cmd, data: Mapping[str, Any], piped: tuple[Any, ...]) -> Any:
    if cmd.kind == "dot":
        return data
    if cmd.kind == "literal":
        return cmd.value
    if cmd.kind == "field":
        value: Any = data
        for i, part in enumerate(cmd.value):
            value = _field(value, part, top=i == 0)
        return value
    args = [_eval(a, data, ()) for a in cmd.args] + list(piped)
    try:
        return FUNCS[cmd.value](*args)
    except TypeError:
        raise TemplateError(f"--fqdn-template: {cmd.value}: wrong number of arguments") from None


def _run(pipeline: Pipeline, data: Mapping[str, Any]) -> Any:
    value = _eval(pipeline[0], data, ())
    for cmd in pipeline[1:]:
        if cmd.kind != "call":
            raise TemplateError("--fqdn-template: only a function can follow |")
        value = _eval(cmd, data, (value,))
    return value


def parse_fqdn_template(text: str) -> FqdnTemplate | None:
    """None for an empty flag; raises TemplateError on a template kumo cannot evaluate."""
    if not text.strip():
        return None
    return FqdnTemplate(text)


__all__ = ["FqdnTemplate", "TemplateError", "parse_fqdn_template"]
