"""kumo.cloud.aws: the seed system's AWS side (EKS, node group, OIDC, IRSA role, certificate).

One small reconciler per resource (read current -> diff -> apply), found again by name and kumo's
tags: no state file. ``plan`` reads only; ``apply`` is idempotent and resumable; ``destroy`` deletes
only what kumo tagged. See docs/cloud.md.
"""

from kumo.cloud.aws.context import APP_TAG, MANAGED_BY, MANAGED_TAG, Reporter, Step, Waits
from kumo.cloud.aws.eks import EKS_VERSIONS
from kumo.cloud.aws.engine import (
    CloudOptions,
    CloudResult,
    DestroyResult,
    LoadBalancer,
    Outputs,
    apply,
    destroy,
    destroy_plan,
    live_facts,
    plan,
    status,
)
from kumo.cloud.aws.iam import EKS_OIDC_THUMBPRINT
from kumo.cloud.aws.kubeconfig import default_kubeconfig
from kumo.cloud.aws.token import CLUSTER_HEADER, TOKEN_PREFIX, eks_token, exec_credential

__all__ = [
    "APP_TAG",
    "CLUSTER_HEADER",
    "EKS_OIDC_THUMBPRINT",
    "EKS_VERSIONS",
    "MANAGED_BY",
    "MANAGED_TAG",
    "TOKEN_PREFIX",
    "CloudOptions",
    "CloudResult",
    "DestroyResult",
    "LoadBalancer",
    "Outputs",
    "Reporter",
    "Step",
    "Waits",
    "apply",
    "default_kubeconfig",
    "destroy",
    "destroy_plan",
    "eks_token",
    "exec_credential",
    "live_facts",
    "plan",
    "status",
]
