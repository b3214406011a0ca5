"""``kumo dns`` flag handling: bad flags are clear errors with exit code 2, never a traceback."""

from __future__ import annotations

import sys

import pytest

from kumo.cli.app import main
from kumo.dns.settings import parse_duration
from kumo.errors import UsageError


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["kumo", "dns", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--provider=nope"], "--provider: expected one of akamai"),
        (["run", "--provider=google"], "--provider=google: external-dns accepts it, kumo does not implement"),
        (["run", "--provider=inmemory", "--source=pods"], "--source: expected one of service, ingress"),
        (["run", "--provider=inmemory", "--source=node"], "--source=node: external-dns accepts it"),
        (["run", "--provider=inmemory", "--registry=dynamodb"], "--registry=dynamodb"),
        (
            ["run", "--provider=inmemory", "--nat64-networks=64:ff9b::/96"],
            "--nat64-networks: kumo does not",
        ),
        (
            ["run", "--provider=inmemory", "--fqdn-template={{range .Spec.Ports}}x{{end}}.ex.com"],
            "--fqdn-template: {{range .Spec.Ports}}: range is not supported",
        ),
        (["run", "--provider=inmemory", "--log-level=loud"], "--log-level: expected one of trace"),
        (["run", "--provider=inmemory", "--managed-record-types=PTR"], "--managed-record-types"),
        (["run", "--provider=inmemory", "--aws-profile=a", "--aws-profile=b"], "--aws-profile"),
        (["run", "--provider=inmemory", "--regex-domain-filter=("], "--regex-domain-filter"),
        (["run", "--provider=inmemory", "--service-type-filter=Headless"], "--service-type-filter"),
        (["run", "--provider=inmemory", "--policy=sometimes"], "--policy"),
        (["run", "--provider=inmemory", "--registry=dynamo"], "--registry"),
        (["run", "--provider=inmemory", "--interval=soon"], "--interval: expected a duration"),
        (["run", "--provider=inmemory", "--interval=0s"], "--interval: must be greater than 0"),
        (["run", "--provider=inmemory", "--txt-prefix=a", "--txt-suffix=b"], "mutually exclusive"),
        (["run", "--provider=inmemory", "--annotation-prefix=foo"], "must end with '/'"),
        (["run", "--provider=inmemory", "--metrics-address=7979"], "--metrics-address"),
        (["run", "--provider=inmemory", "--label-filter==x"], "--label-filter"),
        (["run", "--provider=route53", "--aws-zone-type=shared"], "--aws-zone-type"),
        (["run", "--provider=rfc2136", "--rfc2136-tsig-keyname=k"], "--rfc2136-tsig-secret"),
        (["run", "--provider=local"], "--local-zone"),
        (["run", "--provider=inmemory", "--no-such-flag"], "No such option"),
        (["run"], "--provider"),
    ],
)
def test_bad_flags_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, text = run(monkeypatch, capsys, *args)
    assert code == 2
    assert needle in text
    assert "Traceback" not in text


def test_help_has_example(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "webhook-serve"):
        code, text = run(monkeypatch, capsys, command, "--help")
        assert code == 0 and "Example: kumo dns" in text


@pytest.mark.parametrize(
    ("text", "seconds"), [("1m", 60), ("90s", 90), ("1h30m", 5400), ("200ms", 0.2), ("15", 15)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration("--x", text) == pytest.approx(seconds)


def test_parse_duration_rejects() -> None:
    for bad in ("", "soon", "-5", "1d"):
        with pytest.raises(UsageError):
            parse_duration("--x", bad)
