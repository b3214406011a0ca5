"""One controller for every release: the zones and owner ids come from the releases' ConfigMap,
each name's records carry its zone's owner id, and a new zone is served without a restart."""

from __future__ import annotations

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import OWNER_LABEL
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.registry import parse_labels
from kumo.dns.zoneconfig import entry_key, entry_value, parse_configmap

from .test_controller import svc


def owners(p: InMemoryProvider) -> dict[str, str]:
    found = {}
    for key, ep in p.store.items():
        if key.record_type == "TXT":
            labels = parse_labels(ep.targets[0]) or {}
            found[key.dns_name] = labels.get(OWNER_LABEL, "")
    return found


def configmap(*entries: tuple[str, str, str]) -> dict[str, object]:
    return {
        "metadata": {"name": "kumo-dns-zones"},
        "data": {entry_key("ns", release): entry_value(zone, owner) for release, zone, owner in entries},
    }


async def test_each_zone_gets_its_own_owner_and_a_new_zone_needs_no_restart() -> None:
    provider = InMemoryProvider(zones=["a.test", "b.test"])
    ctrl = Controller(provider, ControllerConfig(owner_id="unused"))
    ctrl.set_zones(parse_configmap(configmap(("shop", "a.test", "shop-owner"))))
    ctrl.on_object("Service", "ADDED", svc("web", "www.a.test", "10.0.0.1"))
    ctrl.on_object("Service", "ADDED", svc("api", "api.b.test", "10.0.0.2"))
    await ctrl.reconcile()
    assert owners(provider) == {"a-www.a.test": "shop-owner"}  # b.test is nobody's zone yet

    # Another release registers its zone: picked up as it is, the first one's names untouched.
    ctrl.set_zones(
        parse_configmap(configmap(("shop", "a.test", "shop-owner"), ("blog", "b.test", "blog-owner")))
    )
    await ctrl.reconcile()
    assert owners(provider) == {"a-www.a.test": "shop-owner", "a-api.b.test": "blog-owner"}
    records = {k.dns_name for k in provider.store if k.record_type == "A"}
    assert records == {"www.a.test", "api.b.test"}


def test_conflicting_claims_keep_the_first_and_bad_entries_are_skipped() -> None:
    zones = parse_configmap(
        {
            "data": {
                "a.one": entry_value("x.test", "first"),
                "b.two": entry_value("x.test", "second"),
                "c.bad": "not json",
                "d.sub": entry_value("deep.x.test", "deeper"),
            }
        }
    )
    assert zones.zones == {"x.test": "first", "deep.x.test": "deeper"}
    assert zones.owner_of("www.deep.x.test") == "deeper"  # the most specific zone wins
    assert zones.owner_of("www.x.test") == "first"
    assert zones.owner_of("www.y.test") is None
