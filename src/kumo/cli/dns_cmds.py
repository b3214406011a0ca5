"""``kumo dns``: the DNS controller (external-dns compatible)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kumo.errors import UsageError

if TYPE_CHECKING:
    from kumo.dns.filters import DomainFilter
    from kumo.dns.providers import Provider

dns_app = typer.Typer(
    help="The DNS controller, a drop-in replacement for external-dns.\n\n"
    "Example: kumo dns run --source service --provider route53 --domain-filter example.com --once",
    no_args_is_help=True,
)

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")


def parse_duration(flag: str, value: str) -> float:
    """Seconds from a Go-style duration ("30s", "1m", "1h30m", "500ms") or a plain number of seconds."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        m = _DURATION.match(text)
        if not text or not m or not any(m.groups()):
            raise UsageError(f"{flag}: expected a duration such as 30s, 1m or 1h, found {value!r}") from None
        h, mi, s, ms = (float(g) if g else 0.0 for g in m.groups())
        seconds = h * 3600 + mi * 60 + s + ms / 1000
    if seconds < 0:
        raise UsageError(f"{flag}: expected a non-negative duration, found {value!r}")
    return seconds


def _choice(flag: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UsageError(f"{flag}: expected one of {', '.join(allowed)}, found {value!r}")
    return value


ProviderOpt = Annotated[
    str, typer.Option("--provider", help="route53, rfc2136, local, inmemory or webhook.", show_default=False)
]
DomainFilterOpt = Annotated[
    list[str] | None, typer.Option("--domain-filter", help="Limit to these domains (repeatable).")
]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude-domains", help="Exclude these domains (repeatable).")
]
ZoneTypeOpt = Annotated[
    str, typer.Option("--aws-zone-type", help="Route 53 zones to use: public, private or both.")
]
ZoneIdOpt = Annotated[list[str] | None, typer.Option("--zone-id-filter", help="Only these hosted zone ids.")]
RateOpt = Annotated[float, typer.Option("--rate-limit", help="Provider API calls per second (0: unlimited).")]
HostOpt = Annotated[str, typer.Option("--rfc2136-host", help="RFC 2136 server address.")]
PortOpt = Annotated[int, typer.Option("--rfc2136-port", help="RFC 2136 server port.")]
RZoneOpt = Annotated[list[str] | None, typer.Option("--rfc2136-zone", help="Zones to update (repeatable).")]
KeyNameOpt = Annotated[str, typer.Option("--rfc2136-tsig-keyname", help="TSIG key name.")]
SecretOpt = Annotated[
    str, typer.Option("--rfc2136-tsig-secret", envvar="KUMO_RFC2136_TSIG_SECRET", help="TSIG secret.")
]
AlgOpt = Annotated[str, typer.Option("--rfc2136-tsig-secret-alg", help="TSIG algorithm.")]
LocalDbOpt = Annotated[str, typer.Option("--local-db", help="SQLite file of the local zone.")]
LocalZoneOpt = Annotated[str, typer.Option("--local-zone", help="Zone served by the local provider.")]
LocalListenOpt = Annotated[
    str, typer.Option("--local-listen", help="UDP+TCP address of the embedded DNS server.")
]
WebhookOpt = Annotated[
    str, typer.Option("--webhook-provider-url", help="URL of an external-dns webhook provider.")
]


@dataclass(frozen=True)
class ProviderFlags:
    """The provider flags that ``dns run`` and ``dns webhook-serve`` share, declared once."""

    provider: ProviderOpt
    domain_filter: DomainFilterOpt = None
    exclude_domains: ExcludeOpt = None
    aws_zone_type: ZoneTypeOpt = ""
    zone_id_filter: ZoneIdOpt = None
    rate_limit: RateOpt = 5.0
    rfc2136_host: HostOpt = "127.0.0.1"
    rfc2136_port: PortOpt = 53
    rfc2136_zone: RZoneOpt = None
    rfc2136_tsig_keyname: KeyNameOpt = ""
    rfc2136_tsig_secret: SecretOpt = ""
    rfc2136_tsig_secret_alg: AlgOpt = "hmac-sha256"
    local_db: LocalDbOpt = "kumo-dns.sqlite"
    local_zone: LocalZoneOpt = ""
    local_listen: LocalListenOpt = "127.0.0.1:5353"
    webhook_provider_url: WebhookOpt = "http://127.0.0.1:8888"

    def domains(self) -> DomainFilter:
        from kumo.dns.filters import DomainFilter

        return DomainFilter.of(self.domain_filter or [], self.exclude_domains or [])

    def build(self) -> Provider:
        """Check the flags and make the provider (exit 2 on bad input)."""
        from kumo.dns.providers import PROVIDERS, ProviderOptions, make_provider

        _choice("--provider", self.provider, PROVIDERS)
        _choice("--aws-zone-type", self.aws_zone_type, ("", "public", "private"))
        if self.rate_limit < 0:
            raise UsageError(f"--rate-limit: expected a number >= 0, found {self.rate_limit}")
        if not 0 < self.rfc2136_port < 65536:
            raise UsageError(f"--rfc2136-port: expected 1-65535, found {self.rfc2136_port}")
        if self.rfc2136_tsig_keyname and not self.rfc2136_tsig_secret:
            raise UsageError(
                "--rfc2136-tsig-keyname needs --rfc2136-tsig-secret (or KUMO_RFC2136_TSIG_SECRET)"
            )
        return make_provider(
            ProviderOptions(
                name=self.provider,
                domain_filter=self.domains(),
                aws_zone_type=self.aws_zone_type,
                zone_id_filter=self.zone_id_filter or [],
                rate_limit=self.rate_limit,
                rfc2136_host=self.rfc2136_host,
                rfc2136_port=self.rfc2136_port,
                rfc2136_zones=self.rfc2136_zone or [],
                rfc2136_tsig_keyname=self.rfc2136_tsig_keyname,
                rfc2136_tsig_secret=self.rfc2136_tsig_secret,
                rfc2136_tsig_secret_alg=self.rfc2136_tsig_secret_alg,
                local_db=self.local_db,
                local_zone=self.local_zone,
                local_listen=self.local_listen,
                webhook_url=self.webhook_provider_url,
            )
        )


def with_provider_flags(**after: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the ProviderFlags options; it receives them as ``flags: ProviderFlags``.

    The options keep their place in ``--help``: those before the first name in ``after`` come first,
    and ``after={"domain_filter": "source"}`` puts --domain-filter (and the flags that follow it, up
    to the next named one) right after the command's own --source.
    """
    shared = list(inspect.signature(ProviderFlags, eval_str=True).parameters.values())
    names = [p.name for p in shared]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
        runs: dict[str | None, list[inspect.Parameter]] = {}
        anchor: str | None = None
        for param in shared:
            anchor = after.get(param.name, anchor)
            runs.setdefault(anchor, []).append(param)
        unknown = set(runs) - {None} - {p.name for p in own}
        if unknown:
            raise TypeError(f"{command.__name__} has no option {', '.join(sorted(str(u) for u in unknown))}")
        params = list(runs.get(None, []))
        for param in own:
            params += [param, *runs.get(param.name, [])]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            flags = ProviderFlags(**{name: kwargs.pop(name) for name in names})
            command(flags=flags, **kwargs)

        # Typer reads the options from the signature and the annotations
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


@dns_app.command("run")
@with_provider_flags(
    domain_filter="source",
    aws_zone_type="publish_internal_services",
    rate_limit="delete_grace_period",
    rfc2136_host="log_level",
)
def run(
    flags: ProviderFlags,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="service or ingress (repeatable).", show_default="service"),
    ] = None,
    txt_owner_id: Annotated[
        str, typer.Option("--txt-owner-id", help="Owner id in the TXT records.")
    ] = "default",
    txt_prefix: Annotated[
        str, typer.Option("--txt-prefix", help="Prefix of TXT names; may hold %{record_type}.")
    ] = "",
    txt_suffix: Annotated[
        str, typer.Option("--txt-suffix", help="Suffix of TXT names; may hold %{record_type}.")
    ] = "",
    txt_wildcard_replacement: Annotated[
        str, typer.Option("--txt-wildcard-replacement", help="Stands for '*' in TXT names.")
    ] = "",
    registry: Annotated[str, typer.Option("--registry", help="txt or noop.")] = "txt",
    policy: Annotated[str, typer.Option("--policy", help="sync, upsert-only or create-only.")] = "sync",
    interval: Annotated[str, typer.Option("--interval", help="Retry and housekeeping period.")] = "1m",
    once: Annotated[bool, typer.Option("--once", help="Sync once and exit (1 if anything failed).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Log the changes, write nothing.")] = False,
    annotation_prefix: Annotated[
        str,
        typer.Option("--annotation-prefix", help="Preferred annotation prefix; both standard ones are read."),
    ] = "external-dns.alpha.kubernetes.io/",
    namespace: Annotated[str, typer.Option("--namespace", help="Only this namespace (default: all).")] = "",
    label_filter: Annotated[
        str, typer.Option("--label-filter", help="Label selector for source objects.")
    ] = "",
    publish_internal_services: Annotated[
        bool, typer.Option("--publish-internal-services", help="Publish ClusterIP services too.")
    ] = False,
    metrics_address: Annotated[
        str, typer.Option("--metrics-address", help="Serve /metrics and /healthz here ('' to disable).")
    ] = ":7979",
    leader_elect: Annotated[
        bool, typer.Option("--leader-elect", help="Run with Lease leader election.")
    ] = False,
    leader_election_namespace: Annotated[
        str,
        typer.Option("--leader-election-namespace", help="Namespace of the Lease (default: $POD_NAMESPACE)."),
    ] = "",
    leader_election_id: Annotated[str, typer.Option("--leader-election-id", help="Name of the Lease.")] = "",
    lease_duration: Annotated[str, typer.Option("--lease-duration", help="Lease duration.")] = "15s",
    delete_grace_period: Annotated[
        str,
        typer.Option("--delete-grace-period", help="Keep records whose source lost its address this long."),
    ] = "5m",
    resync_period: Annotated[
        str, typer.Option("--resync-period", help="Full re-read of the provider.")
    ] = "1h",
    min_event_sync_interval: Annotated[
        str, typer.Option("--min-event-sync-interval", help="Gather events this long before syncing.")
    ] = "200ms",
    health_failure_threshold: Annotated[
        str, typer.Option("--health-failure-threshold", help="/healthz fails after syncs fail this long.")
    ] = "5m",
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Path to a kubeconfig.")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context.")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the DNS controller: watch Services/Ingresses and keep their DNS records true.

    Example: kumo dns run --source=service --provider=route53 --domain-filter=example.com --txt-owner-id=kumo
    """
    from kumo.dns.controller import ControllerConfig
    from kumo.dns.filters import LabelFilter
    from kumo.dns.health import parse_address
    from kumo.dns.plan import Policy
    from kumo.dns.runner import RunOptions, run_controller
    from kumo.dns.sources import SOURCE_KINDS, SourceConfig

    sources = source or ["service"]
    for s in sources:
        _choice("--source", s, tuple(SOURCE_KINDS))
    _choice("--registry", registry, ("txt", "noop"))
    _choice("--policy", policy, tuple(p.value for p in Policy))
    _choice("--log-level", log_level, ("debug", "info", "warning", "error"))
    if txt_prefix and txt_suffix:
        raise UsageError("--txt-prefix and --txt-suffix are mutually exclusive")
    if registry == "txt" and not txt_owner_id:
        raise UsageError("--txt-owner-id: must not be empty with --registry=txt")
    if not annotation_prefix.endswith("/"):
        raise UsageError(f"--annotation-prefix: must end with '/', found {annotation_prefix!r}")
    try:
        labels = LabelFilter.parse(label_filter)
    except ValueError as exc:
        raise UsageError(f"--label-filter: {exc}") from None
    if metrics_address:
        parse_address(metrics_address)
    durations = {
        flag: parse_duration(flag, value)
        for flag, value in (
            ("--interval", interval),
            ("--lease-duration", lease_duration),
            ("--delete-grace-period", delete_grace_period),
            ("--resync-period", resync_period),
            ("--min-event-sync-interval", min_event_sync_interval),
            ("--health-failure-threshold", health_failure_threshold),
        )
    }
    if durations["--interval"] <= 0:
        raise UsageError("--interval: must be greater than 0")
    if durations["--lease-duration"] < 1:
        raise UsageError("--lease-duration: must be at least 1s")
    dfilter = flags.domains()
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_level != "debug":
        for noisy in ("httpx", "httpx2", "httpcore", "botocore", "uvicorn.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)  # one line per HTTP request otherwise
    prov = flags.build()
    config = ControllerConfig(
        owner_id=txt_owner_id,
        policy=Policy(policy),
        registry=registry,
        txt_prefix=txt_prefix,
        txt_suffix=txt_suffix,
        txt_wildcard_replacement=txt_wildcard_replacement,
        source=SourceConfig(
            annotation_prefix=annotation_prefix,
            domain_filter=dfilter,
            label_filter=labels,
            namespace=namespace or None,
            publish_internal_services=publish_internal_services,
        ),
        domain_filter=dfilter,
        dry_run=dry_run,
        delete_grace_period=durations["--delete-grace-period"],
        health_threshold=durations["--health-failure-threshold"],
        retry_cap=max(durations["--interval"], 1.0),
    )
    options = RunOptions(
        sources=sources,
        config=config,
        kubeconfig=kubeconfig,
        context=context,
        interval=durations["--interval"],
        resync_period=durations["--resync-period"],
        min_event_interval=durations["--min-event-sync-interval"],
        once=once,
        leader_elect=leader_elect,
        lease_name=leader_election_id or f"kumo-dns-{txt_owner_id}",
        lease_namespace=leader_election_namespace or os.environ.get("POD_NAMESPACE") or "default",
        lease_duration=max(1, round(durations["--lease-duration"])),
        metrics_address=metrics_address or None,
    )
    try:
        code = asyncio.run(run_controller(prov, options))
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


@dns_app.command("webhook-serve")
@with_provider_flags(domain_filter="listen")
def webhook_serve(
    flags: ProviderFlags,
    listen: Annotated[str, typer.Option("--listen", help="Address to serve the webhook protocol on.")] = (
        "127.0.0.1:8888"
    ),
) -> None:
    """Serve one of kumo's providers to external-dns over the webhook protocol.

    Example: kumo dns webhook-serve --provider=rfc2136 --rfc2136-host=10.0.0.2 --rfc2136-zone=example.com
    """
    import uvicorn

    from kumo.dns.health import parse_address
    from kumo.dns.providers.webhook import webhook_app

    if flags.provider == "webhook":
        raise UsageError("--provider: webhook-serve serves a real provider, not another webhook")
    host, port = parse_address(listen)
    prov = flags.build()

    async def serve() -> None:
        if hasattr(prov, "zones"):
            await prov.zones()  # learn the zones first, so GET / answers with them
        server = uvicorn.Server(uvicorn.Config(webhook_app(prov), host=host, port=port, log_level="warning"))
        try:
            await server.serve()
        finally:
            await prov.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def register(app: typer.Typer) -> None:
    app.add_typer(dns_app, name="dns")
