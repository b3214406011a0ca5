"""Kubeconfig files that point kubectl and client libraries at an emulator."""

from __future__ import annotations

import os
import tempfile
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
    """Write (atomically) a kubeconfig whose current context is the emulator at ``url``.

    The temporary file comes from ``mkstemp`` in the target's directory (a fresh name, created
    exclusively with mode 0600), never a predictable ``NAME.tmp`` that a planted symlink could
    redirect; the rename then replaces ``path`` itself, not what a symlink there points at."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(yaml.safe_dump(kubeconfig_dict(url, context), sort_keys=False))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
