"""The ``kumo.yaml`` model.

Field names are camelCase in YAML, like Kubernetes manifests, and snake_case in Python.
Every model forbids unknown keys, so a typo is an error with a did-you-mean, never a silent no-op.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

CloudName = Literal["aws", "gcp", "azure", "generic"]
DnsProviderName = Literal["route53", "clouddns", "azure", "rfc2136", "local", "inmemory", "webhook"]
ExposeMode = Literal["loadbalancer", "ingress", "gateway"]
DnsPolicy = Literal["sync", "upsert-only", "create-only"]
DnsSource = Literal["service", "ingress", "gateway-httproute"]
LoadBalancerKind = Literal["classic", "nlb"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# A Service's name is a DNS-1035 label: it must start with a letter (the API server refuses "1web").
_DNS_1035_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
# The DNS controller owns each record through a TXT record named "<type>-<first label>..." (for
# example cname-www.example.com), so the first label and the whole name must leave room for the
# longest type prefix, "cname-"; a 63-character label would make a 69-character one.
TXT_TYPE_PREFIX_MAX = len("cname-")
_HOST_LABEL = re.compile(r"^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$")
# A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
_IMAGE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
_ACM_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):certificate/[A-Za-z0-9-]+$"
)
_REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Each cloud spells its regions differently: ap-northeast-1, asia-northeast1, japaneast.
REGION_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$"), "ap-northeast-1"),
    "gcp": (re.compile(r"^[a-z]+-[a-z]+\d{1,2}$"), "asia-northeast1"),
    "azure": (re.compile(r"^[a-z]+\d?$"), "japaneast"),
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_K8S_VERSION = re.compile(r"^1\.(2[0-9]|3[0-9])$")

Port = Annotated[int, Field(ge=1, le=65535, description="A TCP port, 1-65535.")]


def _env_var_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"expected an environment variable name like LOG_LEVEL, found {value!r}")
    return value


def _environment_name(value: str) -> str:
    if not _DNS_LABEL.match(value) or len(value) > 40:
        raise ValueError(
            f"expected an environment name such as staging or pr-42 (a short DNS label), found {value!r}"
        )
    return value


def _scalar_text(value: object) -> object:
    """Kubernetes wants env values as strings; a YAML number or boolean is meant as its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


EnvVarName = Annotated[str, AfterValidator(_env_var_name)]
EnvVarValue = Annotated[str, BeforeValidator(_scalar_text)]
EnvironmentName = Annotated[str, AfterValidator(_environment_name)]


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        validate_default=True,
    )


def is_hostname(value: str) -> bool:
    if len(value) > 253 or value.endswith(".") or "." not in value:
        return False
    labels = value.split(".")
    return all(_HOST_LABEL.match(label) for label in labels) and "*" not in labels[1:]


def acm_region(arn: str) -> str | None:
    match = _ACM_ARN.match(arn)
    return match.group("region") if match else None


class Target(Model):
    """Where the app runs."""

    cloud: CloudName = Field(
        description="Cloud profile: aws, gcp, azure or generic (any conformant cluster)."
    )
    region: str | None = Field(
        default=None, description="Cloud region, e.g. ap-northeast-1. Required for aws."
    )
    context: str | None = Field(default=None, description="kubeconfig context to deploy to.")
    account_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{12}$",
        description="AWS account id for IAM role ARNs; when absent, a placeholder the cloud layer fills.",
    )
    cert_issuer: str = Field(
        default="letsencrypt",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="cert-manager ClusterIssuer for tls: auto on generic and azure.",
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.match(value):
            raise ValueError(f"expected a region name such as ap-northeast-1, found {value!r}")
        return value


class NodeGroup(Model):
    instance_type: str = Field(default="t3.medium", description="Worker instance type.")
    min: int = Field(default=1, ge=0, le=1000)
    max: int = Field(default=1, ge=1, le=1000)
    desired: int = Field(default=1, ge=0, le=1000)

    @model_validator(mode="after")
    def _bounds(self) -> NodeGroup:
        if not self.min <= self.desired <= self.max:
            raise ValueError(
                f"expected min <= desired <= max, found min={self.min} desired={self.desired} max={self.max}"
            )
        return self


class Network(Model):
    """Subnets by id, or a VPC to look them up in (private subnets for nodes, public for load balancers)."""

    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    vpc_tags: dict[str, str] | None = Field(default=None, description="Look the VPC up by these tags.")
    private_subnets: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = []
    public_subnets: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = []


class Cluster(Model):
    name: str = Field(description="Cluster name.", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
    version: str = Field(default="1.33", description="Kubernetes minor version, e.g. '1.33'.")
    nodes: NodeGroup = NodeGroup()
    network: Network = Network()

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        text = str(value) if isinstance(value, (int, float)) else value
        if isinstance(text, str) and not _K8S_VERSION.match(text):
            raise ValueError(f"expected a Kubernetes minor version such as '1.33', found {text!r}")
        return text


# Kubernetes label keys ([prefix/]name) and values, as a NetworkPolicy's matchLabels takes them.
_LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
_LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
Labels = dict[Annotated[str, Field(pattern=_LABEL_KEY)], Annotated[str, Field(pattern=_LABEL_VALUE)]]


class NetworkPeer(Model):
    """Where traffic may come from, as a NetworkPolicy peer: pods with ``podSelector``'s labels in
    namespaces with ``namespaceSelector``'s labels. Without namespaceSelector, pods in the same
    namespace; without podSelector, every pod of the matching namespaces; ``{}`` matches all."""

    namespace_selector: Labels | None = Field(default=None, description="Labels of the namespaces.")
    pod_selector: Labels | None = Field(default=None, description="Labels of the pods.")

    @model_validator(mode="after")
    def _some(self) -> NetworkPeer:
        if self.namespace_selector is None and self.pod_selector is None:
            raise ValueError("expected namespaceSelector, podSelector or both")
        return self


class DnsController(Model):
    enabled: bool = True
    replicas: int = Field(default=2, ge=1, le=10, description="Two or more run with leader election.")
    policy: DnsPolicy = "sync"
    sources: list[DnsSource] | None = Field(
        default=None,
        description="Objects the controller reads; by default what the endpoints need (least privilege).",
    )
    image: str = "ghcr.io/kumo-dev/kumo:0.1.0"
    namespace: str = Field(default="kumo-system", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    interval: str = Field(default="1m", pattern=r"^[0-9]+(s|m|h)$")
    metrics_from: list[NetworkPeer] = Field(
        default=[],
        description="Who may reach the metrics and health port (7979), e.g. Prometheus: "
        "[{namespaceSelector: {kubernetes.io/metadata.name: monitoring}}]. Empty (the default): only "
        "the node itself (kubelet probes); the port listens on the Pod's address, never 0.0.0.0.",
    )


_K8S_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"


class SecretKeyRef(Model):
    """A key of a Kubernetes Secret in the DNS controller's namespace."""

    name: str = Field(pattern=_K8S_NAME)
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$")


class Rfc2136(Model):
    """The authoritative server the rfc2136 provider updates, with its TSIG key."""

    host: str = Field(pattern=r"^[A-Za-z0-9.:_-]+$", description="Server name or address.")
    port: Port = 53
    tsig_key_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+$")
    tsig_algorithm: Literal["hmac-sha256", "hmac-sha512", "hmac-sha1", "hmac-md5"] = "hmac-sha256"
    tsig_secret: SecretKeyRef | None = Field(default=None, description="Where the TSIG secret is kept.")


class Webhook(Model):
    url: str = Field(description="URL of an external-dns webhook provider.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError(
                f"expected an http(s) URL such as http://dns-webhook.kumo-system.svc:8888, found {value!r}"
            )
        return value


class Dns(Model):
    zone: str = Field(description="The DNS zone that records are written into, e.g. example.com.")
    provider: DnsProviderName = Field(default="route53", description="Where records are written.")
    owner_id: str = Field(
        default="kumo", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="TXT registry owner id."
    )
    zone_type: Literal["public", "private"] = "public"
    controller: DnsController = DnsController()
    rfc2136: Rfc2136 | None = Field(default=None, description="Settings of provider rfc2136.")
    webhook: Webhook | None = Field(default=None, description="Settings of provider webhook.")

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone = value.rstrip(".").lower()
        if not is_hostname(zone) or "*" in zone:
            raise ValueError(f"expected a DNS zone such as example.com, found {value!r}")
        return zone


Quantity = Annotated[
    str,
    BeforeValidator(_scalar_text),
    Field(description="A Kubernetes quantity: 100m, 0.5 (CPUs, a number as Kubernetes accepts), 128Mi."),
]


class Resources(Model):
    requests: dict[Literal["cpu", "memory", "ephemeral-storage"], Quantity] = Field(
        default={"cpu": "100m", "memory": "128Mi"},
        description="What the scheduler reserves for each Pod (cpu, memory, ephemeral-storage).",
    )
    limits: dict[Literal["cpu", "memory", "ephemeral-storage"], Quantity] = Field(
        default={"memory": "256Mi"}, description="The most each Pod may use; no CPU limit by default."
    )

    @field_validator("requests", "limits")
    @classmethod
    def _quantities(cls, value: dict[str, str]) -> dict[str, str]:
        for key, quantity in value.items():
            if not _QUANTITY.match(str(quantity)):
                raise ValueError(f"{key}: expected a quantity such as 100m or 128Mi, found {quantity!r}")
        return value


class Probe(Model):
    path: str | None = Field(default="/", description="HTTP GET path; null for a TCP check.")
    port: Port | None = Field(default=None, description="Defaults to the service port.")
    initial_delay_seconds: int = Field(default=0, ge=0)
    period_seconds: int = Field(default=10, ge=1)
    failure_threshold: int = Field(default=3, ge=1)


class Probes(Model):
    readiness: Probe | None = Probe()
    liveness: Probe | None = None


class TlsRef(Model):
    """A certificate reference: an ACM ARN (aws), a Kubernetes Secret, or a GCP/Azure certificate name."""

    certificate_arn: str | None = None
    secret_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    certificate_name: str | None = None

    @field_validator("certificate_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and acm_region(value) is None:
            raise ValueError(
                "expected an ACM certificate ARN such as "
                f"arn:aws:acm:ap-northeast-1:123456789012:certificate/abcd-..., found {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> TlsRef:
        given = [v for v in (self.certificate_arn, self.secret_name, self.certificate_name) if v]
        if len(given) != 1:
            raise ValueError("expected exactly one of certificateArn, secretName, certificateName")
        return self


class EndpointPort(Model):
    port: Port = Field(description="Port the load balancer listens on.")
    protocol: Literal["http", "https", "tcp"] = "https"


class Endpoint(Model):
    """How the service is reached from outside."""

    hostname: str = Field(description="Public DNS name, inside dns.zone.")
    expose: ExposeMode = Field(default="loadbalancer", description="loadbalancer, ingress, or gateway.")
    tls: Literal["auto", "off"] | TlsRef = Field(
        default="auto", description="'auto' (a managed certificate), 'off', or a certificate reference."
    )
    ports: list[EndpointPort] = Field(
        default=[EndpointPort(port=443, protocol="https")],
        min_length=1,
        description="Listener ports; default 443/https, or 80/http when tls is off.",
    )
    internal: bool = Field(default=False, description="Internal load balancer instead of internet-facing.")
    ttl: int | None = Field(default=None, ge=1, le=604800)
    load_balancer: LoadBalancerKind | None = Field(
        default=None,
        description="aws, expose loadbalancer: 'classic' (the in-tree controller, the default) or 'nlb' "
        "(the AWS Load Balancer Controller's NLB).",
    )
    ingress_class: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="IngressClass for expose ingress; the profile's default when absent "
        "(aws: alb, gcp: gce, azure: webapprouting.kubernetes.azure.com, generic: nginx).",
    )
    gateway_class: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="GatewayClass for expose gateway; the profile's default when absent "
        "(gcp: gke-l7-global-external-managed, azure: azure-alb-external, generic: nginx).",
    )

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        host = value.rstrip(".").lower()
        if not is_hostname(host):
            raise ValueError(f"expected a DNS name such as www.example.com, found {value!r}")
        first = host.split(".", 1)[0]
        if len(first) > 63 - TXT_TYPE_PREFIX_MAX or len(host) > 253 - TXT_TYPE_PREFIX_MAX:
            raise ValueError(
                f"expected a first label of at most {63 - TXT_TYPE_PREFIX_MAX} characters and a name of "
                f"at most {253 - TXT_TYPE_PREFIX_MAX} (the TXT ownership record adds 'cname-' to it), "
                f"found {len(first)} and {len(host)} in {value!r}"
            )
        return host

    @property
    def tls_enabled(self) -> bool:
        return self.tls != "off"

    @model_validator(mode="before")
    @classmethod
    def _default_ports(cls, data: object) -> object:
        """Without TLS the default listener is plain HTTP on 80."""
        if isinstance(data, dict) and "ports" not in data and data.get("tls") == "off":
            return {**data, "ports": [{"port": 80, "protocol": "http"}]}
        return data

    @property
    def listeners(self) -> list[EndpointPort]:
        return list(self.ports)


class Security(Model):
    """The container's security context. The defaults follow ARCHITECTURE section 6; loosen per service."""

    run_as_non_root: bool = Field(default=True, description="Run as user runAsUser, never root.")
    run_as_user: int = Field(default=65532, ge=1, le=2147483647)
    read_only_root_filesystem: bool = True
    writable_paths: list[Annotated[str, Field(pattern=r"^/[^\s]*$")]] | None = Field(
        default=None,
        description="Directories mounted as emptyDir so a read-only root filesystem still works. "
        "Default: /tmp, plus /var/cache/nginx and /var/run for nginx images.",
    )
    network_policy: bool = Field(
        default=True,
        description="Render a NetworkPolicy that admits traffic to this service's Pods only on its port: "
        "from anywhere when it has an endpoint (public or internal load balancer, Ingress, Gateway), "
        "from its own namespace when it has none. false leaves the Pods open to all traffic. Egress is "
        "not restricted.",
    )


def _object_name(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            f"expected the name of a Kubernetes object (such as db-credentials), found {value!r}"
        )
    return value


def _config_key(value: str) -> str:
    if len(value) > 253 or not _CONFIG_KEY.match(value):
        raise ValueError(
            f"expected a key of a Secret or ConfigMap (letters, digits, '-', '_', '.'), found {value!r}"
        )
    return value


ObjectName = Annotated[str, AfterValidator(_object_name)]
ConfigKey = Annotated[str, AfterValidator(_config_key)]


class _OneSource(Model):
    @model_validator(mode="after")
    def _exactly_one(self) -> _OneSource:
        given = [v for v in (getattr(self, "secret", None), getattr(self, "config_map", None)) if v]
        if len(given) != 1:
            raise ValueError("expected exactly one of secret or configMap")
        return self


class ValueFrom(_OneSource):
    """An environment variable whose value is one key of a Secret or ConfigMap in the app's namespace.
    kumo only refers to it: the Secret is created by whoever owns it, never written from kumo.yaml."""

    secret: ObjectName | None = Field(default=None, description="Name of a Secret in the app's namespace.")
    config_map: ObjectName | None = Field(
        default=None, description="Name of a ConfigMap in the app's namespace."
    )
    key: ConfigKey = Field(description="The key whose value becomes the variable's value.")
    optional: bool = Field(
        default=False, description="Start the container even when the Secret, ConfigMap or key is missing."
    )


class EnvFrom(_OneSource):
    """Every key of a Secret or ConfigMap in the app's namespace, each as an environment variable."""

    secret: ObjectName | None = Field(default=None, description="Name of a Secret in the app's namespace.")
    config_map: ObjectName | None = Field(
        default=None, description="Name of a ConfigMap in the app's namespace."
    )
    prefix: str = Field(default="", description="Put before every variable name, e.g. DB_.")
    optional: bool = Field(default=False, description="Start the container even when it is missing.")


def _mount_path(value: str) -> str:
    if not value.startswith("/") or "/../" in value + "/" or value.endswith("/") or "\x00" in value:
        raise ValueError(
            f"expected an absolute file path in the container, such as /etc/app/config.json, found {value!r}"
        )
    return value


def _source_path(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if not value or value.startswith("/") or ".." in parts:
        raise ValueError(f"expected a path relative to kumo.yaml, inside its directory, found {value!r}")
    return value


MountPath = Annotated[str, AfterValidator(_mount_path)]
SourcePath = Annotated[str, AfterValidator(_source_path)]


class Service(Model):
    name: str = Field(description="Service name (a DNS label).")
    image: str = Field(description="Container image, e.g. nginx:1.27.")
    replicas: int = Field(default=2, ge=0, le=1000, description="How many Pods run it.")
    port: Port = Field(default=80, description="Port the container listens on.")
    env: dict[EnvVarName, EnvVarValue | ValueFrom] = Field(
        default={},
        description="Environment variables: a value (text; numbers and booleans are written as text), "
        "or {secret: NAME, key: KEY} / {configMap: NAME, key: KEY} to read one key of a Secret or "
        "ConfigMap in the app's namespace. Point a frontend at its API with the API's internal "
        "address, e.g. API_URL: http://api:8080.",
    )
    env_from: list[EnvFrom] = Field(
        default=[], description="Secrets and ConfigMaps whose every key becomes an environment variable."
    )
    files: dict[MountPath, SourcePath] = Field(
        default={},
        description="Files from kumo.yaml's directory, mounted read-only in the container: mount path -> "
        "path relative to kumo.yaml. They travel in a ConfigMap whose name carries a hash of their "
        "content, so changing a file rolls the Deployment (as kustomize's configMapGenerator). Not for "
        "secrets: reference a Secret through env or envFrom instead.",
    )
    resources: Resources = Field(default=Resources(), description="CPU and memory requests and limits.")
    probes: Probes = Field(default=Probes(), description="Readiness and liveness checks.")
    endpoint: Endpoint | None = Field(
        default=None,
        description="How the service is reached from outside, with its DNS name. Without an endpoint the "
        "service is internal: a ClusterIP Service that other services of the app reach as NAME:PORT "
        "(e.g. http://api:8080), and from other namespaces as NAME.NAMESPACE.svc.cluster.local:PORT.",
    )
    command: list[str] | None = Field(default=None, description="Replaces the image's entrypoint.")
    args: list[str] | None = Field(default=None, description="Replaces the image's arguments (CMD).")
    security: Security = Field(default=Security(), description="Pod and container security settings.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _DNS_1035_LABEL.match(value):
            raise ValueError(
                "expected a Service name: a DNS label that starts with a letter (lower-case letters, "
                f"digits, '-', at most 63), found {value!r}"
            )
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not _IMAGE.match(value):
            raise ValueError(
                f"expected an image reference such as nginx:1.27 or ghcr.io/org/app@sha256:..., "
                f"found {value!r}"
            )
        return value


def volume_name(path: str) -> str:
    """The name of the emptyDir volume a writable path gets (a DNS label made from the path)."""
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
    return name[:63].rstrip("-")


class Preview(Model):
    hostname_template: str = Field(
        default="{env}.{hostname}", description="Hostname of a preview environment; {env} and {hostname}."
    )
    namespace_template: str = Field(default="{app}-{env}")


class Spec(Model):
    """A whole kumo.yaml."""

    #: The directory of the kumo.yaml it was loaded from: ``files:`` are read relative to it.
    _source_dir: Path | None = PrivateAttr(default=None)

    api_version: Literal["kumo.dev/v1alpha1"] = Field(
        default="kumo.dev/v1alpha1", description="Version of the kumo.yaml format."
    )
    app: str = Field(description="Application name (a DNS label).")
    namespace: str | None = Field(default=None, description="Namespace; defaults to the app name.")
    target: Target = Field(description="Where it runs: the cloud profile, region and kubeconfig context.")
    cluster: Cluster | None = Field(default=None, description="The cluster kumo provisions (aws).")
    dns: Dns | None = Field(
        default=None, description="The zone the endpoints' names go in, and the DNS controller add-on."
    )
    services: list[Service] = Field(
        min_length=1, description="The containers of the app, one Deployment each."
    )
    preview: Preview = Field(
        default=Preview(), description="Names of preview environments (any --env not under environments)."
    )
    environments: dict[EnvironmentName, dict[str, object]] = Field(
        default={}, description="Per-environment overrides, merged over the base spec."
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_LABEL.match(value):
            raise ValueError(
                f"expected a namespace name (a DNS label of at most 63 characters), found {value!r}"
            )
        return value

    @field_validator("app")
    @classmethod
    def _app(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError(f"expected a DNS label (lower-case letters, digits, '-'), found {value!r}")
        return value

    @property
    def default_namespace(self) -> str:
        return self.namespace or self.app

    @property
    def source_dir(self) -> Path | None:
        return self._source_dir

    def from_directory(self, directory: Path | None) -> Spec:
        """This spec, reading ``files:`` relative to ``directory``."""
        self._source_dir = directory
        return self


#: A ConfigMap holds at most 1 MiB; the files of one service must fit in it.
MAX_FILES_BYTES = 1024 * 1024 - 16 * 1024


def service_files(spec: Spec, service: Service) -> dict[str, bytes]:
    """The content of each of ``service.files``, by mount path, read relative to the spec's directory."""
    base = spec.source_dir or Path(".")
    return {mount: (base / source).read_bytes() for mount, source in service.files.items()}


def file_problems(spec: Spec) -> list[tuple[tuple[str | int, ...], str]]:
    """Files the spec names that cannot be read, or that do not fit in one ConfigMap."""
    base = (spec.source_dir or Path(".")).resolve()
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, service in enumerate(spec.services):
        total = 0
        for mount, source in service.files.items():
            path = (base / source).resolve()
            loc: tuple[str | int, ...] = ("services", index, "files", mount)
            if not path.is_relative_to(base):
                problems.append((loc, f"expected a file inside {base}, found {source!r}"))
            elif not path.is_file():
                problems.append((loc, f"expected a file relative to kumo.yaml, found no file {path}"))
            else:
                total += path.stat().st_size
        if total > MAX_FILES_BYTES:
            problems.append(
                (
                    ("services", index, "files"),
                    f"the files add up to {total} bytes; one ConfigMap holds at most {MAX_FILES_BYTES}",
                )
            )
    return problems


def required_sources(spec: Spec) -> list[DnsSource]:
    """The DNS controller sources the endpoints need, in a stable order."""
    exposes = {s.endpoint.expose for s in spec.services if s.endpoint is not None}
    wanted: list[DnsSource] = []
    if "loadbalancer" in exposes:
        wanted.append("service")
    if "ingress" in exposes:
        wanted.append("ingress")
    if "gateway" in exposes:
        wanted.append("gateway-httproute")
    return wanted


def dns_sources(spec: Spec) -> list[DnsSource]:
    """The sources the controller is started with: as configured, else what the endpoints need."""
    if spec.dns is not None and spec.dns.controller.sources is not None:
        return list(dict.fromkeys(spec.dns.controller.sources))
    return required_sources(spec) or ["service"]


def _endpoint_problems(
    spec: Spec, endpoint: Endpoint, here: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    cloud = spec.target.cloud
    tls = endpoint.tls
    if endpoint.load_balancer is not None and (cloud != "aws" or endpoint.expose != "loadbalancer"):
        problems.append(
            (
                (*here, "loadBalancer"),
                f"loadBalancer applies to cloud aws with expose loadbalancer, found cloud "
                f"{cloud!r} and expose {endpoint.expose!r}",
            )
        )
    if endpoint.ingress_class is not None and endpoint.expose != "ingress":
        problems.append(
            ((*here, "ingressClass"), f"ingressClass needs expose ingress, found {endpoint.expose!r}")
        )
    if endpoint.gateway_class is not None and endpoint.expose != "gateway":
        problems.append(
            ((*here, "gatewayClass"), f"gatewayClass needs expose gateway, found {endpoint.expose!r}")
        )
    if cloud != "aws" and endpoint.expose == "loadbalancer" and endpoint.tls_enabled:
        problems.append(
            (
                (*here, "tls"),
                f"a load balancer Service on {cloud} cannot terminate TLS; expected tls: off, "
                f"or expose ingress or gateway, found tls {tls if isinstance(tls, str) else 'reference'!r}",
            )
        )
    if cloud == "aws" and isinstance(tls, TlsRef) and tls.certificate_arn is None:
        problems.append(
            (
                (*here, "tls"),
                "expected tls auto, off or certificateArn on aws (the load balancer "
                "terminates TLS with an ACM certificate)",
            )
        )
    if cloud == "generic" and isinstance(tls, TlsRef) and tls.certificate_name:
        problems.append(
            (
                (*here, "tls", "certificateName"),
                "certificateName names a gcp or azure certificate; expected secretName or auto on generic",
            )
        )
    if (
        cloud == "gcp"
        and endpoint.expose == "ingress"
        and tls == "auto"
        and endpoint.hostname.startswith("*.")
    ):
        problems.append(
            (
                (*here, "hostname"),
                "GKE managed certificates do not cover wildcard names; expected a plain name, or tls "
                f"certificateName/secretName, found {endpoint.hostname!r}",
            )
        )
    if cloud == "gcp" and endpoint.expose == "ingress" and endpoint.internal and tls == "auto":
        problems.append(
            (
                (*here, "tls"),
                "GKE managed certificates serve external Ingresses only; expected "
                "tls: off or a secretName for an internal endpoint",
            )
        )
    for index, port in enumerate(endpoint.ports):
        where = (*here, "ports", index, "protocol")
        if port.protocol == "https" and not endpoint.tls_enabled:
            problems.append((where, "expected http or tcp because tls is off, found 'https'"))
        if port.protocol == "tcp" and endpoint.expose != "loadbalancer":
            problems.append((where, f"expected http or https for expose {endpoint.expose}, found 'tcp'"))
    return problems


# Providers kumo's DNS controller implements (ARCHITECTURE section 3).
CONTROLLER_PROVIDERS = ("route53", "rfc2136", "local", "inmemory", "webhook")


def _dns_problems(dns: Dns) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if dns.controller.enabled and dns.provider not in CONTROLLER_PROVIDERS:
        problems.append(
            (
                ("dns", "provider"),
                f"the DNS controller writes to {', '.join(CONTROLLER_PROVIDERS)}; found {dns.provider!r} "
                "(reach it through an external-dns webhook provider with provider: webhook, "
                "or set dns.controller.enabled: false)",
            )
        )
    for name in ("rfc2136", "webhook"):
        if dns.provider == name and getattr(dns, name) is None:
            problems.append((("dns",), f"dns.{name} is required for provider {name}, found none"))
        elif dns.provider != name and getattr(dns, name) is not None:
            problems.append(
                ((("dns", name)), f"dns.{name} applies to provider {name}, found {dns.provider!r}")
            )
    return problems


def _target_problems(target: Target) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    form = REGION_FORMS.get(target.cloud)
    if form is not None and not target.region:
        problems.append((("target",), f"region is required for cloud {target.cloud!r}, found none"))
    elif form is not None and target.region and not form[0].match(target.region):
        problems.append(
            (
                ("target", "region"),
                f"expected a region of {target.cloud} such as {form[1]}, found {target.region!r}",
            )
        )
    if target.account_id is not None and target.cloud != "aws":
        problems.append(
            (("target", "accountId"), f"accountId is for cloud aws, found cloud {target.cloud!r}")
        )
    return problems


def _volume_problems(
    service: Service, here: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Two writable paths must not make the same volume name (/data/x_y and /data/x-y both make
    data-x-y), or the API server refuses the Deployment for its duplicate volumes."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    named: dict[str, str] = {}
    for index, path in enumerate(service.security.writable_paths or []):
        name = volume_name(path)
        other = named.setdefault(name, path)
        if other != path:
            problems.append(
                (
                    (*here, index),
                    f"expected writable paths whose volume names differ, found {path!r} and {other!r}, "
                    f"which both make volume {name!r}",
                )
            )
    return problems


def cross_field_problems(spec: Spec) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks that span several fields, each returned with the location it concerns."""
    problems: list[tuple[tuple[str | int, ...], str]] = _target_problems(spec.target)
    seen: set[str] = set()
    for index, service in enumerate(spec.services):
        if service.name in seen:
            problems.append(
                (("services", index, "name"), f"service names must be unique, found {service.name!r} twice")
            )
        seen.add(service.name)
        problems.extend(_volume_problems(service, ("services", index, "security", "writablePaths")))
        endpoint = service.endpoint
        if endpoint is None:
            continue
        here: tuple[str | int, ...] = ("services", index, "endpoint")
        if spec.dns is not None and not (
            endpoint.hostname == spec.dns.zone or endpoint.hostname.endswith("." + spec.dns.zone)
        ):
            problems.append(
                (
                    (*here, "hostname"),
                    f"expected a name inside dns.zone {spec.dns.zone!r}, found {endpoint.hostname!r}",
                )
            )
        arn = endpoint.tls.certificate_arn if isinstance(endpoint.tls, TlsRef) else None
        if arn:
            if spec.target.cloud != "aws":
                problems.append(
                    ((*here, "tls", "certificateArn"), "an ACM certificate needs target.cloud aws")
                )
            elif acm_region(arn) != spec.target.region:
                problems.append(
                    (
                        (*here, "tls", "certificateArn"),
                        f"expected an ACM certificate in the load balancer's region {spec.target.region}, "
                        f"found one in {acm_region(arn)}",
                    )
                )
        if spec.target.cloud == "aws" and endpoint.expose == "gateway":
            problems.append(((*here, "expose"), "expected loadbalancer or ingress on aws, found gateway"))
        problems.extend(_endpoint_problems(spec, endpoint, here))
    if spec.dns is None and any(s.endpoint for s in spec.services):
        problems.append((("dns",), "a service has a public endpoint, so dns (zone, provider) is required"))
    if spec.dns is not None:
        problems.extend(_dns_problems(spec.dns))
    if spec.dns is not None and spec.dns.controller.sources is not None:
        missing = [s for s in required_sources(spec) if s not in spec.dns.controller.sources]
        if missing:
            problems.append(
                (
                    ("dns", "controller", "sources"),
                    f"the endpoints need sources {', '.join(missing)}, "
                    f"found {', '.join(spec.dns.controller.sources)}",
                )
            )
    return problems
