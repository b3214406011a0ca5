from __future__ import annotations

from pathlib import Path

import pytest

from kumo.errors import UsageError
from kumo.kube import load_config
from kumo.kube.resources import BUILTIN, from_discovery

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: "http://127.0.0.1:1"}
contexts:
- name: first
  context: {cluster: one, namespace: team}
- name: second
  context: {cluster: one}
current-context: first
"""


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    return path


def test_current_context_is_used_by_default(kubeconfig: Path) -> None:
    config = load_config(str(kubeconfig))
    assert config.context_name == "first"
    assert config.namespace == "team"


def test_missing_context_names_the_available_ones(kubeconfig: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_config(str(kubeconfig), "prod")
    assert "'prod' not found" in caught.value.message
    assert "available contexts: first, second" in caught.value.message


def test_missing_kubeconfig_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no kubeconfig found"):
        load_config(str(tmp_path / "absent"))


def test_kubeconfig_env_with_several_files_is_merged(
    kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.write_text(KUBECONFIG.replace("first", "third").replace("second", "fourth"))
    monkeypatch.setenv("KUBECONFIG", f"{kubeconfig}:{other}")
    assert load_config(None, "fourth").context_name == "fourth"
    assert load_config().context_name == "first"


def test_builtin_paths() -> None:
    assert (
        BUILTIN[("apps/v1", "Deployment")].collection_path("ns") == "/apis/apps/v1/namespaces/ns/deployments"
    )
    assert BUILTIN[("v1", "Namespace")].object_path("x", "ignored") == "/api/v1/namespaces/x"
    assert BUILTIN[("v1", "Pod")].collection_path(None) == "/api/v1/pods"


def test_discovery_document_skips_subresources() -> None:
    document = {
        "resources": [
            {"name": "gateways", "kind": "Gateway", "namespaced": True},
            {"name": "gateways/status", "kind": "Gateway", "namespaced": True},
            {"name": "gatewayclasses", "kind": "GatewayClass", "namespaced": False},
        ]
    }
    found = from_discovery("gateway.networking.k8s.io/v1", document)
    assert found["Gateway"].plural == "gateways"
    assert found["GatewayClass"].namespaced is False
