"""GKE: an Ingress for the GCE load balancer with a ManagedCertificate, or the Gateway API.

GKE's Ingress controller still reads the ``kubernetes.io/ingress.class`` annotation rather than
``spec.ingressClassName``, and the API rejects an Ingress that has both, so only the annotation
is set. A Gateway with ``tls: auto`` uses a Certificate Manager map, which the cloud layer creates
under the deterministic name ``gcp_certificate_map_name``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kumo.render.context import RenderContext, gcp_certificate_map_name
from kumo.render.meta import labels, metadata
from kumo.render.profiles.base import Profile
from kumo.spec import Endpoint, Service, TlsRef

INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def managed_certificate_name(service: Service) -> str:
    return f"{service.name}-cert"


class GcpProfile(Profile):
    name: ClassVar[str] = "gcp"
    default_ingress_class: ClassVar[str | None] = None
    default_gateway_class: ClassVar[str] = "gke-l7-global-external-managed"

    def ingress_class(self, endpoint: Endpoint) -> str | None:
        return None

    def ingress_annotations(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, str]:
        annotations = {
            INGRESS_CLASS_ANNOTATION: endpoint.ingress_class
            or ("gce-internal" if endpoint.internal else "gce")
        }
        if endpoint.tls == "auto":
            annotations["networking.gke.io/managed-certificates"] = managed_certificate_name(service)
        elif isinstance(endpoint.tls, TlsRef) and endpoint.tls.certificate_name:
            annotations["ingress.gcp.kubernetes.io/pre-shared-cert"] = endpoint.tls.certificate_name
        if endpoint.tls_enabled and not any(port.protocol == "http" for port in endpoint.listeners):
            annotations["kubernetes.io/ingress.allow-http"] = "false"
        return annotations

    def ingress_tls_secret(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> str | None:
        if isinstance(endpoint.tls, TlsRef):
            return endpoint.tls.secret_name
        return None

    def backend_service_annotations(self, ctx: RenderContext, service: Service) -> dict[str, str]:
        # Container-native load balancing: the load balancer sends to Pod IPs through NEGs.
        return {"cloud.google.com/neg": '{"ingress": true}'}

    def ingress_extra_objects(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> list[dict[str, Any]]:
        if endpoint.tls != "auto":
            return []
        return [
            {
                "apiVersion": "networking.gke.io/v1",
                "kind": "ManagedCertificate",
                "metadata": metadata(
                    managed_certificate_name(service), labels(ctx, service.name, "app"), ctx.namespace
                ),
                "spec": {"domains": [endpoint.hostname]},
            }
        ]

    def gateway_class(self, endpoint: Endpoint) -> str:
        if endpoint.gateway_class:
            return endpoint.gateway_class
        return "gke-l7-rilb" if endpoint.internal else self.default_gateway_class

    def gateway_annotations(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, str]:
        if endpoint.tls == "auto":
            return {"networking.gke.io/certmap": gcp_certificate_map_name(ctx.spec.app, service.name)}
        return {}

    def gateway_tls(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, Any] | None:
        tls = endpoint.tls
        if isinstance(tls, TlsRef) and tls.certificate_name:
            return {
                "mode": "Terminate",
                "options": {"networking.gke.io/pre-shared-certs": tls.certificate_name},
            }
        if tls == "auto":
            return None  # the certificate map annotation supplies it
        return super().gateway_tls(ctx, service, endpoint)

    def gateway_extra_objects(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> list[dict[str, Any]]:
        return []
