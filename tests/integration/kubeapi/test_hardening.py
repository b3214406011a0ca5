"""Hostile requests to the emulator (issue 10, items 13-17): each gets a 4xx Status, and nothing of
a refused write is stored."""

from __future__ import annotations

import json
import marshal
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kumo.sandbox.kubeapi import KubeAPI
from kumo.sandbox.kubeapi.catalog import Catalog
from kumo.sandbox.kubeapi.validation import SchemaValidator, _builtin, _cache_dir

NS = "/api/v1/namespaces/default"


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with (
        KubeAPI(seed=3) as emulator,
        httpx.Client(base_url=emulator.url, timeout=30) as client,
    ):
        yield client


def nested(levels: int, leaf: Any = "v") -> Any:
    value = leaf
    for _ in range(levels):
        value = {"x": value}
    return value


def _post(api: httpx.Client, path: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return api.post(path, content=content, headers={"content-type": "application/json"})


def _reason(response: httpx.Response) -> str:
    body = response.json()
    assert body["kind"] == "Status"
    return str(body["message"])


def test_item13_failed_write_is_not_stored(api: httpx.Client) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "deep"}, "unknown": nested(250)}
    response = _post(api, f"{NS}/secrets", secret)
    assert response.status_code == 400, response.text
    assert api.get(f"{NS}/secrets/deep").status_code == 404
    assert api.get("/api/v1/secrets").status_code == 200

    # Patches that each stay within the body limit but together nest past what can be served back:
    # the one that crosses the line is refused whole, and the stored object is the one before it.
    # (a kind without a schema keeps any field; a ConfigMap would drop "extra" as an unknown field)
    grants = "/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants"
    created = _post(api, grants, {"metadata": {"name": "grow"}, "extra": nested(90)})
    assert created.status_code == 201, created.text
    path, last, response = "/extra", created, created
    for _ in range(3):
        patch = [{"op": "add", "path": path + "/x" * 89 + "/more", "value": nested(90)}]
        response = api.patch(
            f"{grants}/grow",
            content=json.dumps(patch),
            headers={"content-type": "application/json-patch+json"},
        )
        if response.status_code != 200:
            break
        path, last = path + "/x" * 89 + "/more", response
    assert last is not created, "the first patch is small enough to be stored"
    assert response.status_code == 422, response.text[:300]
    assert "cannot be stored" in _reason(response)
    stored = api.get(f"{grants}/grow")
    assert stored.status_code == 200
    assert stored.json()["extra"] == last.json()["extra"]
    assert api.get(grants).status_code == 200
    assert api.delete(f"{grants}/grow").status_code == 200


@pytest.mark.parametrize("levels", [254, 600, 1022])
def test_item14_deep_json_body_is_400(api: httpx.Client, levels: int) -> None:
    # Written as text: Python's own json module cannot write 1022 levels either.
    deep = '{"x":' * levels + '"v"' + "}" * levels
    body = f'{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "deep{levels}"}}, "x": {deep}}}'
    response = _post(api, f"{NS}/configmaps", body)
    assert response.status_code == 400, response.text
    assert "nested more than 100 levels deep" in _reason(response)
    assert api.get(f"{NS}/configmaps/deep{levels}").status_code == 404


def test_item14_negative_limit_is_400(api: httpx.Client) -> None:
    response = api.get(f"{NS}/configmaps", params={"limit": "-1"})
    assert response.status_code == 400, response.text
    assert "limit" in _reason(response)
    assert api.get(f"{NS}/configmaps", params={"limit": "0"}).status_code == 200


def alias_bomb(levels: int = 6, width: int = 9) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "junk:"]
    lines.append("  a0: &a0 [" + ", ".join(["lol"] * width) + "]")
    for level in range(1, levels):
        lines.append(f"  a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_item15_yaml_alias_bomb_is_400(api: httpx.Client) -> None:
    body = alias_bomb()
    assert len(body) < 600
    response = api.patch(
        f"{NS}/configmaps/bomb",
        params={"fieldManager": "test"},
        content=body,
        headers={"content-type": "application/apply-patch+yaml"},
    )
    assert response.status_code == 400, response.text[:300]
    assert "excessive aliasing" in _reason(response)
    assert api.get(f"{NS}/configmaps/bomb").status_code == 404


def test_item15_body_over_3_mib_is_413_and_not_stored(api: httpx.Client) -> None:
    body = {"metadata": {"name": "big"}, "data": {"a": "x" * (3 * 1024 * 1024)}}
    response = _post(api, f"{NS}/configmaps", body)
    assert response.status_code == 413, response.text[:300]
    assert response.json()["reason"] == "RequestEntityTooLarge"
    assert api.get(f"{NS}/configmaps/big").status_code == 404
    assert (
        _post(api, f"{NS}/configmaps", {"metadata": {"name": "big"}, "data": {"a": "x" * 1000}}).status_code
        == 201
    )


def test_item15_a_name_that_is_not_a_string_is_422(api: httpx.Client) -> None:
    response = _post(api, f"{NS}/configmaps", {"metadata": {"name": 5}})
    assert response.status_code == 422, response.text
    assert "metadata.name" in _reason(response)
    assert api.get(f"{NS}/configmaps/5").status_code == 404


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "patterns.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "patterns", "singular": "pattern", "kind": "Pattern"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "word": {"type": "string", "pattern": "^(a+)+$"},
                                    "other": {"type": "string", "pattern": "^(?=a)"},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


def test_item16_crd_pattern_matches_in_linear_time(api: httpx.Client) -> None:
    assert _post(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD).status_code == 201
    path = "/apis/example.com/v1/namespaces/default/patterns"

    def create(name: str, spec: dict[str, str]) -> httpx.Response:
        body = {"apiVersion": "example.com/v1", "kind": "Pattern", "metadata": {"name": name}, "spec": spec}
        # With a backtracking engine, 64 a's and a b take longer than the universe has existed.
        return api.post(path, content=json.dumps(body), timeout=20)

    evil = create("evil", {"word": "a" * 64 + "b"})
    assert evil.status_code == 422, evil.text
    assert "spec.word" in _reason(evil)
    assert create("fine", {"word": "a" * 64}).status_code == 201
    # Go's regexp has no lookahead: such a pattern can never match there, and is reported as such.
    odd = create("odd", {"other": "a"})
    assert odd.status_code == 422 and "not a valid RE2 expression" in _reason(odd), odd.text


def _configmap_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SchemaValidator, Any, Path]:
    monkeypatch.setenv("KUMO_CACHE_DIR", str(tmp_path / "cache"))
    _builtin.cache_clear()
    rt = Catalog().lookup("", "v1", "configmaps")
    validator = SchemaValidator()
    assert validator.validate(rt, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}) == []
    (cached,) = _cache_dir().glob("*.marshal")
    return validator, rt, cached


@pytest.mark.parametrize("tamper", ["world-writable", "other-owner", "writable-dir", "symlink"])
def test_item17_schema_cache_is_not_loaded_unless_ours_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: str
) -> None:
    validator, rt, cached = _configmap_cache(tmp_path, monkeypatch)
    marker = tmp_path / "pwned"
    evil = compile(
        f"open({str(marker)!r}, 'w').write('x')\ndef validate(data): return data\n", "evil", "exec"
    )
    planted = tmp_path / "planted.marshal" if tamper == "symlink" else cached
    if tamper == "symlink":
        cached.unlink()
        cached.symlink_to(planted)
    planted.write_bytes(marshal.dumps(evil))
    if tamper == "world-writable":
        cached.chmod(0o666)
    elif tamper == "other-owner":
        os.chown(cached, 65534, 65534)
    elif tamper == "writable-dir":
        cached.parent.chmod(0o777)
    try:
        _builtin.cache_clear()
        assert validator.validate(rt, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5}})
        assert not marker.exists()
    finally:
        _builtin.cache_clear()


def test_item17_a_cache_of_our_own_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    validator, rt, cached = _configmap_cache(tmp_path, monkeypatch)
    assert cached.stat().st_mode & 0o077 == 0
    marker = tmp_path / "loaded"
    code = compile(
        f"open({str(marker)!r}, 'w').write('x')\ndef validate(data): return data\n", "ours", "exec"
    )
    cached.write_bytes(marshal.dumps(code))
    _builtin.cache_clear()
    try:
        validator.validate(rt, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
        assert marker.exists()  # the check is what keeps the others out, not a cache that never loads
    finally:
        _builtin.cache_clear()
