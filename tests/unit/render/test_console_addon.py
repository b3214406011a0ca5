"""kumo console's in-cluster manifests: read-only RBAC, non-root, read-only root, token required."""

from __future__ import annotations

from pathlib import Path

from kumo.console import check_options
from kumo.console.server import ConsoleOptions
from kumo.render import render, validate_objects
from tests.unit.render.conftest import SpecFactory, kinds, pick

READ_ONLY = {"get", "list", "watch"}


def test_only_with_the_switch(make_spec: SpecFactory) -> None:
    spec = make_spec("aws")
    assert not [k for k in kinds(render(spec)) if "kumo-console" in k]
    added = [k for k in kinds(render(spec, console=True)) if "kumo-console" in k]
    assert added == [
        "ServiceAccount/kumo-console",
        "ClusterRole/kumo-console",
        "ClusterRoleBinding/kumo-console",
        "Deployment/kumo-console",
        "Service/kumo-console",
    ]


def test_read_only_cluster_role(make_spec: SpecFactory) -> None:
    objects = render(make_spec("aws"), console=True)
    role = next(o for o in objects if o["kind"] == "ClusterRole" and o["metadata"]["name"] == "kumo-console")
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs <= READ_ONLY
    assert {"pods/log"} <= {r for rule in role["rules"] for r in rule["resources"]}


def test_pod_is_locked_down_and_needs_its_token(make_spec: SpecFactory) -> None:
    objects = render(make_spec("aws"), console=True)
    deployment = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "kumo-console"
    )
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    args = container["args"]
    assert args[0] == "console" and "--dns-from-pods=kumo-dns" in args
    # The args pass the console's own start-up check: a non-loopback address with a token file.
    address = next(a.split("=", 1)[1] for a in args if a.startswith("--address="))
    token_file = next(a.split("=", 1)[1] for a in args if a.startswith("--token-file="))
    assert address.startswith("0.0.0.0:") and token_file.startswith("/var/run/")
    assert not validate_objects(objects)


def test_namespace_when_no_dns_controller(make_spec: SpecFactory) -> None:
    spec = make_spec("aws", dns="  controller:\n    enabled: false\n")
    objects = render(spec, console=True)
    assert (
        pick(objects, "Namespace", "kumo-system")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )
    deployment = pick(objects, "Deployment", "kumo-console")
    assert not [a for a in deployment["spec"]["template"]["spec"]["containers"][0]["args"] if "dns" in a]


def test_non_loopback_needs_a_token_file() -> None:
    import pytest

    from kumo.errors import UsageError

    with pytest.raises(UsageError, match="--token-file"):
        check_options(ConsoleOptions(address="0.0.0.0:8080"))
    assert check_options(ConsoleOptions(address="127.0.0.1:0"))[1] == 0


def test_render_cli_flag() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    kumo = str(Path(sys.executable).parent / "kumo")
    example = str(root / "examples" / "hello-generic" / "kumo.yaml")
    result = subprocess.run(
        [kumo, "render", example, "--with-console", "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "name: kumo-console" in result.stdout and "readOnlyRootFilesystem: true" in result.stdout


def test_token_file_is_checked(tmp_path: Path) -> None:
    import pytest

    from kumo.errors import UsageError

    for bad in ["short", "has space in it 1234567890", 'quote"and;semicolon1234']:
        (tmp_path / "t").write_text(bad)
        with pytest.raises(UsageError, match="--token-file"):
            check_options(ConsoleOptions(address="0.0.0.0:8080", token_file=str(tmp_path / "t")))
    (tmp_path / "t").write_text("abcdefghijklmnop_-1234\n")
    assert check_options(ConsoleOptions(address="0.0.0.0:8080", token_file=str(tmp_path / "t")))[2] == (
        "abcdefghijklmnop_-1234"
    )
    with pytest.raises(UsageError, match="cannot read"):
        check_options(ConsoleOptions(token_file=str(tmp_path / "missing")))
