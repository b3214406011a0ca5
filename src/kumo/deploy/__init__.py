"""kumo.deploy: releases on any cluster (apply, prune, wait, atomic rollback, history, lock, diff, status)."""

from kumo.deploy.diff import FieldChange, ObjectDiff, describe, diff_object
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
from kumo.deploy.live import RUNS_AS_ANNOTATION, ReleaseDiff, diff_release, release_status
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
