"""Kubeconfig files that point kubectl and client libraries at an emulator."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def kubeconfig_dict(url: str, context: str = "kumo-sandbox", namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": "kumo-sandbox"}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
        ],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(path: str | os.PathLike[str], url: str, context: str = "kumo-sandbox") -> Path:
    """Write (atomically) a kubeconfig whose current context is the emulator at ``url``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(yaml.safe_dump(kubeconfig_dict(url, context), sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(target)
    return target
