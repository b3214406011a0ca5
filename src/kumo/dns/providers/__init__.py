"""DNS providers behind one small interface (``Provider``), and a factory for the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from kumo.dns.filters import DomainFilter
from kumo.dns.providers.base import ApplyResult, Provider, group_changes
from kumo.dns.providers.chaos import FlakyProvider
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.errors import UsageError

# "aws" is external-dns's name for Route 53; "route53" stays an alias
PROVIDERS = ("aws", "route53", "rfc2136", "local", "inmemory", "webhook")


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
    aws_zone_match_parent: bool = False
    aws_zone_tags: list[str] = field(default_factory=list)
    aws_profile: str = ""
    aws_assume_role: str = ""
    aws_assume_role_external_id: str = ""
    aws_batch_change_size: int = 1000
    aws_batch_change_size_bytes: int = 32000
    aws_batch_change_size_values: int = 1000
    aws_api_retries: int = 3
    # inmemory
    inmemory_zones: list[str] = field(default_factory=list)
    # rfc2136
    rfc2136_host: str = "127.0.0.1"
    rfc2136_port: int = 53
    rfc2136_zones: list[str] = field(default_factory=list)
    rfc2136_tsig_keyname: str = ""
    rfc2136_tsig_secret: str = ""
    rfc2136_tsig_secret_alg: str = "hmac-sha256"
    rfc2136_batch_change_size: int = 50
    rfc2136_tsig_axfr: bool = True
    rfc2136_min_ttl: int = 0
    # local
    local_db: str = "kumo-dns.sqlite"
    local_zone: str = ""
    local_listen: str = "127.0.0.1:5353"
    # webhook
    webhook_url: str = "http://127.0.0.1:8888"
    webhook_timeout: float = 10.0


def make_provider(opts: ProviderOptions) -> Provider:
    """Build the provider the flags ask for; bad settings raise UsageError (exit 2)."""
    if opts.name == "inmemory":
        return InMemoryProvider(zones=opts.inmemory_zones or None, domain_filter=opts.domain_filter)
    if opts.name in ("aws", "route53"):
        from kumo.dns.providers.route53 import Route53Provider, make_client

        return Route53Provider(
            domain_filter=opts.domain_filter,
            zone_type=opts.aws_zone_type,
            zone_ids=opts.zone_id_filter,
            rate_limit=opts.rate_limit,
            evaluate_target_health=opts.aws_evaluate_target_health,
            prefer_cname=opts.aws_prefer_cname,
            max_retries=opts.aws_api_retries,
            client=make_client(opts.aws_profile, opts.aws_assume_role, opts.aws_assume_role_external_id),
            batch_cost=opts.aws_batch_change_size_values,
            match_parent=opts.aws_zone_match_parent,
            zone_tags=opts.aws_zone_tags,
            batch_changes=opts.aws_batch_change_size,
            batch_chars=opts.aws_batch_change_size_bytes,
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
            min_ttl=opts.rfc2136_min_ttl,
            tsig_axfr=opts.rfc2136_tsig_axfr,
        )
    if opts.name == "local":
        from kumo.dns.providers.local import LocalProvider

        zone = opts.local_zone or (opts.domain_filter.filters[0] if opts.domain_filter.filters else "")
        if not zone:
            raise UsageError("--provider=local needs --local-zone (or a --domain-filter)")
        return LocalProvider(opts.local_db, zone, opts.local_listen or None)
    if opts.name == "webhook":
        from kumo.dns.providers.webhook import WebhookProvider

        return WebhookProvider(opts.webhook_url, timeout=opts.webhook_timeout)
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
