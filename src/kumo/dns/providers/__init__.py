"""DNS providers behind one small interface (``Provider``), and a factory for the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from kumo.dns.filters import DomainFilter
from kumo.dns.providers.base import ApplyResult, Provider, group_changes
from kumo.dns.providers.chaos import FlakyProvider
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.errors import UsageError

PROVIDERS = ("route53", "rfc2136", "local", "inmemory", "webhook")


@dataclass
class ProviderOptions:
    name: str
    domain_filter: DomainFilter = field(default_factory=DomainFilter)
    # route53
    aws_zone_type: str = ""
    zone_id_filter: list[str] = field(default_factory=list)
    rate_limit: float = 5.0
    aws_evaluate_target_health: bool = True
    aws_prefer_cname: bool = False
    # rfc2136
    rfc2136_host: str = "127.0.0.1"
    rfc2136_port: int = 53
    rfc2136_zones: list[str] = field(default_factory=list)
    rfc2136_tsig_keyname: str = ""
    rfc2136_tsig_secret: str = ""
    rfc2136_tsig_secret_alg: str = "hmac-sha256"
    rfc2136_batch_change_size: int = 100
    # local
    local_db: str = "kumo-dns.sqlite"
    local_zone: str = ""
    local_listen: str = "127.0.0.1:5353"
    # webhook
    webhook_url: str = "http://127.0.0.1:8888"


def make_provider(opts: ProviderOptions) -> Provider:
    """Build the provider the flags ask for; bad settings raise UsageError (exit 2)."""
    if opts.name == "inmemory":
        return InMemoryProvider(domain_filter=opts.domain_filter)
    if opts.name == "route53":
        from kumo.dns.providers.route53 import Route53Provider

        return Route53Provider(
            domain_filter=opts.domain_filter,
            zone_type=opts.aws_zone_type,
            zone_ids=opts.zone_id_filter,
            rate_limit=opts.rate_limit,
            evaluate_target_health=opts.aws_evaluate_target_health,
            prefer_cname=opts.aws_prefer_cname,
        )
    if opts.name == "rfc2136":
        from kumo.dns.providers.rfc2136 import RFC2136Provider

        zones = opts.rfc2136_zones or list(opts.domain_filter.filters)
        return RFC2136Provider(
            opts.rfc2136_host,
            opts.rfc2136_port,
            zones,
            opts.rfc2136_tsig_keyname,
            opts.rfc2136_tsig_secret,
            opts.rfc2136_tsig_secret_alg,
            batch_size=opts.rfc2136_batch_change_size,
        )
    if opts.name == "local":
        from kumo.dns.providers.local import LocalProvider

        zone = opts.local_zone or (opts.domain_filter.filters[0] if opts.domain_filter.filters else "")
        if not zone:
            raise UsageError("--provider=local needs --local-zone (or a --domain-filter)")
        return LocalProvider(opts.local_db, zone, opts.local_listen or None)
    if opts.name == "webhook":
        from kumo.dns.providers.webhook import WebhookProvider

        return WebhookProvider(opts.webhook_url)
    raise UsageError(f"--provider: expected one of {', '.join(PROVIDERS)}, found {opts.name!r}")


__all__ = [
    "PROVIDERS",
    "ApplyResult",
    "FlakyProvider",
    "InMemoryProvider",
    "Provider",
    "ProviderOptions",
    "group_changes",
    "make_provider",
]
