"""What the cluster must already have for the rendered objects to work: controllers, classes,
issuers and certificates that kumo does not install. ``kumo plan`` lists them so that a missing
one is found before ``kumo up``, not by a Service that never gets an address."""

from __future__ import annotations

from kumo.plan.model import Requirement
from kumo.render import gcp_certificate_map_name, get_profile
from kumo.render.profiles.azure import is_key_vault_uri
from kumo.spec import Spec, TlsRef


def requirements(spec: Spec) -> list[Requirement]:
    found: dict[tuple[str, str], Requirement] = {}

    def need(kind: str, name: str, why: str) -> None:
        found.setdefault((kind, name), Requirement(kind, name, why))

    cloud = spec.target.cloud
    profile = get_profile(cloud)
    for service in spec.services:
        endpoint = service.endpoint
        if endpoint is None:
            continue
        tls = endpoint.tls
        if endpoint.expose == "loadbalancer" and cloud == "aws" and endpoint.load_balancer == "nlb":
            need("Controller", "aws-load-balancer-controller", f"{service.name}: NLB with IP targets")
        if endpoint.expose == "ingress":
            if cloud == "aws":
                need("Controller", "aws-load-balancer-controller", f"{service.name}: ALB Ingress")
            ingress_class = profile.ingress_class(endpoint)
            if ingress_class is not None:
                need("IngressClass", ingress_class, f"{service.name}: Ingress")
        if endpoint.expose == "gateway":
            need("GatewayClass", profile.gateway_class(endpoint), f"{service.name}: Gateway")
            need("CustomResourceDefinition", "gateways.gateway.networking.k8s.io", "Gateway API")
            if cloud == "gcp" and tls == "auto":
                need(
                    "CertificateMap",
                    gcp_certificate_map_name(spec.app, service.name),
                    f"{service.name}: Certificate Manager map for {endpoint.hostname}",
                )
        if tls == "auto" and cloud in ("generic", "azure") and endpoint.expose in ("ingress", "gateway"):
            need(
                "ClusterIssuer",
                spec.target.cert_issuer,
                f"{service.name}: cert-manager issues {endpoint.hostname}",
            )
        if isinstance(tls, TlsRef):
            if tls.secret_name:
                need("Secret", tls.secret_name, f"{service.name}: TLS certificate for {endpoint.hostname}")
            if tls.certificate_name and not is_key_vault_uri(tls.certificate_name):
                kind = "SslCertificate" if cloud == "gcp" else "ApplicationGatewayCertificate"
                need(kind, tls.certificate_name, f"{service.name}: TLS certificate for {endpoint.hostname}")
            if tls.certificate_name and is_key_vault_uri(tls.certificate_name):
                need(
                    "KeyVaultCertificate",
                    tls.certificate_name,
                    f"{service.name}: application routing reads it",
                )
    if spec.dns is not None and spec.dns.controller.enabled:
        if spec.dns.provider == "webhook" and spec.dns.webhook is not None:
            need("WebhookProvider", spec.dns.webhook.url, "the DNS controller writes records through it")
        if spec.dns.provider == "rfc2136" and spec.dns.rfc2136 is not None and spec.dns.rfc2136.tsig_secret:
            ref = spec.dns.rfc2136.tsig_secret
            need("Secret", f"{spec.dns.controller.namespace}/{ref.name}", f"TSIG secret (key {ref.key})")
    return list(found.values())
