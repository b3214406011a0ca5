"""Loading ``kumo.yaml`` with a file, line and column on every problem.

YAML is parsed with ruamel.yaml's round-trip loader because it keeps the position of every key
and value; pydantic then validates, and its error locations are mapped back to those positions.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from kumo.errors import SpecError, UsageError
from kumo.spec.model import Spec, cross_field_problems

Loc = tuple[str | int, ...]
_HINT = "Run `kumo schema` for the full JSON Schema of kumo.yaml."


def load_spec(path: str | Path, env: str | None = None) -> Spec:
    """Load and validate ``path``; with ``env``, resolve that environment's overrides and names."""
    path = Path(path)
    document = parse_yaml(path)
    spec = validate_document(document, path)
    if env is None:
        return spec
    return resolve_environment(spec, document, path, env)


def parse_yaml(path: Path) -> CommentedMap:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", "Pass the path of a kumo.yaml, e.g. examples/online-app/kumo.yaml.")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        raise SpecError([f"{path}:1:1: the file is empty; expected a mapping with app, target and services"], _HINT)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        document = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecError([f"{where}: duplicate key {_duplicate_key(exc)}; each key may appear once"], _HINT) from None
    except MarkedYAMLError as exc:
        raise SpecError([_yaml_problem(path, text, exc)], _HINT) from None
    if not isinstance(document, CommentedMap):
        found = type(document).__name__ if document is not None else "nothing"
        raise SpecError([f"{path}:1:1: expected a mapping with app, target and services, found {found}"], _HINT)
    return document


def _duplicate_key(exc: DuplicateKeyError) -> str:
    problem = exc.problem or ""
    start = problem.find('"')
    end = problem.find('"', start + 1)
    return problem[start : end + 1] if 0 <= start < end else "found"


def _yaml_problem(path: Path, text: str, exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 1
    source_line = text.splitlines()[line - 1] if mark and line <= len(text.splitlines()) else ""
    if "\t" in source_line[: len(source_line) - len(source_line.lstrip())] or "'\\t'" in str(exc.problem):
        return f"{path}:{line}:{column}: a tab is used for indentation; YAML allows only spaces"
    return f"{path}:{line}:{column}: invalid YAML: {exc.problem or exc.context}"


def validate_document(document: CommentedMap, path: Path, origin: CommentedMap | None = None) -> Spec:
    """Validate a parsed document. ``origin`` is where positions are looked up, if not ``document``."""
    positions = origin if origin is not None else document
    try:
        spec = Spec.model_validate(_plain(document))
    except ValidationError as exc:
        raise SpecError(_problems(exc, positions, path), _HINT) from None
    problems = [f"{_where(path, positions, loc, False)}: {_dotted(loc)}: {msg}" for loc, msg in cross_field_problems(spec)]
    if problems:
        raise SpecError(problems, _HINT)
    return spec


def resolve_environment(spec: Spec, document: CommentedMap, path: Path, env: str) -> Spec:
    """Merge ``environments[env]`` over the base, then apply the namespace and hostname templates.

    A name not listed under ``environments`` is a preview environment: a copy of the base.
    """
    override = spec.environments.get(env, {})
    merged = _merge(_plain(document), override)
    merged.pop("environments", None)
    overridden_hosts = {
        name
        for name, svc in (override.get("services") or {}).items()  # type: ignore[union-attr]
        if isinstance(svc, dict) and "hostname" in (svc.get("endpoint") or {})
    }
    variables = {"env": env, "app": spec.app}
    if "namespace" not in override:
        merged["namespace"] = spec.preview.namespace_template.format(**variables)
    for service in merged.get("services", []):
        endpoint = service.get("endpoint")
        if endpoint and service.get("name") not in overridden_hosts:
            endpoint["hostname"] = spec.preview.hostname_template.format(hostname=endpoint["hostname"], **variables)
    environment_node = document.get("environments", {}).get(env) if env in spec.environments else None
    return validate_document(CommentedMap(merged), path, origin=environment_node or document)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in override.items():
        if key == "services" and isinstance(value, dict):
            by_name = {s.get("name"): s for s in result.get("services", []) if isinstance(s, dict)}
            for name, service_override in value.items():
                if name not in by_name:
                    raise SpecError([f"environments: service {name!r} is not in services"], _HINT)
                merged = _merge(by_name[name], service_override)
                by_name[name].clear()
                by_name[name].update(merged)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _problems(exc: ValidationError, positions: CommentedMap, path: Path) -> list[str]:
    grouped: dict[Loc, list[str]] = {}
    kinds: dict[Loc, str] = {}
    for error in exc.errors():
        loc = _clean_loc(error["loc"])
        grouped.setdefault(loc, []).append(_message(error, loc))
        kinds.setdefault(loc, error["type"])
    lines = []
    for loc, messages in grouped.items():
        text = _join_alternatives(list(dict.fromkeys(messages)))
        lines.append(f"{_where(path, positions, loc, kinds[loc] == 'extra_forbidden')}: {_dotted(loc)}: {text}")
    return lines


def _join_alternatives(messages: list[str]) -> str:
    """One line for a union's failed branches: ``expected A or B, found X``."""
    if len(messages) == 1:
        return messages[0]
    found = messages[0].rpartition(", found ")[2]
    wanted = [m.rpartition(", found ")[0].removeprefix("expected ") for m in messages]
    wanted = [w.replace("a valid dictionary or instance of ", "a mapping like ") for w in wanted]
    return f"expected {' or '.join(wanted)}, found {found}"


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop the tags pydantic adds for union branches (``literal['auto','off']``, ``TlsRef``)."""
    return tuple(p for p in loc if isinstance(p, int) or not (p[:1].isupper() or "[" in p or "-" in p and "[" in p))


def _message(error: Any, loc: Loc) -> str:
    kind = error["type"]
    found = error.get("input")
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r}{_did_you_mean(loc)}"
    if kind == "missing":
        return "required, but missing"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("Input should be"):
        message = "expected" + message[len("Input should be") :]
    if "found" not in message and not isinstance(found, (dict, list)):
        message += f", found {found!r}"
    elif "found" not in message:
        message += f", found a {'mapping' if isinstance(found, dict) else 'list'}"
    return message


def _did_you_mean(loc: Loc) -> str:
    allowed = _allowed_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of {', '.join(allowed)}" if allowed else ""


def _allowed_keys(loc: Loc) -> list[str]:
    model: type[BaseModel] | None = Spec
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        model = _model_in(field.annotation) if field else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated, dict):
        args = typing.get_args(annotation)
        for arg in args[1:] if origin is dict else args:
            found = _model_in(arg)
            if found:
                return found
    return None


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _where(path: Path, root: CommentedMap, loc: Loc, at_key: bool) -> str:
    line, column = _position(root, loc, at_key)
    return f"{path}:{line + 1}:{column + 1}"


def _position(root: Any, loc: Loc, at_key: bool) -> tuple[int, int]:
    node = root
    best = (node.lc.line, node.lc.col) if hasattr(node, "lc") else (0, 0)
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            key_pos = node.lc.key(part)
            value_pos = node.lc.value(part)
            best = key_pos if (last and at_key) or not _has_position(node[part]) else value_pos
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            best = node.lc.item(part)
            node = node[part]
        else:
            break
    return best


def _has_position(node: Any) -> bool:
    return not isinstance(node, (CommentedMap, CommentedSeq)) or len(node) > 0
