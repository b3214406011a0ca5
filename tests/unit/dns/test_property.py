"""Property: after a sync, foreign and unowned records are byte-identical and owned records are exactly
the desired ones (random zones and random Services)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import Endpoint, EndpointKey
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.registry import legacy_txt_record_name, ownership_txt_content, txt_record_name

from .objects import lb_service

OWNER = "kumo"
NAMES = [f"h{i}.ex.com" for i in range(8)]
IPS4 = [f"10.0.0.{i}" for i in range(1, 6)]
IPS6 = [f"2001:db8::{i}" for i in range(1, 4)]

existing = st.sampled_from(["none", "owned", "owned-legacy", "foreign", "unowned"])
service_st = st.tuples(st.sampled_from(NAMES), st.sampled_from(IPS4 + IPS6))


def seed_zone(p: InMemoryProvider, states: list[str], stray: list[str]) -> None:
    for name, state in zip(NAMES, states, strict=True):
        if state == "none":
            continue
        p.store[EndpointKey(name, "A")] = Endpoint(name, ("192.0.2.1",), "A", 300)
        if state == "owned":
            t = txt_record_name(name, "A")
            p.store[EndpointKey(t, "TXT")] = Endpoint(
                t, (ownership_txt_content(OWNER, "service/x/old"),), "TXT", 300
            )
        elif state == "owned-legacy":
            t = legacy_txt_record_name(name)
            p.store[EndpointKey(t, "TXT")] = Endpoint(
                t, (ownership_txt_content(OWNER, "service/x/old"),), "TXT", 300
            )
        elif state == "foreign":
            t = txt_record_name(name, "A")
            p.store[EndpointKey(t, "TXT")] = Endpoint(
                t, (ownership_txt_content("them", "service/y/z"),), "TXT", 300
            )
    for name in stray:  # records of other owners and plain TXT records elsewhere in the zone
        p.store[EndpointKey(name, "TXT")] = Endpoint(name, ('"v=spf1 -all"',), "TXT", 300)


def svc(i: int, host: str, ip: str) -> dict[str, Any]:
    return lb_service(f"s{i}", host, ip)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    states=st.lists(existing, min_size=len(NAMES), max_size=len(NAMES)),
    services=st.lists(service_st, max_size=12),
    stray=st.lists(st.sampled_from(["spf.ex.com", "ex.com", "mail.ex.com"]), unique=True, max_size=3),
)
def test_sync_keeps_others_and_makes_owned_exactly_desired(
    states: list[str], services: list[tuple[str, str]], stray: list[str]
) -> None:
    p = InMemoryProvider(zones=["ex.com"])
    seed_zone(p, states, stray)
    before = copy.deepcopy(p.store)
    ctrl = Controller(p, ControllerConfig(owner_id=OWNER))
    for i, (host, ip) in enumerate(services):
        ctrl.on_object("Service", "ADDED", svc(i, host, ip))
    asyncio.run(ctrl.reconcile())

    blocked = {n for n, s in zip(NAMES, states, strict=True) if s in ("foreign", "unowned")}
    # 1. foreign and unowned records (and stray TXT) are byte-identical
    for key, ep in before.items():
        name = key.dns_name
        if name in blocked or key.dns_name in stray or (name.startswith("a-") and name[2:] in blocked):
            assert p.store.get(key) == ep, key
    # 2. owned records are exactly the desired ones
    # Services at one name are one record set with every Service's address (external-dns's merge)
    desired: dict[tuple[str, str], set[str]] = {}
    for host, ip in services:
        desired.setdefault((host, "AAAA" if ":" in ip else "A"), set()).add(ip)
    for name in NAMES:
        if name in blocked:
            continue
        # records at the name (a legacy ownership TXT may stay there: it is read, never rewritten)
        got = {
            k.record_type: e.targets
            for k, e in p.store.items()
            if k.dns_name == name and k.record_type != "TXT"
        }
        want = {rtype: tuple(sorted(ips)) for (host, rtype), ips in desired.items() if host == name}
        assert got == want, (name, got, want)
        for rtype in want:
            txt = p.store[EndpointKey(txt_record_name(name, rtype), "TXT")]
            assert f"external-dns/owner={OWNER}" in txt.targets[0]
        if not want:
            assert EndpointKey(txt_record_name(name, "A"), "TXT") not in p.store
    # 3. a second sync is a no-op
    calls = p.calls
    for i, (host, ip) in enumerate(services):
        ctrl.on_object("Service", "RESYNC", svc(i, host, ip))
    asyncio.run(ctrl.reconcile())
    assert p.calls == calls
