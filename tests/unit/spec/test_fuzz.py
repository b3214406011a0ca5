"""Whatever a kumo.yaml holds, loading it either succeeds or fails with located problems:
never a traceback, never a problem without ``path:line:col``."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from kumo.errors import SpecError, UsageError
from kumo.spec import Spec, load_spec

SEED = Path(__file__).parents[3] / "examples/online-app/kumo.yaml"
_LOCATED = re.compile(r"^.+:\d+:\d+: \S")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(
        ["auto", "off", "ingress", "gateway", "nginx:1.27", "1.33", "https", "aws", "example.com"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(document: Any, path: tuple[Any, ...], action: str, value: Any) -> None:
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif isinstance(parent, dict):  # add a sibling key
        parent[f"{last}x"] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_mutation_of_the_seed_loads_or_fails_located(data: st.DataObject) -> None:
    yaml = YAML(typ="rt")
    document = yaml.load(SEED.read_text())
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        _mutate(document, path, data.draw(st.sampled_from(["delete", "replace", "add"])), data.draw(values))
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "kumo.yaml"
        with target.open("w") as handle:
            yaml.dump(document, handle)
        for env in (None, "staging", "pr-1"):
            try:
                assert isinstance(load_spec(target, env=env), Spec)
            except SpecError as exc:
                assert exc.problems
                for problem in exc.problems:
                    assert _LOCATED.match(problem), problem
            except UsageError as exc:  # only an unreadable file or a bad --env name
                assert "--env" in exc.message or "cannot read" in exc.message


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_loads_or_fails_located(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "kumo.yaml"
        target.write_text(text, encoding="utf-8")
        try:
            load_spec(target)
        except SpecError as exc:
            assert all(_LOCATED.match(problem) for problem in exc.problems), exc.problems
