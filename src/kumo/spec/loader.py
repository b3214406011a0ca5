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
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tokens import (
    BlockEndToken,
    BlockMappingStartToken,
    BlockSequenceStartToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
)

from kumo.errors import SpecError, UsageError
from kumo.spec.model import _DNS_LABEL as _ENV_NAME
from kumo.spec.model import Spec, cross_field_problems, file_problems

Loc = tuple[str | int, ...]
_HINT = "Run `kumo schema` for the full JSON Schema of kumo.yaml."

# Bounds on what a kumo.yaml may hold, checked before any model is built (a spec is a few KB):
MAX_BYTES = 1024 * 1024  # parsing is pure Python: 1 MiB takes about a second, 30 MB took 47 s
MAX_DEPTH = 64  # nesting levels; a real spec needs about 8, and 300 exhausted Python's stack
# Aliases (*name) are expanded, but may repeat at most this many values in all: an 814-byte file of
# nested anchors otherwise expands to billions of values (a "billion laughs" bomb).
MAX_ALIAS_VALUES = 10_000


def load_spec(path: str | Path, env: str | None = None) -> Spec:
    """Load and validate ``path``; with ``env``, resolve that environment's overrides and names.

    Every environment under ``environments`` is validated too, so a mistake in one is reported
    with its line even when another environment (or none) is asked for.
    """
    path = Path(path)
    document = parse_yaml(path)
    spec = validate_document(document, path)
    problems: list[str] = []
    for name in spec.environments:
        try:
            resolve_environment(spec, document, path, name)
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(list(dict.fromkeys(problems)), _HINT)
    if env is None:
        return spec
    if env not in spec.environments and not _ENV_NAME.match(env):
        raise UsageError(
            f"--env {env!r}: expected an environment name (lower-case letters, digits, '-'), "
            f"such as staging or pr-42",
            f"Environments in {path}: {', '.join(spec.environments) or 'none'}; any other name is a preview.",
        )
    return resolve_environment(spec, document, path, env)


def parse_yaml(path: Path) -> CommentedMap:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file", "Pass the path of a kumo.yaml, e.g. examples/online-app/kumo.yaml."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    if len(text) > MAX_BYTES:
        raise SpecError(
            [f"{path}:1:1: the file has {len(text)} characters; a kumo.yaml may have at most {MAX_BYTES}"],
            _HINT,
        )
    if not text.strip() or all(
        line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()
    ):
        raise SpecError(
            [f"{path}:1:1: the file is empty; expected a mapping with app, target and services"], _HINT
        )
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        document = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecError(
            [f"{where}: duplicate key {_duplicate_key(exc)}; each key may appear once"], _HINT
        ) from None
    except MarkedYAMLError as exc:
        raise SpecError([_yaml_problem(path, text, exc)], _HINT) from None
    except ReaderError as exc:
        before = text[: max(0, exc.position)]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise SpecError(
            [f"{path}:{line}:{column}: invalid YAML: character {exc.character:#06x} is not allowed"], _HINT
        ) from None
    except YAMLError as exc:  # anything else the parser refuses, still with a location
        raise SpecError([f"{path}:1:1: invalid YAML: {exc}"], _HINT) from None
    except RecursionError:  # the parser recurses once per level: find the level that went too deep
        raise SpecError([_too_deep(path, _deep_point(text))], _HINT) from None
    if not isinstance(document, CommentedMap):
        found = "a list" if isinstance(document, list) else f"{type(document).__name__} {document!r}"
        found = found if document is not None else "nothing"
        raise SpecError(
            [f"{path}:1:1: expected a mapping with app, target and services, found {found}"], _HINT
        )
    _check_shape(document, path)
    return document


_OPENING = (BlockMappingStartToken, BlockSequenceStartToken, FlowMappingStartToken, FlowSequenceStartToken)
_CLOSING = (BlockEndToken, FlowMappingEndToken, FlowSequenceEndToken)


def _too_deep(path: Path, where: tuple[int, int]) -> str:
    return (
        f"{path}:{where[0] + 1}:{where[1] + 1}: nested more than {MAX_DEPTH} levels deep; "
        "a kumo.yaml needs about 8"
    )


def _deep_point(text: str) -> tuple[int, int]:
    """Where the nesting first goes deeper than ``MAX_DEPTH``, from the token stream (which, unlike
    the parser, does not recurse)."""
    depth = 0
    try:
        for token in YAML(typ="rt").scan(text):
            if isinstance(token, _OPENING):
                depth += 1
                if depth > MAX_DEPTH:
                    return token.start_mark.line, token.start_mark.column
            elif isinstance(token, _CLOSING):
                depth -= 1
    except YAMLError:
        pass
    return 0, 0


def _check_shape(document: CommentedMap, path: Path) -> None:
    """Refuse a document nested deeper than ``MAX_DEPTH`` or whose aliases repeat more than
    ``MAX_ALIAS_VALUES`` values, or refer to themselves, before anything walks it value by value.

    Shared nodes are measured once (memoised by identity), so this is linear in the file's size
    even for an alias bomb."""
    measured: dict[int, tuple[int, int]] = {}  # id -> (values when expanded, levels below)
    on_path: set[int] = set()
    repeated = 0

    def position(node: Any, parent: tuple[int, int]) -> tuple[int, int]:
        lc = getattr(node, "lc", None)
        return (lc.line, lc.col) if lc is not None and lc.line is not None else parent

    def measure(node: Any, depth: int, where: tuple[int, int]) -> tuple[int, int]:
        nonlocal repeated
        if not isinstance(node, (dict, list)):
            return 1, 0
        key = id(node)
        here = position(node, where)
        if key in on_path:
            raise SpecError(
                [f"{path}:{here[0] + 1}:{here[1] + 1}: an alias refers to a value that contains it"], _HINT
            )
        if key in measured:  # a second path to the same node: an alias (or a merge key)
            repeated += measured[key][0]
            if repeated > MAX_ALIAS_VALUES:
                raise SpecError(
                    [
                        f"{path}:{where[0] + 1}:{where[1] + 1}: YAML aliases repeat more than "
                        f"{MAX_ALIAS_VALUES} values; kumo expands aliases (*name) only up to that bound"
                    ],
                    "Write the values out, or use fewer nested aliases.",
                )
        else:
            if depth > MAX_DEPTH:
                raise SpecError([_too_deep(path, here)], _HINT)
            on_path.add(key)
            size, below = 1, 0
            for child in node.values() if isinstance(node, dict) else node:
                child_size, child_below = measure(child, depth + 1, here)
                size += child_size
                below = max(below, child_below + 1)
            on_path.discard(key)
            measured[key] = (size, below)
        size, below = measured[key]
        if depth + below > MAX_DEPTH:
            raise SpecError([_too_deep(path, here)], _HINT)
        return size, below

    measure(document, 0, (0, 0))


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


def validate_document(
    document: CommentedMap,
    path: Path,
    origin: CommentedMap | None = None,
    translate: typing.Callable[[Loc], Loc] | None = None,
) -> Spec:
    """Validate a parsed document. Positions are looked up in ``origin`` (the file's own parse)
    when ``document`` was built from it; ``translate`` maps a location in ``document`` to where
    the offending value is in the file (for an environment merged over the base)."""
    positions = origin if origin is not None else document
    where_from = translate or (lambda loc: loc)
    plain = _plain(document)
    try:
        spec = Spec.model_validate(plain)
    except ValidationError as exc:
        raise SpecError(_problems(exc, plain, positions, path, where_from), _HINT) from None
    spec.from_directory(path.parent)
    problems = []
    for loc, msg in [*cross_field_problems(spec), *file_problems(spec)]:
        source = where_from(loc)
        problems.append(f"{_where(path, positions, source, False)}: {_dotted(source)}: {msg}")
    if problems:
        raise SpecError(problems, _HINT)
    return spec


def resolve_environment(spec: Spec, document: CommentedMap, path: Path, env: str) -> Spec:
    """Merge ``environments[env]`` over the base, then apply the namespace and hostname templates.

    A name not listed under ``environments`` is a preview environment: a copy of the base.
    """
    env_node = document.get("environments", {}).get(env) if env in spec.environments else None
    override: dict[str, Any] = _plain(env_node) if isinstance(env_node, dict) else {}
    here: Loc = ("environments", env)
    service_overrides = override.get("services")
    base_names = [s.name for s in spec.services]
    if isinstance(service_overrides, dict):
        unknown = [name for name in service_overrides if name not in base_names]
        if unknown:
            raise SpecError(
                [
                    f"{_where(path, document, (*here, 'services', name), True)}: "
                    f"{_dotted((*here, 'services', name))}: unknown service {name!r}"
                    f"{_suggest(name, base_names)}"
                    for name in unknown
                ],
                _HINT,
            )
    merged = _merge(_plain(document), override)
    merged.pop("environments", None)
    overridden_hosts = (
        {
            name
            for name, svc in (service_overrides or {}).items()
            if isinstance(svc, dict) and "hostname" in (svc.get("endpoint") or {})
        }
        if isinstance(service_overrides, dict)
        else set()
    )
    variables = {"env": env, "app": spec.app}
    if "namespace" not in override:
        merged["namespace"] = spec.preview.namespace_template.format(**variables)
    services = merged.get("services")
    for service in services if isinstance(services, list) else []:
        endpoint = service.get("endpoint") if isinstance(service, dict) else None
        if (
            isinstance(endpoint, dict)
            and service.get("name") not in overridden_hosts
            and "hostname" in endpoint
        ):
            endpoint["hostname"] = spec.preview.hostname_template.format(
                hostname=endpoint["hostname"], **variables
            )

    def translate(loc: Loc) -> Loc:
        """Point at the override when the value came from it, else at the base."""
        candidate: Loc
        if len(loc) >= 2 and loc[0] == "services" and isinstance(loc[1], int) and loc[1] < len(base_names):
            candidate = (*here, "services", base_names[loc[1]], *loc[2:])
        else:
            candidate = (*here, *loc)
        for cut in range(len(candidate), len(here), -1):
            if _exists(document, candidate[:cut]) and (cut == len(candidate) or cut > len(here) + 1):
                return candidate if cut == len(candidate) else candidate[:cut]
        return loc

    return validate_document(CommentedMap(merged), path, origin=document, translate=translate)


def _exists(root: Any, loc: Loc) -> bool:
    node = root
    for part in loc:
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not present:
            return False
        node = node[part]
    return True


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of {', '.join(choices)}" if choices else ""


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in override.items():
        if key == "services" and isinstance(value, dict):
            by_name = {s.get("name"): s for s in result.get("services", []) if isinstance(s, dict)}
            for name, service_override in value.items():
                target = by_name.get(name)
                if target is None or not isinstance(service_override, dict):
                    continue
                merged = _merge(target, service_override)
                target.clear()
                target.update(merged)
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


def _problems(
    exc: ValidationError,
    data: Any,
    positions: CommentedMap,
    path: Path,
    translate: typing.Callable[[Loc], Loc],
) -> list[str]:
    grouped: dict[Loc, list[str]] = {}
    kinds: dict[Loc, str] = {}
    for error in exc.errors():
        loc = _clean_loc(error["loc"], data)
        grouped.setdefault(loc, []).append(_message(error, loc))
        # A bad mapping key ("[key]" in pydantic's location) is shown at the key, like an unknown key.
        kind = "extra_forbidden" if error["loc"][-1:] == ("[key]",) else error["type"]
        kinds.setdefault(loc, kind)
    # "image: required" next to "imgae: unknown key; did you mean 'image'?" says the same thing twice.
    suggested = {
        (*loc[:-1], _close_key(loc))
        for loc, kind in kinds.items()
        if kind == "extra_forbidden" and _close_key(loc)
    }
    lines = []
    for loc, messages in grouped.items():
        if kinds[loc] == "missing" and loc in suggested:
            continue
        text = _join_alternatives(list(dict.fromkeys(messages)))
        source = translate(loc)
        at_key = kinds[loc] == "extra_forbidden"
        lines.append(f"{_where(path, positions, source, at_key)}: {_dotted(source)}: {text}")
    return lines


def _join_alternatives(messages: list[str]) -> str:
    """One line for a union's failed branches: ``expected A or B, found X``."""
    if len(messages) == 1:
        return messages[0]
    found = messages[0].rpartition(", found ")[2]
    wanted = [m.rpartition(", found ")[0].removeprefix("expected ") for m in messages]
    wanted = [
        "a certificate reference (certificateArn, secretName or certificateName)" if w == "a mapping" else w
        for w in wanted
    ]
    return f"expected {' or '.join(wanted)}, found {found}"


def _model_names() -> frozenset[str]:
    seen: set[str] = set()
    todo: list[type[BaseModel]] = [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("kumo.spec") and sub.__name__ not in seen:
                seen.add(sub.__name__)
            todo.append(sub)
    return frozenset(seen)


_UNION_TAGS = _model_names() | {"str", "int", "bool", "float", "none"}


def _clean_loc(loc: tuple[Any, ...], data: Any) -> Loc:
    """Drop the tags pydantic adds for union branches (``literal['auto','off']``, ``TlsRef``) and for
    mapping keys (``[key]``). A part that is a key of the validated data is the user's, whatever it
    looks like, so the data is walked alongside."""
    kept: list[str | int] = []
    node = data
    for part in loc:
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if present:
            kept.append(part)
            node = node[part]
        elif isinstance(part, int) or not (part in _UNION_TAGS or "[" in part):
            kept.append(part)  # a missing key: nothing left to walk
            node = None
    return tuple(kept)


def _message(error: Any, loc: Loc) -> str:
    kind = error["type"]
    found = error.get("input")
    if kind == "extra_forbidden" and loc:
        return f"unknown key {loc[-1]!r}{_did_you_mean(loc)}"
    if kind == "missing":
        return "required, but missing"
    ctx = error.get("ctx") or {}
    plain = {
        "int_parsing": "expected an integer",
        "int_type": "expected an integer",
        "int_from_float": "expected a whole number",
        "bool_parsing": "expected true or false",
        "bool_type": "expected true or false",
        "string_type": "expected a string",
        "list_type": "expected a list",
        "dict_type": "expected a mapping",
        "model_type": "expected a mapping",
        "model_attributes_type": "expected a mapping",
        "greater_than_equal": f"expected a number >= {ctx.get('ge')}",
        "less_than_equal": f"expected a number <= {ctx.get('le')}",
        "greater_than": f"expected a number > {ctx.get('gt')}",
        "less_than": f"expected a number < {ctx.get('lt')}",
        "string_pattern_mismatch": f"expected text matching {ctx.get('pattern')}",
        "too_short": f"expected at least {ctx.get('min_length')} item(s)",
    }
    message = plain.get(kind) or str(error["msg"])
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("Input should be"):
        message = "expected" + message[len("Input should be") :]
    if kind == "too_short":
        return f"{message}, found {len(found) if isinstance(found, (list, dict)) else 0}"
    if "found" not in message and not isinstance(found, (dict, list)):
        message += f", found {found!r}"
    elif "found" not in message:
        message += f", found a {'mapping' if isinstance(found, dict) else 'list'}"
    return message


def _close_key(loc: Loc) -> str | None:
    close = difflib.get_close_matches(str(loc[-1]), _allowed_keys(loc[:-1]), n=1, cutoff=0.6)
    return close[0] if close else None


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
    """An empty collection or a null has no position of its own; its key's position stands for it."""
    return node is not None and (not isinstance(node, (CommentedMap, CommentedSeq)) or len(node) > 0)


def locate(path: str | Path, loc: Loc) -> str:
    """``file:line:col`` of the field at ``loc`` (e.g. ``("cluster", "version")``) in the file, for
    errors found after loading (by the cloud layer, against a live account). The nearest existing
    parent stands in for a field the file leaves to its default."""
    path = Path(path)
    try:
        document = parse_yaml(path)
    except UsageError:
        return str(path)
    return _where(path, document, loc, False)


def retarget(spec: Spec, cloud: str, region: str | None = None) -> Spec:
    """The same spec for another cloud profile, validated again (``kumo render --profile``)."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    target = data["target"]
    if target["cloud"] != cloud:
        target["cloud"] = cloud
        target.pop("accountId", None)
        if region is not None:
            target["region"] = region
    where = f"--profile {cloud}"
    try:
        result = Spec.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{where}: {_dotted(_clean_loc(e['loc'], data))}: {_message(e, _clean_loc(e['loc'], data))}"
            for e in exc.errors()
        ]
        raise SpecError(
            list(dict.fromkeys(lines)), "Adjust kumo.yaml for that profile, or drop --profile."
        ) from None
    problems = [f"{where}: {_dotted(loc)}: {msg}" for loc, msg in cross_field_problems(result)]
    if problems:
        raise SpecError(problems, "Adjust kumo.yaml for that profile, or drop --profile.")
    return result.from_directory(spec.source_dir)
