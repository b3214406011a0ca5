"""The profile interface and the portable behaviour the cloud profiles build on.

A profile turns one service's ``endpoint`` into the objects that expose it: the Service (its type,
ports and annotations) and any Ingress, Gateway, HTTPRoute or certificate object. The base class
is the portable form (plain LoadBalancer, Ingress or Gateway API, cert-manager for ``tls: auto``);
each cloud overrides what its controllers read, so users never write cloud annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kumo.render.context import RenderContext
from kumo.render.meta import dns_annotations, labels, metadata
from kumo.render.workload import service_object
from kumo.spec import Endpoint, EndpointPort, Service, TlsRef

CERT_MANAGER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
GATEWAY_API = "gateway.networking.k8s.io/v1"


@dataclass
class Exposure:
    """What exposing one service produces. ``dns_object`` is the object the DNS controller reads."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    dns_object: dict[str, Any] | None = None


def port_name(port: EndpointPort, taken: set[str]) -> str:
    """``https``/``http``/``tcp``, suffixed with the port number when the plain name is taken."""
    name = port.protocol if port.protocol not in taken else f"{port.protocol}-{port.port}"
    taken.add(name)
    return name


def lb_ports(service: Service, endpoint: Endpoint) -> list[tuple[str, EndpointPort, dict[str, Any]]]:
    taken: set[str] = set()
    result = []
    for port in endpoint.listeners:
        name = port_name(port, taken)
        result.append(
            (name, port, {"name": name, "port": port.port, "targetPort": service.port, "protocol": "TCP"})
        )
    return result


def tls_secret_name(service: Service) -> str:
    return f"{service.name}-tls"


class Profile:
    name: ClassVar[str] = "generic"
    default_ingress_class: ClassVar[str | None] = "nginx"
    default_gateway_class: ClassVar[str] = "nginx"

    def expose(self, ctx: RenderContext, service: Service) -> Exposure:
        endpoint = service.endpoint
        if endpoint is None:
            return Exposure(objects=[service_object(ctx, service)])
        if endpoint.expose == "ingress":
            return self.ingress(ctx, service, endpoint)
        if endpoint.expose == "gateway":
            return self.gateway(ctx, service, endpoint)
        return self.load_balancer(ctx, service, endpoint)

    # Service type LoadBalancer

    def load_balancer_annotations(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> dict[str, str]:
        return {}

    def load_balancer(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> Exposure:
        annotations = {
            **self.load_balancer_annotations(ctx, service, endpoint),
            **dns_annotations(endpoint.hostname, endpoint.ttl),
        }
        ports = [spec for _, _, spec in lb_ports(service, endpoint)]
        svc = service_object(ctx, service, service_type="LoadBalancer", ports=ports, annotations=annotations)
        return Exposure(objects=[svc], dns_object=svc)

    # Ingress

    def ingress_class(self, endpoint: Endpoint) -> str | None:
        return endpoint.ingress_class or self.default_ingress_class

    def ingress_annotations(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, str]:
        if endpoint.tls == "auto":
            return {CERT_MANAGER_ISSUER_ANNOTATION: ctx.spec.target.cert_issuer}
        return {}

    def ingress_tls_secret(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> str | None:
        if endpoint.tls == "auto":
            return tls_secret_name(service)
        if isinstance(endpoint.tls, TlsRef) and endpoint.tls.secret_name:
            return endpoint.tls.secret_name
        return None

    def backend_service_annotations(self, ctx: RenderContext, service: Service) -> dict[str, str]:
        return {}

    def ingress_extra_objects(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> list[dict[str, Any]]:
        return []

    def ingress(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> Exposure:
        annotations = {
            **self.ingress_annotations(ctx, service, endpoint),
            **dns_annotations(endpoint.hostname, endpoint.ttl),
        }
        spec: dict[str, Any] = {}
        if (ingress_class := self.ingress_class(endpoint)) is not None:
            spec["ingressClassName"] = ingress_class
        if (secret := self.ingress_tls_secret(ctx, service, endpoint)) is not None:
            spec["tls"] = [{"hosts": [endpoint.hostname], "secretName": secret}]
        spec["rules"] = [
            {
                "host": endpoint.hostname,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": service.name, "port": {"number": service.port}}},
                        }
                    ]
                },
            }
        ]
        ingress = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": metadata(service.name, labels(ctx, service.name, "app"), ctx.namespace, annotations),
            "spec": spec,
        }
        backend = service_object(ctx, service, annotations=self.backend_service_annotations(ctx, service))
        objects = [backend, ingress, *self.ingress_extra_objects(ctx, service, endpoint)]
        return Exposure(objects=objects, dns_object=ingress)

    # Gateway API

    def gateway_class(self, endpoint: Endpoint) -> str:
        return endpoint.gateway_class or self.default_gateway_class

    def gateway_annotations(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, str]:
        return {}

    def gateway_tls(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, Any] | None:
        """The HTTPS listeners' ``tls`` block; None leaves it to an annotation on the Gateway."""
        tls = endpoint.tls
        secret = (
            tls_secret_name(service)
            if tls == "auto"
            else (tls.secret_name if isinstance(tls, TlsRef) else None)
        )
        if secret is None:
            return None
        return {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "group": "", "name": secret}]}

    def gateway_extra_objects(
        self, ctx: RenderContext, service: Service, endpoint: Endpoint
    ) -> list[dict[str, Any]]:
        if endpoint.tls != "auto":
            return []
        return [certificate(ctx, service, endpoint)]

    def gateway(self, ctx: RenderContext, service: Service, endpoint: Endpoint) -> Exposure:
        own_labels = labels(ctx, service.name, "app")
        taken: set[str] = set()
        listeners = []
        https_listener: str | None = None
        http_listener: str | None = None
        tls_block = self.gateway_tls(ctx, service, endpoint)
        for port in endpoint.listeners:
            name = port_name(port, taken)
            listener: dict[str, Any] = {
                "name": name,
                "hostname": endpoint.hostname,
                "port": port.port,
                "protocol": port.protocol.upper(),
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            }
            if port.protocol == "https":
                https_listener = https_listener or name
                if tls_block is not None:
                    listener["tls"] = tls_block
            else:
                http_listener = http_listener or name
            listeners.append(listener)
        gateway = {
            "apiVersion": GATEWAY_API,
            "kind": "Gateway",
            "metadata": metadata(
                service.name, own_labels, ctx.namespace, self.gateway_annotations(ctx, service, endpoint)
            ),
            "spec": {"gatewayClassName": self.gateway_class(endpoint), "listeners": listeners},
        }
        serving = https_listener or http_listener
        route = _http_route(
            ctx,
            service.name,
            own_labels,
            parent=(service.name, serving),
            hostname=endpoint.hostname,
            annotations=dns_annotations(endpoint.hostname, endpoint.ttl),
            rule={
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": service.name, "port": service.port}],
            },
        )
        objects: list[dict[str, Any]] = [
            service_object(ctx, service, annotations=self.backend_service_annotations(ctx, service)),
            gateway,
            route,
        ]
        if https_listener and http_listener:
            # Plain HTTP only redirects, so nothing is served unencrypted.
            objects.append(
                _http_route(
                    ctx,
                    f"{service.name}-redirect",
                    own_labels,
                    parent=(service.name, http_listener),
                    hostname=endpoint.hostname,
                    annotations=None,
                    rule={
                        "filters": [
                            {
                                "type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301},
                            }
                        ]
                    },
                )
            )
        objects.extend(self.gateway_extra_objects(ctx, service, endpoint))
        return Exposure(objects=objects, dns_object=route)


def _http_route(
    ctx: RenderContext,
    name: str,
    own_labels: dict[str, str],
    *,
    parent: tuple[str, str | None],
    hostname: str,
    annotations: dict[str, str] | None,
    rule: dict[str, Any],
) -> dict[str, Any]:
    parent_ref: dict[str, Any] = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": parent[0]}
    if parent[1]:
        parent_ref["sectionName"] = parent[1]
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": metadata(name, own_labels, ctx.namespace, annotations),
        "spec": {"parentRefs": [parent_ref], "hostnames": [hostname], "rules": [rule]},
    }


def certificate(ctx: RenderContext, service: Service, endpoint: Endpoint) -> dict[str, Any]:
    """A cert-manager Certificate whose Secret the Gateway listener references."""
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": metadata(tls_secret_name(service), labels(ctx, service.name, "app"), ctx.namespace),
        "spec": {
            "secretName": tls_secret_name(service),
            "dnsNames": [endpoint.hostname],
            "issuerRef": {
                "group": "cert-manager.io",
                "kind": "ClusterIssuer",
                "name": ctx.spec.target.cert_issuer,
            },
        },
    }
