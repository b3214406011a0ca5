"""The generic profile: Gateway API or Ingress, with cert-manager for tls: auto."""

from __future__ import annotations

from kumo.render import render_app
from tests.unit.render.conftest import SpecFactory, kinds, pick

BOTH = "ports:\n  - {port: 443, protocol: https}\n  - {port: 80, protocol: http}\n"


def test_gateway_with_cert_manager_and_an_https_redirect(make_spec: SpecFactory) -> None:
    objects = render_app(make_spec("generic", "expose: gateway\n" + BOTH))
    assert kinds(objects) == [
        "Namespace/shop",
        "Deployment/web",
        "Service/web",
        "Gateway/web",
        "HTTPRoute/web",
        "HTTPRoute/web-redirect",
        "Certificate/web-tls",
        "NetworkPolicy/web",
    ]
    gateway = pick(objects, "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "nginx"
    https, http = gateway["spec"]["listeners"]
    assert (https["name"], https["port"], https["protocol"]) == ("https", 443, "HTTPS")
    assert https["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [{"kind": "Secret", "group": "", "name": "web-tls"}],
    }
    assert (http["name"], http["port"], http["protocol"]) == ("http", 80, "HTTP")
    assert "tls" not in http
    route = pick(objects, "HTTPRoute", "web")
    assert route["spec"]["parentRefs"][0]["sectionName"] == "https"
    assert route["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"] == "www.example.com"
    redirect = pick(objects, "HTTPRoute", "web-redirect")
    assert redirect["spec"]["parentRefs"][0]["sectionName"] == "http"
    assert redirect["spec"]["rules"] == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
    ]
    assert "annotations" not in redirect["metadata"]  # one DNS object per hostname
    certificate = pick(objects, "Certificate")
    assert certificate["apiVersion"] == "cert-manager.io/v1"
    assert certificate["spec"] == {
        "secretName": "web-tls",
        "dnsNames": ["www.example.com"],
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt"},
    }


def test_gateway_class_can_be_chosen(make_spec: SpecFactory) -> None:
    gateway = pick(
        render_app(make_spec("generic", "expose: gateway\ngatewayClass: cilium\ntls: 'off'\n")), "Gateway"
    )
    assert gateway["spec"]["gatewayClassName"] == "cilium"
    assert gateway["spec"]["listeners"] == [
        {
            "name": "http",
            "hostname": "www.example.com",
            "port": 80,
            "protocol": "HTTP",
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        }
    ]


def test_ingress_with_cert_manager_annotation(make_spec: SpecFactory) -> None:
    objects = render_app(make_spec("generic", "expose: ingress\n"))
    ingress = pick(objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt",
        "external-dns.alpha.kubernetes.io/hostname": "www.example.com",
    }
    assert ingress["spec"]["tls"] == [{"hosts": ["www.example.com"], "secretName": "web-tls"}]
    assert not [o for o in objects if o["kind"] == "Certificate"]  # cert-manager's ingress-shim makes it


def test_plain_load_balancer_without_tls(make_spec: SpecFactory) -> None:
    service = pick(render_app(make_spec("generic", "tls: 'off'\n")), "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {
        "external-dns.alpha.kubernetes.io/hostname": "www.example.com"
    }


def test_a_service_without_endpoint_is_cluster_internal(make_spec: SpecFactory) -> None:
    spec = make_spec("generic", "tls: 'off'\n", extra_service="  - name: worker\n    image: busybox:1.36\n")
    service = pick(render_app(spec), "Service", "worker")
    assert service["spec"]["type"] == "ClusterIP"
    assert "annotations" not in service["metadata"]
