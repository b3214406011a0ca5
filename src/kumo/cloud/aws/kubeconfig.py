"""A kubeconfig context for the cluster, as ``aws eks update-kubeconfig`` writes it, but with
kumo's own token (exec plugin ``kumo cloud token``), so no AWS CLI is needed.

The context is merged into the file (other contexts stay) and becomes the current one. With an
endpoint override (the sandbox and the tests point it at the Kubernetes API emulator) the context
names that server instead; a plain-http server gets no CA.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from kumo.cloud.aws.token import EXEC_API_VERSION


def default_kubeconfig() -> Path:
    """As kubectl: the first file in $KUBECONFIG, else ~/.kube/config."""
    env = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(env[0]).expanduser() if env else Path("~/.kube/config").expanduser()


def _exec_command() -> tuple[str, list[str]]:
    if shutil.which("kumo"):
        return "kumo", []
    return sys.executable, ["-m", "kumo"]


def write_context(
    path: Path,
    name: str,
    cluster: str,
    region: str,
    server: str,
    ca_data: str | None,
) -> str:
    """Add or replace the context ``name`` (and its cluster and user) and make it current."""
    config: dict[str, Any] = {}
    if path.is_file():
        config = yaml.safe_load(path.read_text()) or {}
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    entry: dict[str, Any] = {"server": server}
    if ca_data and not server.startswith("http://"):
        entry["certificate-authority-data"] = ca_data
    command, prefix = _exec_command()
    env = []
    if os.environ.get("AWS_PROFILE"):
        env.append({"name": "AWS_PROFILE", "value": os.environ["AWS_PROFILE"]})
    user: dict[str, Any] = {
        "exec": {
            "apiVersion": EXEC_API_VERSION,
            "command": command,
            "args": [*prefix, "cloud", "token", "--cluster", cluster, "--region", region],
            "interactiveMode": "Never",
            "provideClusterInfo": False,
            **({"env": env} if env else {}),
        }
    }
    for key, value in (
        ("clusters", {"name": name, "cluster": entry}),
        ("users", {"name": name, "user": user}),
        ("contexts", {"name": name, "context": {"cluster": name, "user": name}}),
    ):
        items = [i for i in config.get(key) or [] if i.get("name") != name]
        config[key] = [*items, value]
    config["current-context"] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".kumo-tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return name
