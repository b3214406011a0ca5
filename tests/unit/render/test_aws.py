"""The aws profile: the seed's ELB, the AWS Load Balancer Controller's NLB, and the ALB Ingress."""

from __future__ import annotations

import json

from kumo.render import CloudFacts, render_app
from tests.unit.render.conftest import SpecFactory, kinds, pick

SVC = "service.beta.kubernetes.io/"
ALB = "alb.ingress.kubernetes.io/"
ARN = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0f1e2d3c-4b5a-6978"


def test_seed_load_balancer_terminates_tls_443_to_80(make_spec: SpecFactory) -> None:
    objects = render_app(make_spec("aws"))
    assert kinds(objects) == ["Namespace/shop", "Deployment/web", "Service/web", "NetworkPolicy/web"]
    service = pick(objects, "Service")
    assert service["apiVersion"] == "v1"  # the seed wrote apps/v1
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"] == [{"name": "https", "port": 443, "targetPort": 80, "protocol": "TCP"}]
    assert service["metadata"]["annotations"] == {
        SVC + "aws-load-balancer-backend-protocol": "http",
        SVC + "aws-load-balancer-ssl-cert": "${kumo:acm-certificate-arn:www.example.com}",
        SVC + "aws-load-balancer-ssl-ports": "https",
        "external-dns.alpha.kubernetes.io/hostname": "www.example.com",
    }


def test_the_cloud_step_fills_the_certificate_arn(make_spec: SpecFactory) -> None:
    facts = CloudFacts(certificate_arns={"www.example.com": ARN})
    service = pick(render_app(make_spec("aws"), facts=facts), "Service")
    assert service["metadata"]["annotations"][SVC + "aws-load-balancer-ssl-cert"] == ARN


def test_a_given_certificate_arn_is_used_as_is(make_spec: SpecFactory) -> None:
    spec = make_spec(
        "aws",
        f"tls:\n  certificateArn: {ARN}\nports:\n  - {{port: 80, protocol: http}}\n"
        "  - {port: 443, protocol: https}\nttl: 60\ninternal: true\n",
    )
    service = pick(render_app(spec), "Service")
    annotations = service["metadata"]["annotations"]
    assert annotations[SVC + "aws-load-balancer-ssl-cert"] == ARN
    assert annotations[SVC + "aws-load-balancer-ssl-ports"] == "https"
    assert annotations[SVC + "aws-load-balancer-internal"] == "true"
    assert annotations["external-dns.alpha.kubernetes.io/ttl"] == "60"
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [
        ("http", 80, 80),
        ("https", 443, 80),
    ]


def test_tls_off_has_no_certificate_annotations(make_spec: SpecFactory) -> None:
    service = pick(render_app(make_spec("aws", "tls: 'off'\n")), "Service")
    annotations = service["metadata"]["annotations"]
    assert not any("ssl" in key for key in annotations)
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"}]


def test_nlb_form_for_the_aws_load_balancer_controller(make_spec: SpecFactory) -> None:
    service = pick(render_app(make_spec("aws", "loadBalancer: nlb\n")), "Service")
    annotations = service["metadata"]["annotations"]
    assert annotations[SVC + "aws-load-balancer-type"] == "external"
    assert annotations[SVC + "aws-load-balancer-nlb-target-type"] == "ip"
    assert annotations[SVC + "aws-load-balancer-scheme"] == "internet-facing"
    assert annotations[SVC + "aws-load-balancer-ssl-cert"] == "${kumo:acm-certificate-arn:www.example.com}"
    assert SVC + "aws-load-balancer-backend-protocol" not in annotations
    internal = pick(render_app(make_spec("aws", "loadBalancer: nlb\ninternal: true\n")), "Service")
    assert internal["metadata"]["annotations"][SVC + "aws-load-balancer-scheme"] == "internal"


def test_alb_ingress_form(make_spec: SpecFactory) -> None:
    spec = make_spec(
        "aws",
        f"expose: ingress\ntls:\n  certificateArn: {ARN}\nports:\n  - {{port: 80, protocol: http}}\n"
        "  - {port: 443, protocol: https}\n",
    )
    objects = render_app(spec)
    assert kinds(objects) == [
        "Namespace/shop",
        "Deployment/web",
        "Service/web",
        "Ingress/web",
        "NetworkPolicy/web",
    ]
    ingress = pick(objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert "tls" not in ingress["spec"]  # the ALB terminates TLS with ACM
    annotations = ingress["metadata"]["annotations"]
    assert annotations[ALB + "certificate-arn"] == ARN
    assert json.loads(annotations[ALB + "listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[ALB + "ssl-redirect"] == "443"
    assert annotations[ALB + "scheme"] == "internet-facing"
    assert annotations[ALB + "target-type"] == "ip"
    assert annotations[ALB + "healthcheck-path"] == "/"
    assert annotations["external-dns.alpha.kubernetes.io/hostname"] == "www.example.com"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "web", "port": {"number": 80}}}
    service = pick(objects, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert "annotations" not in service["metadata"]  # the DNS controller reads the Ingress


def test_alb_https_only_has_no_redirect(make_spec: SpecFactory) -> None:
    ingress = pick(render_app(make_spec("aws", "expose: ingress\n")), "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert json.loads(annotations[ALB + "listen-ports"]) == [{"HTTPS": 443}]
    assert ALB + "ssl-redirect" not in annotations
    assert annotations[ALB + "certificate-arn"] == "${kumo:acm-certificate-arn:www.example.com}"
