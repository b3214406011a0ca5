"""Kubeconfig files that point kubectl and client libraries at an emulator."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from kumo.sandbox.kubeapi.tls import TlsMaterial


def kubeconfig_dict(
    url: str, context: str = "kumo-sandbox", namespace: str = "default", tls: TlsMaterial | None = None
) -> dict[str, Any]:
    """Over HTTP the admin is the token ``kumo-sandbox``; with TLS, a client certificate for
    ``kubernetes-admin`` in ``system:masters``, and the CA that signed the server."""
    cluster: dict[str, Any] = {"server": url}
    user: dict[str, Any] = {"token": "kumo-sandbox"}
    if tls is not None:
        cluster["certificate-authority-data"] = base64.b64encode(tls.ca_pem).decode()
        user = {
            "client-certificate-data": base64.b64encode(tls.client_cert_pem).decode(),
            "client-key-data": base64.b64encode(tls.client_key_pem).decode(),
        }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": user}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
        ],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(
    path: str | os.PathLike[str], url: str, context: str = "kumo-sandbox", tls: TlsMaterial | None = None
) -> Path:
    """Write (atomically) a kubeconfig whose current context is the emulator at ``url``.

    The temporary file comes from ``mkstemp`` in the target's directory (a fresh name, created
    exclusively with mode 0600), never a predictable ``NAME.tmp`` that a planted symlink could
    redirect; the rename then replaces ``path`` itself, not what a symlink there points at."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(yaml.safe_dump(kubeconfig_dict(url, context, tls=tls), sort_keys=False))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
