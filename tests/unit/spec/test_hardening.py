"""Hostile kumo.yaml files (issue 10, items 1, 2 and 4): each is refused with a located message
before any model is built, never with a traceback or gigabytes of memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kumo.errors import SpecError
from kumo.spec import load_spec
from kumo.spec.loader import MAX_ALIAS_VALUES, MAX_BYTES, MAX_DEPTH
from tests.unit.spec.conftest import BASE


def _refused(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.exit_code == 2
    return caught.value.message


def alias_bomb(levels: int = 6, width: int = 9) -> str:
    """Nested anchors under an unknown key: a few hundred bytes that expand to width**levels values."""
    lines = ["junk:", "  a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"  a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return BASE + "\n".join(lines) + "\n"


def test_item01_yaml_alias_bomb_refused(write: Callable[[str], Path]) -> None:
    path = write(alias_bomb())
    assert path.stat().st_size < 1000
    message = _refused(path)
    assert message.startswith(f"{path}:")
    assert f"YAML aliases repeat more than {MAX_ALIAS_VALUES} values" in message
    assert "kumo expands aliases (*name) only up to that bound" in message


def test_item01_a_few_aliases_still_work(write: Callable[[str], Path]) -> None:
    text = BASE.replace("    replicas: 2\n", "    replicas: &n 2\n") + (
        "  - name: worker\n    image: busybox:1.36\n    replicas: *n\n"
    )
    spec = load_spec(write(text))
    assert [s.replicas for s in spec.services] == [2, 2]


@pytest.mark.parametrize(
    "nest",
    [
        pytest.param(lambda n: "junk: " + "[" * n + "]" * n + "\n", id="flow"),
        pytest.param(
            lambda n: "".join("  " * i + f"k{i}:\n" for i in range(n)) + "  " * n + "x: 1\n", id="block"
        ),
    ],
)
def test_item02_deep_nesting_is_a_located_spec_error(
    write: Callable[[str], Path], nest: Callable[[int], str]
) -> None:
    for levels in (MAX_DEPTH + 5, 400):
        message = _refused(write(BASE + nest(levels)))
        assert f"nested more than {MAX_DEPTH} levels deep" in message
        line = int(message.split(":")[1])
        assert line > BASE.count("\n")  # located in the nested part, not at 1:1


def test_item02_file_size_is_capped(write: Callable[[str], Path]) -> None:
    path = write(BASE + "# " + "x" * MAX_BYTES + "\n")
    assert f"a kumo.yaml may have at most {MAX_BYTES}" in _refused(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ("- name: web", "- name: 1web"),
            "services[0].name: expected a Service name: a DNS label that starts with a letter",
            id="service-name-starts-with-digit",
        ),
        pytest.param(
            ("    port: 80\n", "    port: 80\n    security:\n      writablePaths: [/data/x_y, /data/x-y]\n"),
            "services[0].security.writablePaths[1]: expected writable paths whose volume names differ, "
            "found '/data/x-y' and '/data/x_y', which both make volume 'data-x-y'",
            id="duplicate-volume-names",
        ),
        pytest.param(
            ("hostname: www.example.com", f"hostname: {'a' * 63}.example.com"),
            "services[0].endpoint.hostname: expected a first label of at most 57 characters",
            id="txt-ownership-label-too-long",
        ),
    ],
)
def test_item04_names_the_api_server_rejects_are_refused_in_the_spec(
    write: Callable[[str], Path], change: tuple[str, str], expected: str
) -> None:
    path = write(BASE.replace(*change))
    message = _refused(path)
    assert message.startswith(f"{path}:")
    assert expected in message


def test_item04_longest_allowed_label_still_loads(write: Callable[[str], Path]) -> None:
    spec = load_spec(write(BASE.replace("hostname: www.example.com", f"hostname: {'a' * 57}.example.com")))
    assert spec.services[0].endpoint is not None
