"""The controller's parts alone: desired index, record cache, retry schedule, and the two registries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Changes
from kumo.dns.registry import NameMapper, NoopRegistry, TXTRegistry, ownership_txt_content
from kumo.dns.state import DesiredIndex, RecordCache, RetrySchedule


def ep(name: str, target: str = "192.0.2.1", rtype: str = "A") -> Endpoint:
    return Endpoint(name, (target,), rtype, labels={"resource": "service/d/w"})


def test_desired_index_reports_only_changed_names() -> None:
    index = DesiredIndex()
    key = ("Service", "d", "w")
    assert index.set(key, [ep("a.ex.com"), ep("b.ex.com")]) == {"a.ex.com", "b.ex.com"}
    assert index.set(key, [ep("a.ex.com"), ep("b.ex.com")]) == set()  # the same endpoints: nothing to do
    assert index.set(key, [ep("a.ex.com", "192.0.2.9")]) == {"a.ex.com", "b.ex.com"}
    assert [e.targets for e in index.at("a.ex.com")] == [("192.0.2.9",)] and index.at("b.ex.com") == []
    assert index.count == 1 and list(index.owners("a.ex.com")) == [key]
    assert index.set(key, []) == {"a.ex.com"} and not index.by_name and index.count == 0


def test_record_cache_counts_non_txt_records() -> None:
    cache = RecordCache()
    cache.replace([ep("a.ex.com"), ep("a-a.ex.com", '"heritage=external-dns"', "TXT")])
    assert cache.loaded and cache.count == 1 and cache.size() == 2
    cache.store(ep("b.ex.com"))
    cache.store(ep("b.ex.com", "192.0.2.2"))  # a replacement, not a second record
    assert cache.count == 2 and [e.targets for e in cache.lookup("b.ex.com")] == [("192.0.2.2",)]
    assert all(not e.labels for e in cache.lookup("b.ex.com"))  # labels are the registry's, not cached
    cache.forget(ep("a.ex.com"))
    assert cache.count == 1 and list(cache.lookup("a.ex.com")) == []


def test_retry_schedule_backs_off_and_forgets_on_success() -> None:
    retries = RetrySchedule(base=1, cap=5)
    for attempt, delay in enumerate((1, 2, 4, 5, 5)):
        retries.fail("a.ex.com", f"try {attempt}", now=100)
        assert retries.due_at["a.ex.com"] == 100 + delay
    assert retries.due(104) == set() and retries.due(105) == {"a.ex.com"}
    retries.take({"a.ex.com"})
    assert not retries and retries.failures == {"a.ex.com": "try 4"}
    retries.succeeded("a.ex.com")
    assert not retries.failures and not retries.attempts


def test_noop_and_txt_registries_behind_one_protocol() -> None:
    noop = NoopRegistry(frozenset({"A"}))
    txt_record = ep("a-www.ex.com", ownership_txt_content("kumo", "service/d/w"), "TXT")
    assert noop.owner == "" and noop.claimed_name(ep("www.ex.com")) == "www.ex.com"
    assert noop.claimed_name(txt_record) is None
    changes = Changes(create=[ep("www.ex.com")])
    assert noop.with_txt(changes, {}) == (changes, [])
    txt = TXTRegistry("kumo", NameMapper())
    assert txt.owner == "kumo" and txt.claimed_name(txt_record) == "www.ex.com"
    assert txt.claimed_name(ep("a-www.ex.com", ownership_txt_content("other", "x/y/z"), "TXT")) is None
    with_txt, dropped = txt.with_txt(changes, {})
    assert [e.dns_name for e in with_txt.create] == ["www.ex.com", "a-www.ex.com"] and not dropped


def test_record_cache_hands_out_copies_and_shares_provider_specific_properties() -> None:
    cache = RecordCache()
    alias = {"alias": "true", "aws/evaluate-target-health": "true"}
    cache.replace(
        Endpoint(f"w{i}.ex.com", (f"lb-{i}.elb.amazonaws.com",), "A", provider_specific=dict(alias))
        for i in range(3)
    )
    got = cache.lookup("w0.ex.com")[0]
    got.targets, got.provider_specific["alias"] = ("changed",), "false"
    again = cache.lookup("w0.ex.com")[0]
    assert again.targets == ("lb-0.elb.amazonaws.com",) and again.provider_specific == alias
    rows = [row for name in cache.names() for row in cache._rows[name]]
    assert len({id(row[4]) for row in rows}) == 1  # one tuple of properties for every ALIAS row
    assert sorted(e.dns_name for e in cache.endpoints()) == ["w0.ex.com", "w1.ex.com", "w2.ex.com"]


def test_record_cache_keeps_its_rows_when_a_paged_read_fails() -> None:
    async def pages(fail: bool) -> AsyncIterator[list[Endpoint]]:
        yield [ep("new.ex.com")]
        if fail:
            raise ConnectionError("page 2")
        yield [ep("more.ex.com")]

    cache = RecordCache()
    cache.replace([ep("old.ex.com")])
    with pytest.raises(ConnectionError):
        asyncio.run(cache.replace_pages(pages(fail=True)))
    assert list(cache.names()) == ["old.ex.com"] and cache.count == 1
    asyncio.run(cache.replace_pages(pages(fail=False)))
    assert sorted(cache.names()) == ["more.ex.com", "new.ex.com"] and cache.count == 2
