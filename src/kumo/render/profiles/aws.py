"""EKS: the seed's in-tree ELB, the AWS Load Balancer Controller's NLB, or an ALB Ingress.

TLS terminates at the load balancer with an ACM certificate. With ``tls: auto`` the cloud layer
requests the certificate; until its ARN is known render writes ``${kumo:acm-certificate-arn:<host>}``.
"""

from __future__ import annotations

import json
from typing import ClassVar

from kumo.render.context import RenderContext
from kumo.render.profiles.base import Exposure, Profile, lb_ports
from kumo.spec import Endpoint, Service, TlsRef

SVC = "service.beta.kubernetes.io/"
ALB = "alb.ingress.kubernetes.io/"


def certificate_arn(ctx: RenderContext, endpoint: Endpoint) -> str | None:
    if endpoint.tls == "auto":
        return ctx.certificate_arn(endpoint.hostname)
    if isinstance(endpoint.tls, TlsRef):
        return endpoint.tls.certificate_arn
    return None


class AwsProfile(Profile):
    name: ClassVar[str] = "aws"
    default_ingress_class: ClassVar[str | None] = "alb"

    def load_balancer_annotations(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> dict[str, str]:
        ports = lb_ports(service, endpoint)
        https = [name for name, port, _ in ports if port.protocol == "https"]
        arn = certificate_arn(ctx, endpoint)
        annotations: dict[str, str] = {}
        if endpoint.load_balancer == "nlb":
            annotations[SVC + "aws-load-balancer-type"] = "external"
            annotations[SVC + "aws-load-balancer-nlb-target-type"] = "ip"
            annotations[SVC + "aws-load-balancer-scheme"] = (
                "internal" if endpoint.internal else "internet-facing"
            )
        else:
            uses_tcp = any(port.protocol == "tcp" for _, port, _ in ports)
            annotations[SVC + "aws-load-balancer-backend-protocol"] = "tcp" if uses_tcp else "http"
            if endpoint.internal:
                annotations[SVC + "aws-load-balancer-internal"] = "true"
        if arn is not None and https:
            annotations[SVC + "aws-load-balancer-ssl-cert"] = arn
            annotations[SVC + "aws-load-balancer-ssl-ports"] = ",".join(https)
        return annotations

    def ingress_annotations(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, str]:
        listeners = endpoint.listeners
        annotations = {
            ALB + "scheme": "internal" if endpoint.internal else "internet-facing",
            ALB + "target-type": "ip",
            ALB + "backend-protocol": "HTTP",
            ALB + "listen-ports": json.dumps(
                [{port.protocol.upper(): port.port} for port in listeners], separators=(",", ":")
            ),
        }
        readiness = service.probes.readiness
        if readiness is not None and readiness.path is not None:
            annotations[ALB + "healthcheck-path"] = readiness.path
        arn = certificate_arn(ctx, endpoint)
        https = [port.port for port in listeners if port.protocol == "https"]
        if arn is not None and https:
            annotations[ALB + "certificate-arn"] = arn
            if any(port.protocol == "http" for port in listeners):
                annotations[ALB + "ssl-redirect"] = str(https[0])
        return annotations

    def ingress_tls_secret(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> str | None:
        return None  # the ALB terminates TLS with the ACM certificate in the annotation

    def gateway(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> Exposure:
        raise AssertionError("the spec rejects expose gateway on aws")  # pragma: no cover
