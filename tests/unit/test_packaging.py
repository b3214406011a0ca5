"""Packaging that says what it uses: every third-party import is declared, majors are pinned where
internals are used, no private modules of other projects, ARCHITECTURE section 2's import rules hold,
and `kumo plan` does not load the cluster or cloud clients."""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "kumo"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@functools.cache
def _imports() -> list[tuple[Path, str]]:
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return [(p, m) for p, m in found if m.split(".")[0] not in sys.stdlib_module_names and m != "kumo"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_third_party_module_src_imports_is_declared() -> None:
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    owners = packages_distributions()
    missing = set()
    for path, module in _imports():
        top = module.split(".")[0]
        if top == "kumo":
            continue
        dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
        if not dists & declared:
            missing.add(f"{top} (imported by {path.relative_to(ROOT)}; from {', '.join(sorted(dists))})")
    assert not missing, sorted(missing)


def test_libraries_whose_internals_kumo_uses_are_pinned_to_a_major() -> None:
    pins = {_name(r): r for r in PYPROJECT["project"]["dependencies"]}
    assert pins["lightkube"] == "lightkube>=1,<2"
    assert "<0.30" in pins["typer"]


def test_no_private_module_of_another_project_is_imported() -> None:
    private = [
        f"{path.relative_to(ROOT)}: {module}"
        for path, module in _imports()
        if not module.startswith("kumo") and any(part.startswith("_") for part in module.split(".")[1:])
    ]
    assert private == []


def test_the_import_rules_of_the_architecture_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


#: What a command imports in its own process, not in a resident server's child (kumo.cli.server).
COLD = {**os.environ, "KUMO_SERVER": "off"}


def test_kumo_plan_loads_no_cluster_or_cloud_client() -> None:
    code = "\n".join(
        [
            "import sys",
            f"sys.argv = ['kumo', 'plan', {str(ROOT / 'examples/online-app/kumo.yaml')!r}]",
            "from kumo.cli import main",
            "try:",
            "    main()",
            "except SystemExit as exc:",
            "    assert exc.code == 0, exc.code",
            "heavy = ('lightkube', 'httpx2', 'boto3', 'botocore', 'kumo.kube', 'kumo.deploy', 'kumo.cloud')",
            "print('LOADED=' + ','.join(m for m in heavy if m in sys.modules), file=sys.stderr)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=COLD
    )
    assert "LOADED=" in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "LOADED=", result.stderr[-2000:]


def _loaded_after(code: str, heavy: tuple[str, ...]) -> list[str]:
    probe = "\n".join(
        [
            "import sys",
            code,
            f"print('LOADED=' + ','.join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=COLD
    )
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    assert last.startswith("LOADED="), result.stderr[-2000:]
    return [m for m in last.removeprefix("LOADED=").split(",") if m]


def test_kumo_help_loads_no_spec_model_render_or_client() -> None:
    # Every command pays for what the root command imports: the library loads inside each command.
    code = "\n".join(
        [
            "sys.argv = ['kumo', 'up', '--help']",
            "from kumo.cli import main",
            "try:",
            "    main()",
            "except SystemExit as exc:",
            "    assert exc.code == 0, exc.code",
        ]
    )
    heavy = ("kumo.spec", "kumo.render", "kumo.plan", "kumo.deploy", "kumo.kube", "lightkube", "boto3")
    # ... and only its own command module: not the DNS controller's command of a hundred options.
    others = ("kumo.cli.dns_cmds", "kumo.dns", "kumo.cli.cloud_cmds", "kumo.cli.sandbox_cmds")
    assert _loaded_after(code, heavy + others) == []


def test_each_area_registers_the_commands_the_root_command_expects_of_it() -> None:
    from kumo.cli.app import AREAS, build_app

    for name, area in AREAS.items():
        root = build_app([name])
        names = [c.name for c in root.registered_commands] + [g.name for g in root.registered_groups]
        assert sorted(str(n) for n in names) == sorted(area.commands), name


def test_kumo_up_loads_no_cloud_client_or_resolver() -> None:
    # What `kumo up` imports (its command module, its progress printer, the engine): no AWS client,
    # dnspython only once a name is looked up, Rich only on a styled print, and not the modules of
    # `kumo diff` / `kumo status` (tests/integration/deploy/test_up.py runs `kumo up` itself).
    code = "import kumo.cli.app, kumo.cli.deploy_cmds, kumo.cli.progress, kumo.deploy"
    heavy = ("boto3", "botocore", "kumo.cloud", "dns.resolver", "kumo.plan", "rich")
    assert _loaded_after(code, (*heavy, "kumo.deploy.live", "kumo.deploy.diff")) == []
