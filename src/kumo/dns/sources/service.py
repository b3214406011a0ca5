"""Endpoints for a Service, with external-dns's service source rules (``source/service.go``).

Targets by type, unless the ``target`` annotation gives them:
- LoadBalancer: ``spec.externalIPs``, else the load balancer's addresses (the ClusterIP for
  ``internal-hostname``);
- ClusterIP: with ``--publish-internal-services`` (or ``internal-hostname``) the cluster IP; a
  headless Service (``clusterIP: None``) publishes its Pods instead: one record per hostname with
  every ready endpoint of its EndpointSlices (the Pod IP, the node's ExternalIP with
  ``endpoints-type: NodeExternalIP``, the Pod's hostIP with ``endpoints-type: HostIP`` or
  ``--publish-host-ip``, or the Pod's own ``target`` annotation), plus ``<pod hostname>.<hostname>``
  for Pods that set ``spec.hostname``;
- NodePort: the nodes' ExternalIPs (and IPv6 InternalIPs), or their InternalIPs when no node has an
  ExternalIP; the ``access`` annotation (``public`` / ``private``) picks one side; with
  ``externalTrafficPolicy: Local`` only nodes running a Pod of the Service; plus an SRV record
  ``_<service>._<protocol>.<hostname>`` per node port;
- ExternalName: ``spec.externalIPs``, else the external name.
"""

from __future__ import annotations

from typing import Any

from kumo.dns.endpoint import (
    RECORD_AAAA,
    RECORD_CNAME,
    RECORD_SRV,
    RESOURCE_LABEL,
    Endpoint,
    record_type_for_target,
)
from kumo.dns.sources.annotations import INTERNAL_HOSTNAME, Annotations
from kumo.dns.sources.common import (
    RecordSettings,
    SourceConfig,
    SourceResult,
    finish,
    is_headless,
    lb_targets,
    selected_annotations,
)
from kumo.dns.sources.context import SourceContext

ACCESS = "access"
ENDPOINTS_TYPE = "endpoints-type"
NODE_EXTERNAL_IP = "NodeExternalIP"
HOST_IP = "HostIP"


def _external_ips(svc: dict[str, Any]) -> list[str]:
    return [str(ip) for ip in (svc.get("spec") or {}).get("externalIPs") or [] if ip]


def _cluster_ip(svc: dict[str, Any]) -> list[str]:
    ip = (svc.get("spec") or {}).get("clusterIP")
    return [ip] if ip and ip != "None" else []  # "None": a headless Service


class _ServiceBuilder:
    """external-dns generateEndpoints for one Service: the endpoints of one hostname at a time."""

    def __init__(
        self,
        svc: dict[str, Any],
        ann: Annotations,
        cfg: SourceConfig,
        ctx: SourceContext,
        problems: list[str],
    ) -> None:
        self.svc = svc
        self.ann = ann
        self.cfg = cfg
        self.ctx = ctx
        self.problems = problems
        self.settings = RecordSettings.of("service", svc, ann, cfg)
        self.spec = svc.get("spec") or {}
        self.type = self.spec.get("type", "ClusterIP")

    def endpoints(self, hostname: str, use_cluster_ip: bool) -> list[Endpoint]:
        targets = self.ann.targets()
        extra: list[Endpoint] = []
        if not targets:
            if self.type == "LoadBalancer":
                if use_cluster_ip:
                    targets = _cluster_ip(self.svc)
                else:
                    targets = _external_ips(self.svc) or lb_targets(self.svc)
            elif self.type == "ClusterIP":
                if is_headless(self.svc):
                    extra = self._headless(hostname)
                elif use_cluster_ip or self.cfg.publish_internal_services:
                    targets = _cluster_ip(self.svc)
            elif self.type == "NodePort":
                targets = self._node_port_targets()
                extra = self._srv(hostname)
            elif self.type == "ExternalName":
                name = self.spec.get("externalName")
                targets = _external_ips(self.svc) or ([str(name).rstrip(".")] if name else [])
        return extra + self.settings.endpoints([hostname], targets)

    def _endpoint(self, name: str, rtype: str, targets: list[str]) -> Endpoint:
        s = self.settings
        return Endpoint(
            name,
            tuple(sorted(targets)),
            rtype,
            s.ttl,
            s.set_identifier,
            {RESOURCE_LABEL: s.resource},
            dict(s.provider_specific),
        )

    # ---------------------------------------------------------------- headless

    def _headless(self, hostname: str) -> list[Endpoint]:
        endpoints_type = self.ann.get(ENDPOINTS_TYPE)
        publish_pod_ips = endpoints_type not in (NODE_EXTERNAL_IP, HOST_IP) and not self.cfg.publish_host_ip
        not_ready_too = (
            bool(self.spec.get("publishNotReadyAddresses")) or self.cfg.always_publish_not_ready_addresses
        )
        pods = {str((p.get("metadata") or {}).get("name")): p for p in self.ctx.pods_of(self.svc)}
        by_key: dict[tuple[str, str], list[str]] = {}
        for slice_ in self.ctx.slices_of(self.svc):
            address_type = slice_.get("addressType")
            for ep in slice_.get("endpoints") or []:
                ready = (ep.get("conditions") or {}).get("ready")
                if ready is False and not not_ready_too:  # unset means ready (EndpointConditions)
                    continue
                if publish_pod_ips and address_type not in ("IPv4", "IPv6"):
                    continue
                ref = ep.get("targetRef") or {}
                if ref.get("apiVersion") or ref.get("kind") != "Pod":
                    continue
                pod = pods.get(str(ref.get("name")))
                if pod is None:
                    continue
                domains = [hostname]
                pod_hostname = (pod.get("spec") or {}).get("hostname")
                if pod_hostname:
                    domains.append(f"{pod_hostname}.{hostname}")
                for domain in domains:
                    targets = self._pod_targets(pod, ep, endpoints_type)
                    if targets is None:
                        return []  # external-dns gives up on the whole name when a node is missing
                    for target in targets:
                        by_key.setdefault((domain, record_type_for_target(target)), []).append(target)
        return [
            self._endpoint(domain, rtype, list(dict.fromkeys(targets)))
            for (domain, rtype), targets in sorted(by_key.items())
        ]

    def _pod_targets(
        self, pod: dict[str, Any], ep: dict[str, Any], endpoints_type: str | None
    ) -> list[str] | None:
        own = Annotations.read((pod.get("metadata") or {}).get("annotations"), self.cfg.annotation_prefix)
        if own.targets():
            return own.targets()
        if endpoints_type == NODE_EXTERNAL_IP:
            node = self.ctx.nodes.get(str((pod.get("spec") or {}).get("nodeName") or ""))
            if node is None:
                self.problems.append(
                    f"pod {(pod.get('metadata') or {}).get('name')}: its node is unknown;"
                    " no NodeExternalIP records for this name"
                )
                return None
            out = []
            for address in (node.get("status") or {}).get("addresses") or []:
                kind, value = address.get("type"), str(address.get("address") or "")
                if kind == "ExternalIP" or (
                    self.cfg.expose_internal_ipv6
                    and kind == "InternalIP"
                    and record_type_for_target(value) == RECORD_AAAA
                ):
                    out.append(value)
            return out
        if endpoints_type == HOST_IP or self.cfg.publish_host_ip:
            host_ip = (pod.get("status") or {}).get("hostIP")
            return [str(host_ip)] if host_ip else []
        addresses = ep.get("addresses") or []
        return [str(addresses[0])] if addresses else []  # only the first: others have no defined meaning

    # ---------------------------------------------------------------- NodePort

    def _nodes(self) -> list[dict[str, Any]]:
        if self.spec.get("externalTrafficPolicy") != "Local":
            return [self.ctx.nodes[name] for name in sorted(self.ctx.nodes)]
        # nodes with a ready, non-terminating Pod of the Service; else with a ready one; else a running one
        running: dict[str, dict[str, Any]] = {}
        ready: dict[str, dict[str, Any]] = {}
        serving: dict[str, dict[str, Any]] = {}
        for pod in self.ctx.pods_of(self.svc):
            status = pod.get("status") or {}
            node_name = str((pod.get("spec") or {}).get("nodeName") or "")
            node = self.ctx.nodes.get(node_name)
            if status.get("phase") != "Running" or node is None:
                continue
            running[node_name] = node
            conditions = status.get("conditions") or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                ready[node_name] = node
                if not (pod.get("metadata") or {}).get("deletionTimestamp"):
                    serving[node_name] = node
        chosen = serving or ready or running
        return [chosen[name] for name in sorted(chosen)]

    def _node_port_targets(self) -> list[str]:
        internal: list[str] = []
        external: list[str] = []
        ipv6: list[str] = []
        for node in self._nodes():
            for address in (node.get("status") or {}).get("addresses") or []:
                value = str(address.get("address") or "")
                if address.get("type") == "ExternalIP":
                    external.append(value)
                elif address.get("type") == "InternalIP":
                    internal.append(value)
                    if record_type_for_target(value) == RECORD_AAAA:
                        ipv6.append(value)
        access = self.ann.get(ACCESS)
        if access == "public":
            return external + ipv6
        if access == "private":
            return internal
        return external + ipv6 if external else internal

    def _srv(self, hostname: str) -> list[Endpoint]:
        """RFC 2782 records for the node ports: ``_<service>._<protocol>.<hostname>``, priority 0,
        weight 50 (one record set per protocol, every node port a target)."""
        name = str((self.svc.get("metadata") or {}).get("name") or "")
        by_record: dict[str, list[str]] = {}
        for port in self.spec.get("ports") or []:
            node_port = port.get("nodePort") if isinstance(port, dict) else None
            if not isinstance(node_port, int) or node_port <= 0:
                continue
            protocol = str(port.get("protocol") or "TCP").lower()
            by_record.setdefault(f"_{name}._{protocol}.{hostname}", []).append(f"0 50 {node_port} {hostname}")
        return [self._endpoint(record, RECORD_SRV, targets) for record, targets in sorted(by_record.items())]


def service_endpoints(
    svc: dict[str, Any], cfg: SourceConfig, ctx: SourceContext | None = None
) -> SourceResult:
    result = SourceResult()
    if cfg.service_types and (svc.get("spec") or {}).get("type", "ClusterIP") not in cfg.service_types:
        return result
    ann = selected_annotations(svc, cfg)
    if ann is None:
        return result
    builder = _ServiceBuilder(svc, ann, cfg, ctx or SourceContext(), result.problems)
    endpoints: list[Endpoint] = []
    hosts: list[str] = []
    if not cfg.ignore_hostname_annotation:  # internal-hostname too, as external-dns
        hosts = ann.hostnames()
        for host in hosts:
            endpoints.extend(builder.endpoints(host, use_cluster_ip=False))
        for host in ann.hostnames(INTERNAL_HOSTNAME):
            endpoints.extend(builder.endpoints(host, use_cluster_ip=True))
    # external-dns: the template applies when the annotations gave no endpoints (or always, combined)
    if cfg.fqdn_template is not None and (cfg.combine_fqdn_annotation or not endpoints):
        try:
            names = cfg.fqdn_template.hostnames(svc, "Service")
        except ValueError as exc:
            result.problems.append(f"--fqdn-template: {exc}")
            names = []
        fresh = [n for n in dict.fromkeys(n.lower() for n in names) if n not in hosts]
        templated = [e for host in fresh for e in builder.endpoints(host, use_cluster_ip=False)]
        endpoints = endpoints + templated if cfg.combine_fqdn_annotation else templated
    result.endpoints.extend(endpoints)
    return finish(result, ann, cfg)


SERVICE_RESOURCE = "service/"


def merge_service_endpoints(endpoints: list[Endpoint]) -> list[Endpoint]:
    """external-dns's service source merge (``serviceSource.Endpoints``): endpoints of Services
    (several Services at one name, or one Service's names twice) with the same name, type, set
    identifier and TTL become one record set with every target.

    As there, endpoints are sorted by resource label and then, stably, by name and type, so the
    merged endpoint keeps the resource of the first Service: its TXT ``resource=`` label does not
    move while that Service lives. CNAMEs are never merged (a name has one canonical name,
    RFC 1034): they stay apart and the plan picks one per name (the smallest resource). Only
    neighbours after sorting merge, as there. Unlike v0.22's ``Targets[0]``, every target of the
    merged endpoint is kept, without duplicates (external-dns's newer ``MergeEndpoints`` does the
    same), since a duplicate target is an invalid change at Route 53. Endpoints of other sources
    pass unchanged: their candidates for one name are resolved by the plan, one per resource.
    Returns ``endpoints`` itself when nothing merges; never changes the endpoints given.
    """
    services = [e for e in endpoints if e.labels.get(RESOURCE_LABEL, "").startswith(SERVICE_RESOURCE)]
    if len(services) < 2:
        return endpoints
    services.sort(key=lambda e: e.labels.get(RESOURCE_LABEL, ""))
    services.sort(key=lambda e: (e.dns_name, e.record_type))  # stable: the first Service stays first
    merged: list[Endpoint] = []
    copied: set[int] = set()  # merged endpoints already copied (the input is never changed)
    for ep in services:
        last = merged[-1] if merged else None
        if (
            last is not None
            and ep.record_type != RECORD_CNAME
            and (last.dns_name, last.record_type, last.set_identifier, last.record_ttl)
            == (ep.dns_name, ep.record_type, ep.set_identifier, ep.record_ttl)
        ):
            if id(last) not in copied:
                last = merged[-1] = last.copy()
                copied.add(id(last))
            last.targets = tuple(sorted(set(last.targets) | set(ep.targets)))
        else:
            merged.append(ep)
    if len(merged) == len(services):
        return endpoints
    others = [e for e in endpoints if not e.labels.get(RESOURCE_LABEL, "").startswith(SERVICE_RESOURCE)]
    return others + merged
