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
from kumo.deploy.live import ReleaseDiff, diff_release, release_status
from kumo.deploy.lock import DeployLock, lease_name
from kumo.deploy.objects import APP_LABEL, ENV_LABEL, FIELD_MANAGER, RELEASE_LABEL, Ref
from kumo.deploy.releases import ReleaseStore, Revision
from kumo.deploy.rendering import Rendered, load_release, release_name, render_release
from kumo.deploy.report import Reporter
from kumo.deploy.wait import ObjectProgress, ReleaseWatcher, RolloutFailure, WaitResult

__all__ = [
    "APP_LABEL",
    "ENV_LABEL",
    "FIELD_MANAGER",
    "RELEASE_LABEL",
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
    "describe",
    "diff_object",
    "diff_release",
    "down",
    "history",
    "lease_name",
    "load_release",
    "preflight",
    "release_name",
    "release_status",
    "render_release",
    "rollback",
    "up",
]
