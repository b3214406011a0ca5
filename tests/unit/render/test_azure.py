"""The azure profile: AKS load balancers, application routing and AGIC Ingresses."""

from __future__ import annotations

from kumo.render import render_app
from tests.unit.render.conftest import SpecFactory, pick

KEY_VAULT = "https://shop-kv.vault.azure.net/certificates/shop"


def test_load_balancer_with_azure_annotations(make_spec: SpecFactory) -> None:
    service = pick(render_app(make_spec("azure", "tls: 'off'\ninternal: true\n")), "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"}]
    assert service["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/",
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
        "external-dns.alpha.kubernetes.io/hostname": "www.example.com",
    }


def test_application_routing_with_a_key_vault_certificate(make_spec: SpecFactory) -> None:
    ingress = pick(
        render_app(make_spec("azure", f"expose: ingress\ntls:\n  certificateName: {KEY_VAULT}\n")), "Ingress"
    )
    assert ingress["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    assert ingress["metadata"]["annotations"]["kubernetes.azure.com/tls-cert-keyvault-uri"] == KEY_VAULT
    assert ingress["spec"]["tls"] == [{"hosts": ["www.example.com"], "secretName": "keyvault-web"}]


def test_tls_auto_uses_cert_manager(make_spec: SpecFactory) -> None:
    spec = make_spec("azure", "expose: ingress\n", top="  certIssuer: letsencrypt-prod\n")
    ingress = pick(render_app(spec), "Ingress")
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ingress["spec"]["tls"] == [{"hosts": ["www.example.com"], "secretName": "web-tls"}]


def test_agic_class(make_spec: SpecFactory) -> None:
    spec = make_spec(
        "azure",
        "expose: ingress\ningressClass: azure-application-gateway\ninternal: true\n"
        "tls:\n  certificateName: shop-appgw-cert\nports:\n  - {port: 80, protocol: http}\n"
        "  - {port: 443, protocol: https}\n",
    )
    ingress = pick(render_app(spec), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "azure-application-gateway"
    annotations = ingress["metadata"]["annotations"]
    assert annotations["appgw.ingress.kubernetes.io/appgw-ssl-certificate"] == "shop-appgw-cert"
    assert annotations["appgw.ingress.kubernetes.io/ssl-redirect"] == "true"
    assert annotations["appgw.ingress.kubernetes.io/use-private-ip"] == "true"
    assert "tls" not in ingress["spec"]
