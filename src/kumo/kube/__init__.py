"""kumo.kube: the one Kubernetes access layer (lightkube underneath, plain-dict objects on top)."""

from kumo.kube import readiness
from kumo.kube.client import KubeClient, Obj, ObjList, connect
from kumo.kube.config import load_config
from kumo.kube.errors import ApiError, ApiLost, Conflict, Forbidden, Gone, Invalid, NotFound, Unreachable
from kumo.kube.events import record_event
from kumo.kube.informer import RESYNC, Informer
from kumo.kube.lease import LeaseHolder, LeaseLock, default_identity, lease_holder, show_pid
from kumo.kube.resources import ResourceInfo

__all__ = [
    "RESYNC",
    "ApiError",
    "ApiLost",
    "Conflict",
    "Forbidden",
    "Gone",
    "Informer",
    "Invalid",
    "KubeClient",
    "LeaseHolder",
    "LeaseLock",
    "NotFound",
    "Obj",
    "ObjList",
    "ResourceInfo",
    "Unreachable",
    "connect",
    "default_identity",
    "lease_holder",
    "load_config",
    "readiness",
    "record_event",
    "show_pid",
]
