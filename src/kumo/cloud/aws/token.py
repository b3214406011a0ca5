"""The EKS token, as aws-iam-authenticator makes it, so no AWS CLI is needed.

A presigned STS ``GetCallerIdentity`` URL whose signature covers the header
``x-k8s-aws-id: <cluster name>``, base64url-encoded without padding, prefixed ``k8s-aws-v1.``.
EKS replays the URL to STS with that header and learns who is calling, and for which cluster.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]

from kumo.errors import UsageError

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
URL_SECONDS = 60  # the URL is signed for 60 s; EKS accepts the token for 15 min after signing
TOKEN_MINUTES = 14


def eks_token(cluster: str, region: str | None = None, session: Any = None) -> str:
    session = session or boto3.session.Session()
    # AWS_REGION as the AWS CLI and SDKs read it (botocore itself reads only AWS_DEFAULT_REGION)
    region = region or os.environ.get("AWS_REGION") or session.region_name or "us-east-1"
    if session.get_credentials() is None:
        raise UsageError(
            "no AWS credentials found",
            "Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (see docs/cloud.md).",
        )
    sts = session.client("sts", region_name=region)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_HEADER] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=URL_SECONDS, HttpMethod="GET"
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def exec_credential(cluster: str, region: str | None = None, session: Any = None) -> dict[str, Any]:
    """What a kubeconfig exec plugin prints (client.authentication.k8s.io/v1beta1)."""
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=TOKEN_MINUTES)
    return {
        "kind": "ExecCredential",
        "apiVersion": EXEC_API_VERSION,
        "spec": {},
        "status": {
            "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "token": eks_token(cluster, region, session),
        },
    }
