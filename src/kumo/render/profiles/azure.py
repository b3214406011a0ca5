"""AKS: a LoadBalancer Service with Azure's annotations, or an Ingress for the application routing
add-on (the default class) or the Application Gateway Ingress Controller (AGIC).

``tls: auto`` uses cert-manager; ``certificateName`` is a Key Vault certificate URI for
application routing, or the name of a certificate installed on the Application Gateway for AGIC.
"""

from __future__ import annotations

from typing import ClassVar

from kumo.render.context import RenderContext
from kumo.render.profiles.base import Profile
from kumo.spec import Endpoint, Service, TlsRef

APP_ROUTING_CLASS = "webapprouting.kubernetes.azure.com"
AGIC_CLASS = "azure-application-gateway"
SVC = "service.beta.kubernetes.io/"
APPGW = "appgw.ingress.kubernetes.io/"


def is_key_vault_uri(name: str) -> bool:
    return name.startswith("https://") and ".vault." in name


class AzureProfile(Profile):
    name: ClassVar[str] = "azure"
    default_ingress_class: ClassVar[str | None] = APP_ROUTING_CLASS
    default_gateway_class: ClassVar[str] = "azure-alb-external"

    def load_balancer_annotations(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> dict[str, str]:
        annotations: dict[str, str] = {}
        readiness = service.probes.readiness
        if readiness is not None and readiness.path is not None:
            annotations[SVC + "azure-load-balancer-health-probe-request-path"] = readiness.path
        if endpoint.internal:
            annotations[SVC + "azure-load-balancer-internal"] = "true"
        return annotations

    def ingress_annotations(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, str]:
        agic = self.ingress_class(endpoint) == AGIC_CLASS
        tls = endpoint.tls
        annotations = super().ingress_annotations(ctx, service, endpoint)
        if isinstance(tls, TlsRef) and tls.certificate_name:
            if is_key_vault_uri(tls.certificate_name):
                annotations["kubernetes.azure.com/tls-cert-keyvault-uri"] = tls.certificate_name
            else:
                annotations[APPGW + "appgw-ssl-certificate"] = tls.certificate_name
        if agic:
            if endpoint.internal:
                annotations[APPGW + "use-private-ip"] = "true"
            if endpoint.tls_enabled and any(port.protocol == "http" for port in endpoint.listeners):
                annotations[APPGW + "ssl-redirect"] = "true"
        return annotations

    def ingress_tls_secret(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> str | None:
        tls = endpoint.tls
        if isinstance(tls, TlsRef) and tls.certificate_name:
            # Application routing syncs the Key Vault certificate into this Secret; AGIC needs none.
            return f"keyvault-{service.name}" if is_key_vault_uri(tls.certificate_name) else None
        return super().ingress_tls_secret(ctx, service, endpoint)
