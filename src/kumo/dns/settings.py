"""From external-dns's flags (``kumo.dns.flags``) to the controller's, runner's and provider's settings.

Bad values raise UsageError naming the flag (exit 2); nothing is started before every flag is
checked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kumo.dns.duration import parse_go_duration
from kumo.dns.flags import BY_NAME, FLAGS, Flag, Notice, check
from kumo.errors import UsageError


def parse_duration(flag: str, value: str) -> float:
    """Seconds from a Go duration (``30s``, ``1.5m``, ``1h30m``, ``500ms``) or a plain number of seconds."""
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_go_duration(text)
        except ValueError:
            raise UsageError(f"{flag}: expected a duration such as 30s, 1m or 1h, found {value!r}") from None
    if seconds < 0:
        raise UsageError(f"{flag}: expected a non-negative duration, found {value!r}")
    return seconds


def _strings(values: Mapping[str, Any], name: str) -> list[str]:
    """A repeatable flag's values; commas split too (as external-dns's filters accept both)."""
    flag = BY_NAME[name]
    raw = values.get(flag.dest)
    if not raw:
        raw = flag.default or []
    return [v for v in raw if v != ""]


def _get(values: Mapping[str, Any], name: str) -> Any:
    flag = BY_NAME[name]
    value = values.get(flag.dest)
    return flag.default if value is None else value


def _duration(values: Mapping[str, Any], name: str) -> float:
    return parse_duration(f"--{name}", str(_get(values, name)))


@dataclass
class Settings:
    """Everything ``kumo dns run`` needs, checked."""

    provider: Any  # ProviderOptions
    run: Any  # RunOptions
    notices: list[Notice]
    log_level: str
    log_format: str


def provider_options(values: Mapping[str, Any]) -> Any:
    """The provider settings shared by ``dns run`` and ``dns webhook-serve``."""
    from kumo.dns.filters import DomainFilter
    from kumo.dns.providers import ProviderOptions

    provider = str(_get(values, "provider") or "")
    if not provider:
        raise UsageError("--provider: required (aws, rfc2136, inmemory, webhook or local)")
    try:
        rate_limit = float(_get(values, "rate-limit"))
    except ValueError:
        raise UsageError(f"--rate-limit: expected a number, found {_get(values, 'rate-limit')!r}") from None
    if rate_limit < 0:
        raise UsageError(f"--rate-limit: expected a number >= 0, found {rate_limit}")
    try:
        domains = DomainFilter.of(
            _strings(values, "domain-filter"),
            _strings(values, "exclude-domains"),
            str(_get(values, "regex-domain-filter")),
            str(_get(values, "regex-domain-exclusion")),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    hosts = _strings(values, "rfc2136-host")
    port = int(_get(values, "rfc2136-port")) or 53
    if not 0 < port < 65536:
        raise UsageError(f"--rfc2136-port: expected 1-65535, found {port}")
    insecure = bool(_get(values, "rfc2136-insecure"))
    keyname = "" if insecure else str(_get(values, "rfc2136-tsig-keyname"))
    secret = "" if insecure else str(_get(values, "rfc2136-tsig-secret"))
    if keyname and not secret:
        raise UsageError(
            "--rfc2136-tsig-keyname needs --rfc2136-tsig-secret (or EXTERNAL_DNS_RFC2136_TSIG_SECRET)"
        )
    profiles = _strings(values, "aws-profile")
    if len(profiles) > 1:
        raise UsageError(
            f"--aws-profile: kumo uses one AWS profile, found {len(profiles)} ({', '.join(profiles)})",
            hint="run one kumo dns per account, or use --aws-assume-role",
        )
    for name in (
        "aws-batch-change-size",
        "aws-batch-change-size-bytes",
        "aws-batch-change-size-values",
        "rfc2136-batch-change-size",
    ):
        if int(_get(values, name)) < 1:
            raise UsageError(f"--{name}: expected a number >= 1, found {_get(values, name)}")
    return ProviderOptions(
        name="route53" if provider == "aws" else provider,
        domain_filter=domains,
        aws_zone_type=str(_get(values, "aws-zone-type")),
        zone_id_filter=_strings(values, "zone-id-filter"),
        rate_limit=rate_limit,
        aws_evaluate_target_health=bool(_get(values, "aws-evaluate-target-health")),
        aws_prefer_cname=bool(_get(values, "aws-prefer-cname")),
        aws_zone_match_parent=bool(_get(values, "aws-zone-match-parent")),
        aws_zone_tags=_strings(values, "aws-zone-tags"),
        aws_profile=profiles[0] if profiles else "",
        aws_assume_role=str(_get(values, "aws-assume-role")),
        aws_assume_role_external_id=str(_get(values, "aws-assume-role-external-id")),
        aws_batch_change_size=int(_get(values, "aws-batch-change-size")),
        aws_batch_change_size_bytes=int(_get(values, "aws-batch-change-size-bytes")),
        aws_batch_change_size_values=int(_get(values, "aws-batch-change-size-values")),
        aws_api_retries=max(0, int(_get(values, "aws-api-retries"))),
        inmemory_zones=_strings(values, "inmemory-zone"),
        rfc2136_host=hosts[0] if hosts else "127.0.0.1",
        rfc2136_port=port,
        rfc2136_zones=_strings(values, "rfc2136-zone"),
        rfc2136_tsig_keyname=keyname,
        rfc2136_tsig_secret=secret,
        rfc2136_tsig_secret_alg=str(_get(values, "rfc2136-tsig-secret-alg")) or "hmac-sha256",
        rfc2136_batch_change_size=int(_get(values, "rfc2136-batch-change-size")),
        rfc2136_tsig_axfr=bool(_get(values, "rfc2136-tsig-axfr")),
        rfc2136_min_ttl=int(_duration(values, "rfc2136-min-ttl")),
        local_db=str(_get(values, "local-db")),
        local_zone=str(_get(values, "local-zone")),
        local_listen=str(_get(values, "local-listen")),
        webhook_url=str(_get(values, "webhook-provider-url")),
        webhook_timeout=max(
            _duration(values, "webhook-provider-read-timeout"),
            _duration(values, "webhook-provider-write-timeout"),
        )
        or 10.0,
    )


def _zones_configmap(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    namespace, _, name = value.partition("/")
    if not namespace or not name:
        raise UsageError(f"--zones-configmap: expected NAMESPACE/NAME, found {value!r}")
    return namespace, name


def run_settings(values: Mapping[str, Any], selected: tuple[Flag, ...] = FLAGS) -> Settings:
    """Check every flag of ``kumo dns run`` and build its settings (raises UsageError)."""
    from kumo.dns.controller import ControllerConfig
    from kumo.dns.filters import LabelFilter
    from kumo.dns.health import parse_address
    from kumo.dns.plan import Policy
    from kumo.dns.runner import RunOptions
    from kumo.dns.sources import SOURCES, SourceConfig
    from kumo.dns.txtcrypt import parse_aes_key

    notices = check(values, selected)
    sources = _strings(values, "source") or ["service"]
    prov = provider_options(values)
    txt_prefix, txt_suffix = str(_get(values, "txt-prefix")), str(_get(values, "txt-suffix"))
    registry = str(_get(values, "registry"))
    owner = str(_get(values, "txt-owner-id"))
    if txt_prefix and txt_suffix:
        raise UsageError("--txt-prefix and --txt-suffix are mutually exclusive")
    if registry == "txt" and not owner:
        raise UsageError("--txt-owner-id: must not be empty with --registry=txt")
    aes_text = str(_get(values, "txt-encrypt-aes-key"))
    aes_key = parse_aes_key(aes_text) if aes_text else b""
    encrypt = bool(_get(values, "txt-encrypt-enabled"))
    if encrypt and not aes_key:
        raise UsageError("--txt-encrypt-enabled: needs --txt-encrypt-aes-key (32 bytes, or their base64)")
    from kumo.dns.sources.fqdn import TemplateError, parse_fqdn_template

    try:
        fqdn_template = parse_fqdn_template(str(_get(values, "fqdn-template")))
    except TemplateError as exc:
        raise UsageError(str(exc)) from None
    combine_fqdn = bool(_get(values, "combine-fqdn-annotation"))
    if combine_fqdn and fqdn_template is None:
        raise UsageError("--combine-fqdn-annotation: needs --fqdn-template")
    prefix = str(_get(values, "annotation-prefix"))
    if not prefix.endswith("/"):
        raise UsageError(f"--annotation-prefix: must end with '/', found {prefix!r}")
    selectors = {}
    for name in ("label-filter", "annotation-filter", "gateway-label-filter"):
        try:
            selectors[name] = LabelFilter.parse(str(_get(values, name)))
        except ValueError as exc:
            raise UsageError(f"--{name}: {exc}") from None
    service_types = _strings(values, "service-type-filter")
    for stype in service_types:
        if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
            raise UsageError(
                "--service-type-filter: expected ClusterIP, NodePort, LoadBalancer or ExternalName,"
                f" found {stype!r}"
            )
    managed = [t.upper() for t in _strings(values, "managed-record-types")]
    excluded = {t.upper() for t in _strings(values, "exclude-record-types")}
    from kumo.dns.flags import RECORD_TYPES

    for flag_name, types in (("--managed-record-types", managed), ("--exclude-record-types", excluded)):
        for rtype in types:
            if rtype not in RECORD_TYPES:
                raise UsageError(
                    f"{flag_name}: expected record types such as A, AAAA, CNAME, found {rtype!r}"
                )
    metrics = str(_get(values, "metrics-address"))
    if metrics:
        parse_address(metrics)
    durations = {
        name: _duration(values, name)
        for name in (
            "interval",
            "lease-duration",
            "delete-grace-period",
            "resync-period",
            "min-event-sync-interval",
            "health-failure-threshold",
            "min-ttl",
        )
    }
    if durations["interval"] <= 0:
        raise UsageError("--interval: must be greater than 0")
    if durations["lease-duration"] < 1:
        raise UsageError("--lease-duration: must be at least 1s")
    config = ControllerConfig(
        owner_id=owner,
        policy=Policy(str(_get(values, "policy"))),
        registry=registry,
        txt_prefix=txt_prefix,
        txt_suffix=txt_suffix,
        txt_wildcard_replacement=str(_get(values, "txt-wildcard-replacement")),
        txt_encrypt_enabled=encrypt,
        txt_encrypt_aes_key=aes_key,
        txt_owner_old=str(_get(values, "migrate-from-txt-owner")),
        source=SourceConfig(
            annotation_prefix=prefix,
            domain_filter=prov.domain_filter,
            label_filter=selectors["label-filter"],
            annotation_filter=selectors["annotation-filter"],
            namespace=str(_get(values, "namespace")) or None,
            publish_internal_services=bool(_get(values, "publish-internal-services")),
            ignore_hostname_annotation=bool(_get(values, "ignore-hostname-annotation")),
            ignore_ingress_tls_spec=bool(_get(values, "ignore-ingress-tls-spec")),
            ignore_ingress_rules_spec=bool(_get(values, "ignore-ingress-rules-spec")),
            ingress_classes=tuple(_strings(values, "ingress-class")),
            service_types=tuple(service_types),
            min_ttl=int(durations["min-ttl"]),
            gateway_name=str(_get(values, "gateway-name")),
            gateway_namespace=str(_get(values, "gateway-namespace")),
            gateway_label_filter=selectors["gateway-label-filter"],
            fqdn_template=fqdn_template,
            combine_fqdn_annotation=combine_fqdn,
            publish_host_ip=bool(_get(values, "publish-host-ip")),
            always_publish_not_ready_addresses=bool(_get(values, "always-publish-not-ready-addresses")),
            expose_internal_ipv6=bool(_get(values, "expose-internal-ipv6")),
        ),
        domain_filter=prov.domain_filter,
        managed_types=frozenset(managed) - excluded,
        dry_run=bool(_get(values, "dry-run")),
        delete_grace_period=durations["delete-grace-period"],
        health_threshold=durations["health-failure-threshold"],
        retry_cap=max(durations["interval"], 1.0),
    )
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:  # the flags table and the sources table disagree: a bug, but say it plainly
        raise UsageError(f"--source: {', '.join(unknown)} is not implemented")
    run = RunOptions(
        sources=sources,
        config=config,
        kubeconfig=str(_get(values, "kubeconfig")) or None,
        context=str(_get(values, "context")) or None,
        interval=durations["interval"],
        resync_period=durations["resync-period"],
        min_event_interval=durations["min-event-sync-interval"],
        once=bool(_get(values, "once")),
        leader_elect=bool(_get(values, "leader-elect")),
        lease_name=str(_get(values, "leader-election-id")) or f"kumo-dns-{owner}",
        lease_namespace=str(_get(values, "leader-election-namespace"))
        or os.environ.get("POD_NAMESPACE")
        or "default",
        lease_duration=max(1, round(durations["lease-duration"])),
        metrics_address=metrics or None,
        zones_configmap=_zones_configmap(str(_get(values, "zones-configmap"))),
        # only the leader serves the local provider's zone: it labels its Pod for the Service in front
        serving_pod=(os.environ.get("POD_NAME") or None) if prov.name == "local" else None,
    )
    return Settings(prov, run, notices, str(_get(values, "log-level")), str(_get(values, "log-format")))
