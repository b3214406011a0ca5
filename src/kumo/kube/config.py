"""Finding the cluster: a kubeconfig file and context, or the in-cluster service account.

lightkube parses kubeconfig files (including exec-plugin auth, as EKS uses) and builds the
authenticated HTTP client; this module only turns its failures into errors a user can act on.
"""

from __future__ import annotations

import os
from pathlib import Path

from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import User
from lightkube.core.exceptions import ConfigError

from kumo.errors import UsageError

_DEFAULT_KUBECONFIG = "~/.kube/config"
_SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def kubeconfig_paths(kubeconfig: str | None) -> list[Path]:
    """Where to look: the given file, else each path in $KUBECONFIG, else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path(_DEFAULT_KUBECONFIG).expanduser()]


def load_config(kubeconfig: str | None = None, context: str | None = None) -> SingleConfig:
    """Select one cluster + user. In-cluster config is used only when no file or context is asked for."""
    if (
        kubeconfig is None
        and context is None
        and (_SERVICE_ACCOUNT / "token").exists()
        and os.environ.get("KUBERNETES_SERVICE_HOST")
    ):
        try:
            single = KubeConfig.from_service_account().get()
            assert single is not None
            return _with_user(single)
        except (ConfigError, KeyError) as exc:
            raise UsageError(f"cannot use the in-cluster service account: {exc}") from None
    paths = kubeconfig_paths(kubeconfig)
    existing = [p for p in paths if p.is_file()]
    if not existing:
        shown = ", ".join(str(p) for p in paths)
        raise UsageError(
            f"no kubeconfig found (looked at {shown})",
            "Pass --kubeconfig, set KUBECONFIG, or start a local emulator with "
            "`kumo sandbox kubeapi --kubeconfig PATH`.",
        )
    config = _merged(existing)
    if context is not None and context not in config.contexts:
        available = ", ".join(sorted(config.contexts)) or "none"
        raise UsageError(
            f"kubeconfig context {context!r} not found in {', '.join(str(p) for p in existing)}; "
            f"available contexts: {available}",
            "Pick one of the available contexts with --context, or set target.context in kumo.yaml.",
        )
    try:
        single = config.get(context_name=context)
    except ConfigError as exc:
        raise UsageError(f"kubeconfig {existing[0]}: {exc}", "Pass --context NAME.") from None
    except KeyError as exc:
        raise UsageError(
            f"kubeconfig {existing[0]}: the context refers to a missing cluster or user {exc}"
        ) from None
    assert single is not None
    return _with_user(single)


def _merged(paths: list[Path]) -> KubeConfig:
    """Merge several kubeconfig files the way kubectl does: the first file to define a name wins."""
    configs = []
    for path in paths:
        try:
            configs.append(KubeConfig.from_file(path))
        except ConfigError as exc:
            raise UsageError(f"kubeconfig {path}: {exc}") from None
        except Exception as exc:  # a YAML or structure error inside the file
            raise UsageError(f"kubeconfig {path}: cannot parse: {exc}") from None
    first = configs[0]
    for other in configs[1:]:
        for name, value in other.contexts.items():
            first.contexts.setdefault(name, value)
        for name, cluster in other.clusters.items():
            first.clusters.setdefault(name, cluster)
        for name, user in other.users.items():
            first.users.setdefault(name, user)
        if first.current_context is None:
            first.current_context = other.current_context
    return first


def _with_user(single: SingleConfig) -> SingleConfig:
    # lightkube's HTTP adapter insists on a user; an anonymous context (e.g. a local emulator) has none.
    if single.user is None:
        return single._replace(user=User())
    return single
