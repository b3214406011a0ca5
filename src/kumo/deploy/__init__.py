"""kumo.deploy: releases on any cluster (apply, prune, wait, atomic rollback, history, lock, diff, status).

``kumo diff`` and ``kumo status`` (kumo.deploy.diff, kumo.deploy.live) load on first use: ``kumo up``
does not pay for them at start-up.
"""

from typing import TYPE_CHECKING, Any

from kumo.deploy.engine import (
    DeployFailed,
    DeployOptions,
    DownResult,
    RollbackResult,
    UpResult,
    down,
    history,
    preflight,
    rollback,
    up,
)
from kumo.deploy.lock import DeployLock, lease_name
from kumo.deploy.objects import APP_LABEL, ENV_LABEL, FIELD_MANAGER, RELEASE_LABEL, Ref
from kumo.deploy.releases import NAME_LABEL as RELEASE_NAME_LABEL
from kumo.deploy.releases import OWNER_LABEL as RELEASE_OWNER_LABEL
from kumo.deploy.releases import SECRET_TYPE as RELEASE_SECRET_TYPE
from kumo.deploy.releases import ReleaseStore, Revision
from kumo.deploy.releases import decode as decode_revision
from kumo.deploy.rendering import Rendered, load_release, release_name, render_release
from kumo.deploy.report import Reporter
from kumo.deploy.wait import (
    ObjectProgress,
    ReleaseWatcher,
    RolloutFailure,
    WaitResult,
    deployment_failure,
    newest_replicaset,
    pods_of,
)

if TYPE_CHECKING:
    from kumo.deploy.diff import FieldChange, ObjectDiff, describe, diff_object
    from kumo.deploy.live import RUNS_AS_ANNOTATION, ReleaseDiff, diff_release, release_status

#: Names loaded on first use, and their module.
_LAZY = {
    **dict.fromkeys(("FieldChange", "ObjectDiff", "describe", "diff_object"), "kumo.deploy.diff"),
    **dict.fromkeys(
        ("RUNS_AS_ANNOTATION", "ReleaseDiff", "diff_release", "release_status"), "kumo.deploy.live"
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "APP_LABEL",
    "ENV_LABEL",
    "FIELD_MANAGER",
    "RELEASE_LABEL",
    "RELEASE_NAME_LABEL",
    "RELEASE_OWNER_LABEL",
    "RELEASE_SECRET_TYPE",
    "RUNS_AS_ANNOTATION",
    "DeployFailed",
    "DeployLock",
    "DeployOptions",
    "DownResult",
    "FieldChange",
    "ObjectDiff",
    "ObjectProgress",
    "Ref",
    "ReleaseDiff",
    "ReleaseStore",
    "ReleaseWatcher",
    "Rendered",
    "Reporter",
    "Revision",
    "RollbackResult",
    "RolloutFailure",
    "UpResult",
    "WaitResult",
    "decode_revision",
    "deployment_failure",
    "describe",
    "diff_object",
    "diff_release",
    "down",
    "history",
    "lease_name",
    "load_release",
    "newest_replicaset",
    "pods_of",
    "preflight",
    "release_name",
    "release_status",
    "render_release",
    "rollback",
    "up",
]
