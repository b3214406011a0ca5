"""external-dns's flags, parsed by the real command line (and EXTERNAL_DNS_* variables), reach the
controller, runner and provider settings; accepted-but-ignored flags are logged once."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import typer

from kumo.cli.dns_cmds import dns_app
from kumo.dns import logfmt
from kumo.dns.flags import BY_NAME, FLAGS, Kind, Status, check
from kumo.dns.settings import Settings, run_settings


def parse(*args: str) -> dict[str, Any]:
    command = typer.main.get_command(dns_app).commands["run"]  # type: ignore[attr-defined]
    ctx = command.make_context("run", list(args))
    return dict(ctx.params)


def settings(*args: str) -> Settings:
    return run_settings(parse(*args))


def test_flags_reach_the_settings() -> None:
    s = settings(
        "--provider=aws", "--source=service", "--source=gateway-grpcroute", "--events",
        "--exclude-record-types=AAAA", "--managed-record-types=A", "--managed-record-types=AAAA",
        "--managed-record-types=CNAME", "--managed-record-types=TXT", "--min-ttl=1.5m",
        "--interval=90000ms", "--min-event-sync-interval=5s", "--annotation-filter=team=x",
        "--ingress-class=nginx", "--service-type-filter=LoadBalancer", "--ignore-ingress-rules-spec",
        "--gateway-name=public", "--gateway-namespace=infra", "--aws-zone-match-parent",
        "--aws-batch-change-size=10", "--aws-batch-change-size-bytes=2000",
        "--aws-batch-change-size-values=20", "--aws-api-retries=1", "--no-aws-evaluate-target-health",
        "--aws-prefer-cname", "--aws-zone-tags=team=shop",
        "--regex-domain-filter=ex\\.com$", "--txt-owner-id=me", "--txt-suffix=-%{record_type}",
        "--webhook-provider-read-timeout=2s", "--webhook-provider-write-timeout=3s", "--dry-run", "--once",
        "--publish-host-ip", "--always-publish-not-ready-addresses", "--expose-internal-ipv6",
    )  # fmt: skip
    config, prov = s.run.config, s.provider
    assert config.source.publish_host_ip and config.source.always_publish_not_ready_addresses
    assert config.source.expose_internal_ipv6
    assert s.run.sources == ["service", "gateway-grpcroute"]
    assert config.managed_types == frozenset({"A", "CNAME", "TXT"})
    assert config.source.min_ttl == 90 and s.run.interval == 90 and s.run.min_event_interval == 5
    assert config.source.annotation_filter.match({"team": "x"}) and config.source.ingress_classes == (
        "nginx",
    )
    assert config.source.service_types == ("LoadBalancer",) and config.source.ignore_ingress_rules_spec
    assert (config.source.gateway_name, config.source.gateway_namespace) == ("public", "infra")
    assert prov.name == "route53" and prov.aws_zone_match_parent and prov.aws_zone_tags == ["team=shop"]
    sizes = (prov.aws_batch_change_size, prov.aws_batch_change_size_bytes, prov.aws_batch_change_size_values)
    assert sizes == (10, 2000, 20)
    assert prov.aws_api_retries == 1 and not prov.aws_evaluate_target_health and prov.aws_prefer_cname
    assert prov.domain_filter.match("a.ex.com") and not prov.domain_filter.match("a.ex.org")
    assert (
        config.owner_id == "me" and config.txt_suffix == "-%{record_type}" and config.dry_run and s.run.once
    )
    assert prov.webhook_timeout == 3


def test_rfc2136_flags() -> None:
    s = settings(
        "--provider=rfc2136", "--rfc2136-host=10.0.0.2", "--rfc2136-host=10.0.0.3", "--rfc2136-zone=a.test",
        "--rfc2136-zone=b.test", "--rfc2136-tsig-keyname=k", "--rfc2136-tsig-secret=c2VjcmV0",
        "--rfc2136-tsig-axfr", "--rfc2136-min-ttl=5m", "--rfc2136-batch-change-size=7",
    )  # fmt: skip
    p = s.provider
    assert (p.rfc2136_host, p.rfc2136_port, p.rfc2136_zones) == ("10.0.0.2", 53, ["a.test", "b.test"])
    assert p.rfc2136_tsig_axfr and p.rfc2136_min_ttl == 300 and p.rfc2136_batch_change_size == 7
    assert p.rfc2136_tsig_secret_alg == "hmac-sha256"
    insecure = settings("--provider=rfc2136", "--rfc2136-insecure", "--rfc2136-tsig-keyname=k")
    assert insecure.provider.rfc2136_tsig_keyname == ""


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTERNAL_DNS_PROVIDER", "inmemory")
    monkeypatch.setenv("EXTERNAL_DNS_TXT_OWNER_ID", "from-env")
    monkeypatch.setenv("EXTERNAL_DNS_DOMAIN_FILTER", "a.test b.test")
    monkeypatch.setenv("EXTERNAL_DNS_ONCE", "true")
    monkeypatch.setenv("EXTERNAL_DNS_INTERVAL", "2m")
    s = settings()
    assert s.provider.name == "inmemory" and s.run.config.owner_id == "from-env" and s.run.once
    assert s.provider.domain_filter.filters == ("a.test", "b.test") and s.run.interval == 120
    assert settings("--txt-owner-id=flag").run.config.owner_id == "flag"  # a flag wins over the variable


def test_accepted_flags_are_logged_once_and_rejected_ones_named(caplog: pytest.LogCaptureFixture) -> None:
    s = settings(
        "--provider=inmemory", "--request-timeout=10s", "--google-project=p", "--txt-cache-interval=1h"
    )
    assert [n.flag for n in s.notices] == ["request-timeout", "google-project", "txt-cache-interval"]
    from kumo.dns.flags import log_notices

    with caplog.at_level(logging.INFO, logger="kumo.dns.flags"):
        log_notices(s.notices)
    assert len(caplog.records) == 3 and "no effect in kumo" in caplog.records[0].getMessage()
    for flag in FLAGS:
        if flag.status is Status.REJECTED:
            value: Any = True if flag.kind is Kind.BOOL else (["x"] if flag.kind is Kind.STRINGS else "mate")
            with pytest.raises(Exception, match=f"--{flag.name}"):
                check({flag.dest: value})


def test_every_flag_has_its_environment_variable() -> None:
    command = typer.main.get_command(dns_app).commands["run"]  # type: ignore[attr-defined]
    envvars = {p.name: p.envvar for p in command.params}
    for flag in FLAGS:
        if not flag.kumo_only:
            assert flag.envvar in (envvars[flag.dest] or []), flag.name
    assert BY_NAME["rfc2136-tsig-secret"].envvar == "EXTERNAL_DNS_RFC2136_TSIG_SECRET"


def test_logrus_formats(capsys: pytest.CaptureFixture[str]) -> None:
    logfmt.configure("trace", "json")
    logging.getLogger("kumo.test").log(logfmt.TRACE, "hello %s", "world")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["level"] == "trace" and line["msg"] == "hello world" and line["time"].endswith("Z")
    logfmt.configure("warning", "text")
    logging.getLogger("kumo.test").info("hidden")
    logging.getLogger("kumo.test").warning("a b")
    err = capsys.readouterr().err.strip()
    assert err.startswith('time="') and err.endswith('level=warning msg="a b"') and "hidden" not in err
    logging.getLogger().handlers.clear()
