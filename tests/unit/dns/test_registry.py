from __future__ import annotations

import pytest

from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Changes
from kumo.dns.registry import (
    NameMapper,
    TXTRegistry,
    legacy_txt_record_name,
    ownership_txt_content,
    parse_labels,
    txt_record_name,
)


@pytest.mark.parametrize(
    ("name", "rtype", "prefix", "suffix", "expected"),
    [
        ("www.example.com", "A", "", "", "a-www.example.com"),
        ("www.example.com", "CNAME", "", "", "cname-www.example.com"),
        ("www.example.com", "AAAA", "", "", "aaaa-www.example.com"),
        ("www.example.com", "A", "txt.", "", "txt.a-www.example.com"),
        ("www.example.com", "A", "", "-txt", "a-www-txt.example.com"),
        ("www.example.com", "CNAME", "%{record_type}-owner.", "", "cname-owner.www.example.com"),
        ("www.example.com", "AAAA", "", ".%{record_type}", "www.aaaa.example.com"),
        ("example", "A", "", "", "a-example"),
        ("WWW.Example.COM.", "A", "", "", "a-www.example.com"),
    ],
)
def test_txt_record_name(name: str, rtype: str, prefix: str, suffix: str, expected: str) -> None:
    assert txt_record_name(name, rtype, prefix, suffix) == expected


def test_legacy_name_has_no_type() -> None:
    assert legacy_txt_record_name("www.example.com") == "www.example.com"
    assert legacy_txt_record_name("www.example.com", "txt.") == "txt.www.example.com"
    assert legacy_txt_record_name("www.example.com", "", "-x") == "www-x.example.com"


def test_wildcard_replacement() -> None:
    assert txt_record_name("*.example.com", "A", wildcard_replacement="any") == "a-any.example.com"


def test_content_is_external_dns_format() -> None:
    assert ownership_txt_content("kumo", "service/default/web") == (
        '"heritage=external-dns,external-dns/owner=kumo,external-dns/resource=service/default/web"'
    )
    assert ownership_txt_content("o") == '"heritage=external-dns,external-dns/owner=o"'


def test_parse_labels() -> None:
    assert parse_labels('"heritage=external-dns,external-dns/owner=a,external-dns/resource=ingress/x/y"') == {
        "owner": "a",
        "resource": "ingress/x/y",
    }
    assert parse_labels('"v=spf1 -all"') is None
    assert parse_labels('"heritage=someone-else,external-dns/owner=a"') is None


@pytest.mark.parametrize(
    ("prefix", "suffix", "txt", "expected"),
    [
        ("", "", "a-www.example.com", ("www.example.com", "A")),
        ("", "", "cname-www.example.com", ("www.example.com", "CNAME")),
        ("", "", "www.example.com", ("www.example.com", "")),
        ("txt.", "", "txt.aaaa-www.example.com", ("www.example.com", "AAAA")),
        ("txt.", "", "txt.www.example.com", ("www.example.com", "")),
        ("txt.", "", "www.example.com", ("", "")),
        ("", "-s", "a-www-s.example.com", ("www.example.com", "A")),
        ("%{record_type}-p.", "", "cname-p.www.example.com", ("www.example.com", "CNAME")),
    ],
)
def test_endpoint_name_round_trip(prefix: str, suffix: str, txt: str, expected: tuple[str, str]) -> None:
    assert NameMapper(prefix, suffix).endpoint_name(txt) == expected


def _txt(name: str, owner: str, resource: str = "service/default/web") -> Endpoint:
    return Endpoint(name, (ownership_txt_content(owner, resource),), "TXT", 300)


def _lookup(records: list[Endpoint]):  # type: ignore[no-untyped-def]
    def lookup(name: str) -> list[Endpoint]:
        return [r for r in records if r.dns_name == name]

    return lookup


def test_view_reads_new_legacy_and_alias_cname_forms() -> None:
    reg = TXTRegistry("me")
    alias_ps = {"alias": "true", "aws/evaluate-target-health": "true"}
    records = [
        Endpoint("new.ex.com", ("1.2.3.4",), "A"),
        _txt("a-new.ex.com", "me"),
        Endpoint("old.ex.com", ("1.2.3.4",), "A"),
        _txt("old.ex.com", "me"),
        Endpoint("al.ex.com", ("x.elb.amazonaws.com",), "A", provider_specific=alias_ps),
        Endpoint("al.ex.com", ("x.elb.amazonaws.com",), "AAAA", provider_specific=alias_ps),
        _txt("cname-al.ex.com", "me"),
        _txt("aaaa-al.ex.com", "me"),
        Endpoint("aaaalegacy.ex.com", ("::1",), "AAAA"),
        _txt("aaaalegacy.ex.com", "me"),
    ]
    look = _lookup(records)
    assert reg.view("new.ex.com", look).records[0].owner == "me"
    assert reg.view("old.ex.com", look).records[0].owner == "me"
    al = {e.record_type: e.owner for e in reg.view("al.ex.com", look).records}
    assert al == {"A": "me", "AAAA": "me"}
    # external-dns never reads a legacy TXT for AAAA records
    assert reg.view("aaaalegacy.ex.com", look).records[0].owner == ""


def test_with_txt_adds_new_form_and_deletes_all_owning_forms() -> None:
    reg = TXTRegistry("me")
    rec = Endpoint("www.ex.com", ("1.1.1.1",), "A", labels={"resource": "service/a/b", "owner": "me"})
    records = [rec, _txt("a-www.ex.com", "me"), _txt("www.ex.com", "me")]
    view = reg.view("www.ex.com", _lookup(records))
    out, dropped = reg.with_txt(Changes(delete=[view.records[0]]), {"www.ex.com": view})
    assert not dropped
    assert sorted(e.dns_name for e in out.delete if e.record_type == "TXT") == ["a-www.ex.com", "www.ex.com"]
    created, _ = reg.with_txt(
        Changes(create=[Endpoint("n.ex.com", ("1.1.1.1",), "A", labels={"resource": "r"})]), {}
    )
    txt = next(e for e in created.create if e.record_type == "TXT")
    assert txt.dns_name == "a-n.ex.com"
    assert txt.targets == ('"heritage=external-dns,external-dns/owner=me,external-dns/resource=r"',)


def test_legacy_txt_kept_while_another_type_relies_on_it() -> None:
    reg = TXTRegistry("me")
    records = [
        Endpoint("x.ex.com", ("1.1.1.1",), "A"),
        Endpoint("x.ex.com", ("foo.other.net",), "MX"),
        _txt("x.ex.com", "me"),
    ]
    view = reg.view("x.ex.com", _lookup(records))
    a = next(e for e in view.records if e.record_type == "A")
    out, _ = reg.with_txt(Changes(delete=[a]), {"x.ex.com": view})
    assert [e.dns_name for e in out.delete if e.record_type == "TXT"] == []


def test_create_dropped_when_foreign_txt_claims_name() -> None:
    reg = TXTRegistry("me")
    records = [_txt("a-x.ex.com", "them")]
    view = reg.view("x.ex.com", _lookup(records))
    out, dropped = reg.with_txt(Changes(create=[Endpoint("x.ex.com", ("1.1.1.1",), "A")]), {"x.ex.com": view})
    assert [str(d) for d in dropped] == ["x.ex.com A -> 1.1.1.1"]
    assert not out.create


def test_record_and_its_txt_share_one_change_group() -> None:
    from kumo.dns.providers.base import group_changes

    reg = TXTRegistry("me")
    rec = Endpoint("www.ex.com", ("lb.example.net",), "CNAME")
    records = [rec, _txt("cname-www.ex.com", "me"), _txt("www.ex.com", "me")]
    view = reg.view("www.ex.com", _lookup(records))
    out, _ = reg.with_txt(Changes(delete=[view.records[0]]), {"www.ex.com": view})
    assert list(group_changes(out)) == ["www.ex.com"]
    new = Endpoint("www.ex.com", ("other.example.net",), "CNAME", labels={"resource": "service/a/c"})
    out, _ = reg.with_txt(Changes(update_old=[view.records[0]], update_new=[new]), {"www.ex.com": view})
    assert list(group_changes(out)) == ["www.ex.com"]
