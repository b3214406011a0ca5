"""The gcp profile: a GKE Ingress with a ManagedCertificate, or the Gateway API."""

from __future__ import annotations

from kumo.render import render_app
from tests.unit.render.conftest import SpecFactory, kinds, pick


def test_gke_ingress_with_a_managed_certificate(make_spec: SpecFactory) -> None:
    objects = render_app(make_spec("gcp", "expose: ingress\n"))
    assert kinds(objects) == [
        "Namespace/shop",
        "Deployment/web",
        "Service/web",
        "Ingress/web",
        "ManagedCertificate/web-cert",
        "NetworkPolicy/web",
    ]
    ingress = pick(objects, "Ingress")
    assert "ingressClassName" not in ingress["spec"]  # GKE reads the annotation; both at once is refused
    assert ingress["metadata"]["annotations"] == {
        "kubernetes.io/ingress.class": "gce",
        "networking.gke.io/managed-certificates": "web-cert",
        "kubernetes.io/ingress.allow-http": "false",
        "external-dns.alpha.kubernetes.io/hostname": "www.example.com",
    }
    certificate = pick(objects, "ManagedCertificate")
    assert certificate["apiVersion"] == "networking.gke.io/v1"
    assert certificate["spec"] == {"domains": ["www.example.com"]}
    service = pick(objects, "Service")
    assert service["metadata"]["annotations"] == {"cloud.google.com/neg": '{"ingress": true}'}


def test_internal_ingress_and_a_pre_shared_certificate(make_spec: SpecFactory) -> None:
    spec = make_spec("gcp", "expose: ingress\ninternal: true\ntls:\n  certificateName: shop-cert\n")
    objects = render_app(spec)
    ingress = pick(objects, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["kubernetes.io/ingress.class"] == "gce-internal"
    assert annotations["ingress.gcp.kubernetes.io/pre-shared-cert"] == "shop-cert"
    assert not [o for o in objects if o["kind"] == "ManagedCertificate"]


def test_secret_certificate_goes_into_ingress_tls(make_spec: SpecFactory) -> None:
    ingress = pick(render_app(make_spec("gcp", "expose: ingress\ntls:\n  secretName: shop-tls\n")), "Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": ["www.example.com"], "secretName": "shop-tls"}]


def test_gateway_api_on_gke(make_spec: SpecFactory) -> None:
    objects = render_app(make_spec("gcp", "expose: gateway\n"))
    assert kinds(objects) == [
        "Namespace/shop",
        "Deployment/web",
        "Service/web",
        "Gateway/web",
        "HTTPRoute/web",
        "NetworkPolicy/web",
    ]
    gateway = pick(objects, "Gateway")
    assert gateway["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gateway["spec"]["gatewayClassName"] == "gke-l7-global-external-managed"
    assert gateway["metadata"]["annotations"] == {"networking.gke.io/certmap": "shop-web-kumo"}
    assert gateway["spec"]["listeners"][0]["protocol"] == "HTTPS"
    route = pick(objects, "HTTPRoute")
    assert route["metadata"]["annotations"] == {
        "external-dns.alpha.kubernetes.io/hostname": "www.example.com"
    }
    assert route["spec"]["parentRefs"][0]["name"] == "web"
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "web", "port": 80}]


def test_internal_gateway_and_pre_shared_certs(make_spec: SpecFactory) -> None:
    spec = make_spec("gcp", "expose: gateway\ninternal: true\ntls:\n  certificateName: shop-cert\n")
    gateway = pick(render_app(spec), "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "gke-l7-rilb"
    assert gateway["spec"]["listeners"][0]["tls"] == {
        "mode": "Terminate",
        "options": {"networking.gke.io/pre-shared-certs": "shop-cert"},
    }
