"""Every flag of external-dns v0.22 (``pkg/apis/externaldns/types.go``), with what kumo does with it.

One table, read by the CLI (to declare the options and their ``EXTERNAL_DNS_<FLAG>`` variables), by
the start-up checks (``check``) and by the docs test (``docs/dns.md`` lists the same rows).

A flag is one of:
- ``IMPLEMENTED``: behaves as in external-dns;
- ``ACCEPTED``: cannot change records here (logging, client tuning, caches, another provider's or
  source's settings); accepted and, when set to a non-default value, logged once at start;
- ``REJECTED``: kumo does not implement it and it would change records: setting it to anything but
  its default is an error at start that names it. Never silently ignored.

``choices`` lists what external-dns accepts; ``supported`` (for the enum-like flags ``--source``,
``--provider``, ``--registry``...) what kumo implements of it. Flags that external-dns does not have
(leader election, the local provider...) are marked ``kumo_only``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kumo.errors import UsageError
from kumo.sourcekinds import SOURCE_KINDS

log = logging.getLogger("kumo.dns.flags")


class Status(enum.Enum):
    IMPLEMENTED = "implemented"
    ACCEPTED = "accepted, no effect"
    REJECTED = "error when set"


class Kind(enum.Enum):
    STR = "string"
    BOOL = "bool"
    INT = "int"
    DURATION = "duration"
    STRINGS = "strings"  # repeatable
    ENUM = "enum"
    ENUMS = "enums"  # repeatable enum


@dataclass(frozen=True)
class Flag:
    name: str
    kind: Kind
    default: Any
    status: Status
    note: str
    choices: tuple[str, ...] = ()
    supported: tuple[str, ...] = ()
    provider: bool = False  # shared with ``kumo dns webhook-serve``
    kumo_only: bool = False
    envvars: tuple[str, ...] = ()  # extra variables besides EXTERNAL_DNS_<FLAG>

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def envvar(self) -> str:
        return "EXTERNAL_DNS_" + self.name.upper().replace("-", "_")

    def is_default(self, value: Any) -> bool:
        if self.kind in (Kind.STRINGS, Kind.ENUMS):
            given = [v for v in (value or []) if v != ""]
            default = [v for v in (self.default or []) if v != ""]
            return not given or given == default
        return bool(value == self.default)


OK, NOOP, REJ = Status.IMPLEMENTED, Status.ACCEPTED, Status.REJECTED
S, B, N, D, L, E, ES = Kind.STR, Kind.BOOL, Kind.INT, Kind.DURATION, Kind.STRINGS, Kind.ENUM, Kind.ENUMS

OTHER_PROVIDER = "another provider's setting; kumo rejects that provider"
OTHER_SOURCE = "another source's setting; kumo rejects that source"
OTHER_REGISTRY = "the dynamodb registry's setting; kumo rejects that registry"

PROVIDER_CHOICES = (
    "akamai",
    "alibabacloud",
    "aws",
    "aws-sd",
    "azure",
    "azure-dns",
    "azure-private-dns",
    "civo",
    "cloudflare",
    "coredns",
    "digitalocean",
    "dnsimple",
    "exoscale",
    "gandi",
    "godaddy",
    "google",
    "inmemory",
    "linode",
    "ns1",
    "oci",
    "ovh",
    "pdns",
    "pihole",
    "plural",
    "rfc2136",
    "scaleway",
    "skydns",
    "transip",
    "webhook",
)
SOURCE_CHOICES = (
    "service",
    "ingress",
    "node",
    "pod",
    "gateway-httproute",
    "gateway-grpcroute",
    "gateway-tlsroute",
    "gateway-tcproute",
    "gateway-udproute",
    "istio-gateway",
    "istio-virtualservice",
    "contour-httpproxy",
    "gloo-proxy",
    "fake",
    "connector",
    "crd",
    "empty",
    "skipper-routegroup",
    "openshift-route",
    "ambassador-host",
    "kong-tcpingress",
    "f5-virtualserver",
    "f5-transportserver",
    "traefik-proxy",
)
SUPPORTED_SOURCES = tuple(SOURCE_KINDS)  # the one table of sources
# kumo's own providers: "route53" is kumo's older name for "aws", "local" serves a zone itself
SUPPORTED_PROVIDERS = ("aws", "rfc2136", "inmemory", "webhook", "route53", "local")
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "fatal", "panic")
RECORD_TYPES = ("A", "AAAA", "CNAME", "NS", "SRV", "TXT", "MX", "NAPTR")

FLAGS: tuple[Flag, ...] = (
    # --- Kubernetes
    Flag(
        "server",
        S,
        "",
        REJ,
        "would read another cluster; kumo takes it from --kubeconfig/--context or in-cluster",
    ),
    Flag("kubeconfig", S, "", OK, "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)"),
    Flag("request-timeout", D, "30s", NOOP, "client tuning: kumo's Kubernetes client uses its own timeouts"),
    Flag("resolve-service-load-balancer-hostname", B, False, REJ, "would publish A/AAAA instead of CNAME"),
    Flag(
        "listen-endpoint-events",
        B,
        False,
        NOOP,
        "kumo always reacts to EndpointSlice events (headless Services)",
    ),
    Flag("gloo-namespace", L, ["gloo-system"], NOOP, OTHER_SOURCE),
    Flag("skipper-routegroup-groupversion", S, "zalando.org/v1", NOOP, OTHER_SOURCE),
    # --- sources
    Flag("source", ES, [], OK, "which objects are read", SOURCE_CHOICES, SUPPORTED_SOURCES),
    Flag(
        "always-publish-not-ready-addresses",
        B,
        False,
        OK,
        "headless Services publish unready endpoints too",
    ),
    Flag("annotation-filter", S, "", OK, "label-selector syntax applied to annotations"),
    Flag("annotation-prefix", S, "external-dns.alpha.kubernetes.io/", OK, "only this prefix is read"),
    Flag("combine-fqdn-annotation", B, False, OK, "--fqdn-template names besides the annotation's"),
    Flag(
        "compatibility",
        E,
        "",
        REJ,
        "legacy annotation semantics",
        ("", "mate", "molecule", "kops-dns-controller"),
    ),
    Flag("connector-source-server", S, "localhost:8080", NOOP, OTHER_SOURCE),
    Flag("crd-source-apiversion", S, "externaldns.k8s.io/v1alpha1", NOOP, OTHER_SOURCE),
    Flag("crd-source-kind", S, "DNSEndpoint", NOOP, OTHER_SOURCE),
    Flag("default-targets", L, [], REJ, "would replace the targets of every source"),
    Flag("force-default-targets", B, False, REJ, "would replace the targets of every source"),
    Flag("prefer-alias", B, False, REJ, "would turn CNAMEs into provider ALIAS records"),
    Flag("exclude-record-types", L, [], OK, "record types left alone (even if managed)"),
    Flag("exclude-target-net", L, [], REJ, "would drop targets by network"),
    Flag("exclude-unschedulable", B, True, NOOP, OTHER_SOURCE + " (node)"),
    Flag(
        "expose-internal-ipv6",
        B,
        False,
        OK,
        "headless endpoints-type NodeExternalIP adds the nodes' IPv6 InternalIPs",
    ),
    Flag(
        "fqdn-template",
        S,
        "",
        OK,
        "names for Services/Ingresses without one (Go template subset; refused at start otherwise)",
    ),
    Flag("gateway-label-filter", S, "", OK, "Gateways of routes must match this label selector"),
    Flag("gateway-name", S, "", OK, "only Gateways of this name give routes their targets"),
    Flag("gateway-namespace", S, "", OK, "only Gateways in this namespace give routes their targets"),
    Flag("ignore-hostname-annotation", B, False, OK, "the hostname annotation is not read"),
    Flag("ignore-ingress-rules-spec", B, False, OK, "Ingress spec.rules hosts are not read"),
    Flag("ignore-ingress-tls-spec", B, False, OK, "Ingress spec.tls hosts are not read"),
    Flag("ignore-non-host-network-pods", B, False, NOOP, OTHER_SOURCE + " (pod)"),
    Flag(
        "ingress-class",
        L,
        [],
        OK,
        "only Ingresses of these classes (spec.ingressClassName or the annotation)",
    ),
    Flag("label-filter", S, "", OK, "label selector for source objects (in, notin, !, = ...)"),
    Flag(
        "managed-record-types",
        L,
        ["A", "AAAA", "CNAME"],
        OK,
        "record types kumo creates, changes and deletes",
    ),
    Flag("namespace", S, "", OK, "only this namespace (default: all)"),
    Flag("nat64-networks", L, [], REJ, "would add A records for AAAA targets"),
    Flag("openshift-router-name", S, "", NOOP, OTHER_SOURCE),
    Flag("pod-source-domain", S, "", NOOP, OTHER_SOURCE + " (pod)"),
    Flag("publish-host-ip", B, False, OK, "headless Services publish their Pods' hostIP"),
    Flag("publish-internal-services", B, False, OK, "ClusterIP Services publish their cluster IP"),
    Flag("service-type-filter", L, [], OK, "only Services of these types"),
    Flag("target-net-filter", L, [], REJ, "would drop targets by network"),
    Flag("traefik-enable-legacy", B, False, NOOP, OTHER_SOURCE),
    Flag("traefik-disable-new", B, False, NOOP, OTHER_SOURCE),
    Flag("events-emit", L, [], NOOP, "kumo records its own Warning events on objects"),
    # --- providers and zones
    Flag("provider", E, "", OK, "where records go", PROVIDER_CHOICES, SUPPORTED_PROVIDERS, provider=True),
    Flag(
        "provider-cache-time",
        D,
        "0s",
        NOOP,
        "kumo keeps the provider's records in memory anyway",
        provider=True,
    ),
    Flag("domain-filter", L, [], OK, "limit zones and names to these domains", provider=True),
    Flag("exclude-domains", L, [], OK, "exclude these domains", provider=True),
    Flag("regex-domain-filter", S, "", OK, "limit names and zones by a regular expression", provider=True),
    Flag(
        "regex-domain-exclusion", S, "", OK, "exclude names and zones by a regular expression", provider=True
    ),
    Flag("zone-name-filter", L, [], NOOP, "an Azure setting", provider=True),
    Flag("zone-id-filter", L, [], OK, "only these hosted zone ids", provider=True),
    Flag("google-project", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("google-batch-change-size", N, 1000, NOOP, OTHER_PROVIDER, provider=True),
    Flag("google-batch-change-interval", D, "1s", NOOP, OTHER_PROVIDER, provider=True),
    Flag("google-zone-visibility", E, "", NOOP, OTHER_PROVIDER, ("", "public", "private"), provider=True),
    Flag(
        "alibaba-cloud-config-file",
        S,
        "/etc/kubernetes/alibaba-cloud.json",
        NOOP,
        OTHER_PROVIDER,
        provider=True,
    ),
    Flag("alibaba-cloud-zone-type", E, "", NOOP, OTHER_PROVIDER, ("", "public", "private"), provider=True),
    Flag(
        "aws-zone-type", E, "", OK, "public or private zones only", ("", "public", "private"), provider=True
    ),
    Flag("aws-zone-tags", L, [], OK, "only zones with these tags (key=value or key)", provider=True),
    Flag(
        "aws-profile",
        L,
        [],
        OK,
        "the AWS profile (one; several accounts at once are not supported)",
        provider=True,
    ),
    Flag("aws-assume-role", S, "", OK, "assume this IAM role (STS) for Route 53 calls", provider=True),
    Flag("aws-assume-role-external-id", S, "", OK, "external id for --aws-assume-role", provider=True),
    Flag("aws-batch-change-size", N, 1000, OK, "changes per ChangeResourceRecordSets call", provider=True),
    Flag("aws-batch-change-size-bytes", N, 32000, OK, "value bytes per call", provider=True),
    Flag(
        "aws-batch-change-size-values",
        N,
        1000,
        OK,
        "record values per call (an UPSERT counts twice)",
        provider=True,
    ),
    Flag(
        "aws-batch-change-interval",
        D,
        "1s",
        NOOP,
        "pacing: kumo paces every call with --rate-limit",
        provider=True,
    ),
    Flag("aws-evaluate-target-health", B, True, OK, "EvaluateTargetHealth of ALIAS records", provider=True),
    Flag("aws-api-retries", N, 3, OK, "retries of a throttled or failed call", provider=True),
    Flag("aws-prefer-cname", B, False, OK, "CNAME instead of ALIAS for AWS targets", provider=True),
    Flag(
        "aws-zones-cache-duration", D, "0s", NOOP, "cache: kumo reads zones on each full read", provider=True
    ),
    Flag(
        "aws-zone-match-parent",
        B,
        False,
        OK,
        "a --domain-filter below a zone selects that zone",
        provider=True,
    ),
    Flag("aws-sd-service-cleanup", B, False, NOOP, OTHER_PROVIDER + " (aws-sd)", provider=True),
    Flag("aws-sd-create-tag", L, [], NOOP, OTHER_PROVIDER + " (aws-sd)", provider=True),
    Flag("dynamodb-region", S, "", NOOP, OTHER_REGISTRY),
    Flag("dynamodb-table", S, "external-dns", NOOP, OTHER_REGISTRY),
    Flag("azure-config-file", S, "/etc/kubernetes/azure.json", NOOP, OTHER_PROVIDER, provider=True),
    Flag("azure-resource-group", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("azure-subscription-id", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("azure-user-assigned-identity-client-id", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("azure-zones-cache-duration", D, "0s", NOOP, OTHER_PROVIDER, provider=True),
    Flag("azure-maxretries-count", N, 3, NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-proxied", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-custom-hostnames", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-custom-hostnames-min-tls-version", S, "1.0", NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-custom-hostnames-certificate-authority", S, "none", NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-dns-records-per-page", N, 100, NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-regional-services", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-region-key", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("cloudflare-record-comment", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("coredns-prefix", S, "/skydns/", NOOP, OTHER_PROVIDER, provider=True),
    Flag("coredns-strictly-owned", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("akamai-serviceconsumerdomain", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("akamai-client-token", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("akamai-client-secret", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("akamai-access-token", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("akamai-edgerc-path", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("akamai-edgerc-section", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("oci-config-file", S, "/etc/kubernetes/oci.yaml", NOOP, OTHER_PROVIDER, provider=True),
    Flag("oci-compartment-ocid", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("oci-zone-scope", S, "GLOBAL", NOOP, OTHER_PROVIDER, provider=True),
    Flag("oci-auth-instance-principal", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("oci-zones-cache-duration", D, "0s", NOOP, OTHER_PROVIDER, provider=True),
    Flag("inmemory-zone", L, [], OK, "zones of the inmemory provider", provider=True),
    Flag("ovh-endpoint", S, "ovh-eu", NOOP, OTHER_PROVIDER, provider=True),
    Flag("ovh-api-rate-limit", N, 20, NOOP, OTHER_PROVIDER, provider=True),
    Flag("ovh-enable-cname-relative", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("pdns-server", S, "http://localhost:8081", NOOP, OTHER_PROVIDER, provider=True),
    Flag("pdns-server-id", S, "localhost", NOOP, OTHER_PROVIDER, provider=True),
    Flag("pdns-api-key", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("pdns-skip-tls-verify", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("ns1-endpoint", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("ns1-ignoressl", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("ns1-min-ttl", N, 0, NOOP, OTHER_PROVIDER, provider=True),
    Flag("digitalocean-api-page-size", N, 50, NOOP, OTHER_PROVIDER, provider=True),
    Flag("godaddy-api-key", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("godaddy-api-secret", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("godaddy-api-ttl", N, 0, NOOP, OTHER_PROVIDER, provider=True),
    Flag("godaddy-api-ote", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("tls-ca", S, "", NOOP, "TLS to pdns/etcd providers; " + OTHER_PROVIDER, provider=True),
    Flag("tls-client-cert", S, "", NOOP, "TLS to pdns/etcd providers; " + OTHER_PROVIDER, provider=True),
    Flag("tls-client-cert-key", S, "", NOOP, "TLS to pdns/etcd providers; " + OTHER_PROVIDER, provider=True),
    Flag("exoscale-apienv", S, "api", NOOP, OTHER_PROVIDER, provider=True),
    Flag("exoscale-apizone", S, "ch-gva-2", NOOP, OTHER_PROVIDER, provider=True),
    Flag("exoscale-apikey", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("exoscale-apisecret", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("rfc2136-host", L, [], OK, "DNS server (the first one is used)", provider=True),
    Flag("rfc2136-port", N, 0, OK, "DNS server port (0: 53)", provider=True),
    Flag("rfc2136-zone", L, [], OK, "zones to update (repeatable)", provider=True),
    Flag("rfc2136-create-ptr", B, False, REJ, "would manage PTR records", provider=True),
    Flag("rfc2136-insecure", B, False, OK, "no TSIG", provider=True),
    Flag("rfc2136-tsig-keyname", S, "", OK, "TSIG key name", provider=True),
    Flag(
        "rfc2136-tsig-secret",
        S,
        "",
        OK,
        "TSIG secret (base64)",
        provider=True,
        envvars=("KUMO_RFC2136_TSIG_SECRET",),
    ),
    Flag("rfc2136-tsig-secret-alg", S, "", OK, "TSIG algorithm (default hmac-sha256)", provider=True),
    Flag("rfc2136-tsig-axfr", B, False, OK, "sign the zone transfer with TSIG too", provider=True),
    Flag("rfc2136-min-ttl", D, "0s", OK, "lowest TTL written", provider=True),
    Flag("rfc2136-gss-tsig", B, False, REJ, "GSS-TSIG (Kerberos) is not implemented", provider=True),
    Flag("rfc2136-kerberos-username", S, "", NOOP, "only for --rfc2136-gss-tsig", provider=True),
    Flag("rfc2136-kerberos-password", S, "", NOOP, "only for --rfc2136-gss-tsig", provider=True),
    Flag("rfc2136-kerberos-realm", S, "", NOOP, "only for --rfc2136-gss-tsig", provider=True),
    Flag("rfc2136-batch-change-size", N, 50, OK, "changes per UPDATE message", provider=True),
    Flag("rfc2136-use-tls", B, False, REJ, "DNS over TLS is not implemented", provider=True),
    Flag("rfc2136-skip-tls-verify", B, False, NOOP, "only for --rfc2136-use-tls", provider=True),
    Flag(
        "rfc2136-load-balancing-strategy",
        E,
        "disabled",
        NOOP,
        "kumo sends to the first host",
        ("random", "round-robin", "disabled"),
        provider=True,
    ),
    Flag("transip-account", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("transip-keyfile", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("pihole-server", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("pihole-password", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("pihole-tls-skip-verify", B, False, NOOP, OTHER_PROVIDER, provider=True),
    Flag("pihole-api-version", S, "5", NOOP, OTHER_PROVIDER, provider=True),
    Flag("plural-cluster", S, "", NOOP, OTHER_PROVIDER, provider=True),
    Flag("plural-provider", S, "", NOOP, OTHER_PROVIDER, provider=True),
    # --- policy and registry
    Flag("policy", E, "sync", OK, "sync, upsert-only or create-only", ("sync", "upsert-only", "create-only")),
    Flag(
        "registry", E, "txt", OK, "ownership records", ("txt", "noop", "dynamodb", "aws-sd"), ("txt", "noop")
    ),
    Flag("txt-owner-id", S, "default", OK, "owner id in the TXT records"),
    Flag("txt-prefix", S, "", OK, "prefix of TXT names; may hold %{record_type}"),
    Flag("txt-suffix", S, "", OK, "suffix of TXT names; may hold %{record_type}"),
    Flag("txt-wildcard-replacement", S, "", OK, "stands for '*' in TXT names"),
    Flag("txt-encrypt-enabled", B, False, OK, "write TXT values AES-GCM encrypted (external-dns format)"),
    Flag("txt-encrypt-aes-key", S, "", OK, "32-byte AES key (or its base64); encrypted values are read"),
    Flag("migrate-from-txt-owner", S, "", OK, "records of this owner id become ours; their TXT is rewritten"),
    Flag("txt-cache-interval", D, "0s", NOOP, "kumo keeps the TXT records in memory anyway"),
    # --- the loop
    Flag("interval", D, "1m", OK, "retries, grace deadlines and the drift check run on this period"),
    Flag(
        "min-event-sync-interval", D, "200ms", OK, "gather events this long before a sync (external-dns: 5s)"
    ),
    Flag("once", B, False, OK, "sync once and exit (1 if anything failed)"),
    Flag("dry-run", B, False, OK, "log the changes, write nothing"),
    Flag("events", B, False, OK, "kumo always syncs on Kubernetes events"),
    Flag("min-ttl", D, "0s", OK, "TTL for records whose source sets none"),
    Flag(
        "log-format",
        E,
        "text",
        OK,
        "text or json (logrus keys: time, level, msg)",
        ("text", "json"),
        provider=True,
    ),
    Flag("metrics-address", S, ":7979", OK, "/metrics and /healthz ('' to disable)"),
    Flag(
        "log-level",
        E,
        "info",
        OK,
        "trace, debug, info, warning, error, fatal or panic",
        LOG_LEVELS,
        provider=True,
    ),
    Flag("webhook-provider-url", S, "http://localhost:8888", OK, "URL of a webhook provider", provider=True),
    Flag("webhook-provider-read-timeout", D, "5s", OK, "read timeout of webhook calls", provider=True),
    Flag("webhook-provider-write-timeout", D, "10s", OK, "write timeout of webhook calls", provider=True),
    Flag("webhook-server", B, False, REJ, "use `kumo dns webhook-serve` to serve a provider"),
    # --- kumo's own
    Flag(
        "rate-limit",
        Kind.STR,
        "5",
        OK,
        "provider calls per second (0: unlimited)",
        provider=True,
        kumo_only=True,
    ),
    Flag(
        "local-db", S, "kumo-dns.sqlite", OK, "SQLite file of the local zone", provider=True, kumo_only=True
    ),
    Flag("local-zone", S, "", OK, "zone served by the local provider", provider=True, kumo_only=True),
    Flag(
        "local-listen",
        S,
        "127.0.0.1:5353",
        OK,
        "UDP+TCP address of the local DNS server",
        provider=True,
        kumo_only=True,
    ),
    Flag("context", S, "", OK, "kubeconfig context", kumo_only=True),
    Flag(
        "zones-configmap",
        S,
        "",
        OK,
        "NAMESPACE/NAME of the ConfigMap where every kumo release registers its zone and owner id "
        "(watched: the zones are the domain filter, each with its own owner id)",
        kumo_only=True,
    ),
    Flag("leader-elect", B, False, OK, "run with Lease leader election", kumo_only=True),
    Flag(
        "leader-election-namespace",
        S,
        "",
        OK,
        "namespace of the Lease (default: $POD_NAMESPACE)",
        kumo_only=True,
    ),
    Flag("leader-election-id", S, "", OK, "name of the Lease (default: kumo-dns-<owner>)", kumo_only=True),
    Flag("lease-duration", D, "15s", OK, "Lease duration", kumo_only=True),
    Flag(
        "delete-grace-period",
        D,
        "5m",
        OK,
        "keep records of a source that lost its address this long",
        kumo_only=True,
    ),
    Flag("resync-period", D, "1h", OK, "full re-read of the provider", kumo_only=True),
    Flag(
        "health-failure-threshold", D, "5m", OK, "/healthz fails after syncs fail this long", kumo_only=True
    ),
)

BY_NAME: dict[str, Flag] = {f.name: f for f in FLAGS}


@dataclass(frozen=True)
class Notice:
    flag: str
    message: str


def check(values: Mapping[str, Any], selected: Sequence[Flag] = FLAGS) -> list[Notice]:
    """Refuse what would change records; return the accepted-but-ignored flags that were set.

    Raises UsageError (exit 2) naming the first flag that kumo would otherwise silently ignore.
    """
    notices: list[Notice] = []
    for flag in selected:
        value = values.get(flag.dest, flag.default)
        items = [v for v in (value if isinstance(value, list) else [value]) if v] if value else []
        for item in items:
            allowed = (*[c for c in flag.choices if c], *[c for c in flag.supported if c not in flag.choices])
            if allowed and item not in allowed:
                raise UsageError(f"--{flag.name}: expected one of {', '.join(allowed)}, found {item!r}")
            if flag.supported and item not in flag.supported:
                raise UsageError(
                    f"--{flag.name}={item}: external-dns accepts it, kumo does not implement it",
                    hint=f"kumo supports --{flag.name} {', '.join(flag.supported)}",
                )
        if flag.is_default(value):
            continue
        if flag.status is Status.REJECTED:
            raise UsageError(
                f"--{flag.name}: kumo does not implement this external-dns flag, and it would change"
                f" records ({flag.note})",
                hint="remove the flag, or keep external-dns for this setup",
            )
        if flag.status is Status.ACCEPTED:
            notices.append(
                Notice(flag.name, f"--{flag.name} is accepted and has no effect in kumo: {flag.note}")
            )
    return notices


def log_notices(notices: Sequence[Notice]) -> None:
    """Log each accepted-but-ignored flag once, at start."""
    for notice in notices:
        log.info("%s", notice.message)
