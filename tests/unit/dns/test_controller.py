"""The controller core with the in-memory provider: incremental work, steady state, grace period, health."""

from __future__ import annotations

from typing import Any

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Changes
from kumo.dns.providers.base import ApplyResult
from kumo.dns.providers.chaos import FlakyProvider
from kumo.dns.providers.inmemory import InMemoryProvider

H = "external-dns.alpha.kubernetes.io/hostname"


def svc(name: str, host: str, ip: str | None, **ann: str) -> dict[str, Any]:
    annotations = {H: host, **{f"external-dns.alpha.kubernetes.io/{k}": v for k, v in ann.items()}}
    return {
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}] if ip else []}},
    }


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Recording(InMemoryProvider):
    """The in-memory provider, remembering which names each apply touched."""

    def __init__(self) -> None:
        super().__init__(zones=["ex.com"])
        self.applied: list[set[str]] = []

    async def apply_changes(self, changes: Changes) -> ApplyResult:
        self.applied.append(
            {
                e.labels.get("ownedRecord") or e.dns_name
                for e in [*changes.create, *changes.delete, *changes.update_new]
            }
        )
        return await super().apply_changes(changes)


def a_records(p: InMemoryProvider) -> dict[str, tuple[str, ...]]:
    return {k.dns_name: e.targets for k, e in p.store.items() if k.record_type == "A"}


async def test_incremental_and_steady_state_makes_no_calls() -> None:
    p = Recording()
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    for i in range(50):
        ctrl.on_object("Service", "ADDED", svc(f"s{i}", f"h{i}.ex.com", f"10.0.0.{i}"))
    await ctrl.reconcile()
    assert len(a_records(p)) == 50
    calls = p.calls
    # the same objects again (informer resync): nothing is dirty, nothing is called
    for i in range(50):
        ctrl.on_object("Service", "RESYNC", svc(f"s{i}", f"h{i}.ex.com", f"10.0.0.{i}"))
    assert not ctrl.dirty
    for _ in range(10):
        await ctrl.reconcile()
    assert p.calls == calls
    # one change touches one name
    ctrl.on_object("Service", "MODIFIED", svc("s7", "h7.ex.com", "10.9.9.9"))
    assert ctrl.dirty == {"h7.ex.com"}
    await ctrl.reconcile()
    assert p.applied[-1] == {"h7.ex.com"}
    assert a_records(p)["h7.ex.com"] == ("10.9.9.9",)
    assert p.calls == calls + 1  # the cache was updated from kumo's own change: no re-read


async def test_hostname_move_updates_both_names() -> None:
    p = Recording()
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    ctrl.on_object("Service", "ADDED", svc("s", "old.ex.com", "10.0.0.1"))
    await ctrl.reconcile()
    ctrl.on_object("Service", "MODIFIED", svc("s", "new.ex.com", "10.0.0.1"))
    assert ctrl.dirty == {"old.ex.com", "new.ex.com"}
    await ctrl.reconcile()
    assert a_records(p) == {"new.ex.com": ("10.0.0.1",)}
    assert {k.dns_name for k in p.store} == {"new.ex.com", "a-new.ex.com"}


async def test_delete_grace_period_keeps_then_removes() -> None:
    clock = Clock()
    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo", delete_grace_period=120), clock=clock)
    ctrl.on_object("Service", "ADDED", svc("web", "www.ex.com", "10.0.0.1"))
    await ctrl.reconcile()
    # the load balancer status goes briefly empty: the record stays
    ctrl.on_object("Service", "MODIFIED", svc("web", "www.ex.com", None))
    await ctrl.reconcile()
    assert a_records(p) == {"www.ex.com": ("10.0.0.1",)}
    # and comes back within the grace period: nothing was ever deleted
    clock.t += 60
    ctrl.on_object("Service", "MODIFIED", svc("web", "www.ex.com", "10.0.0.1"))
    await ctrl.reconcile()
    assert a_records(p) == {"www.ex.com": ("10.0.0.1",)} and not ctrl.grace
    # empty again, and this time for longer than the grace period: then it goes
    ctrl.on_object("Service", "MODIFIED", svc("web", "www.ex.com", None))
    clock.t += 119
    await ctrl.reconcile()
    assert "www.ex.com" in a_records(p)
    assert ctrl.next_wakeup() == clock.t + 1
    clock.t += 2
    assert ctrl.has_work()
    await ctrl.reconcile()
    assert a_records(p) == {}
    # a deleted Service is removed at once, grace or not
    ctrl.on_object("Service", "ADDED", svc("api", "api.ex.com", "10.0.0.2"))
    await ctrl.reconcile()
    ctrl.on_object("Service", "DELETED", svc("api", "api.ex.com", "10.0.0.2"))
    await ctrl.reconcile()
    assert a_records(p) == {}


async def test_bad_annotations_become_events_and_others_go_on() -> None:
    events: list[tuple[str, str, str, str]] = []

    async def sink(obj: dict[str, Any], reason: str, message: str, type_: str) -> None:
        events.append((obj["metadata"]["name"], reason, message, type_))

    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"), events=sink)
    ctrl.on_object("Service", "ADDED", svc("bad", "ok1.ex.com,not a name", "10.0.0.1", ttl="often"))
    ctrl.on_object("Service", "ADDED", {"metadata": {"name": "broken", "namespace": "d", "annotations": "x"}})
    ctrl.on_object("Service", "ADDED", svc("good", "ok2.ex.com", "10.0.0.2"))
    await ctrl.reconcile()
    assert a_records(p) == {"ok1.ex.com": ("10.0.0.1",), "ok2.ex.com": ("10.0.0.2",)}
    import asyncio

    await asyncio.sleep(0)
    by_name = {e[0]: e for e in events}
    assert by_name["bad"][1:2] == ("InvalidDNSAnnotation",) and by_name["bad"][3] == "Warning"
    assert "'not a name'" in by_name["bad"][2] and "ttl" in by_name["bad"][2]
    # the same problem again is not reported again
    ctrl.on_object("Service", "RESYNC", svc("bad", "ok1.ex.com,not a name", "10.0.0.1", ttl="often"))
    await asyncio.sleep(0)
    assert len([e for e in events if e[0] == "bad"]) == 1


async def test_failed_group_is_retried_and_health_reflects_it() -> None:
    clock = Clock()
    inner = InMemoryProvider(zones=["ex.com"])
    flaky = FlakyProvider(inner, error_rate=1.0, seed=1)
    ctrl = Controller(
        flaky, ControllerConfig(owner_id="kumo", health_threshold=30, retry_base=1), clock=clock
    )
    inner.store.clear()
    ctrl.provider_loaded = True  # the provider was read before it broke
    ctrl.on_object("Service", "ADDED", svc("web", "www.ex.com", "10.0.0.1"))
    await ctrl.reconcile()
    assert "www.ex.com" in ctrl.failures and ctrl.healthy()[0]
    clock.t += 31
    assert not ctrl.healthy()[0]
    flaky.error_rate = 0.0
    await ctrl.reconcile()
    assert not ctrl.failures and ctrl.healthy()[0]
    assert a_records(inner) == {"www.ex.com": ("10.0.0.1",)}


async def test_dry_run_writes_nothing() -> None:
    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo", dry_run=True))
    ctrl.on_object("Service", "ADDED", svc("web", "www.ex.com", "10.0.0.1"))
    await ctrl.reconcile()
    assert not p.store
    assert next(str(e) for e in ctrl.planned[0].create) == "www.ex.com A -> 10.0.0.1"


async def test_resync_repairs_drift() -> None:
    p = InMemoryProvider(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    ctrl.on_object("Service", "ADDED", svc("web", "www.ex.com", "10.0.0.1"))
    await ctrl.reconcile()
    key = next(k for k in p.store if k.record_type == "A")
    p.store[key] = Endpoint("www.ex.com", ("6.6.6.6",), "A")  # someone edits the zone by hand
    await ctrl.reconcile()
    assert a_records(p)["www.ex.com"] == ("6.6.6.6",)  # not noticed without a resync: no provider calls
    await ctrl.resync()
    await ctrl.reconcile()
    assert a_records(p)["www.ex.com"] == ("10.0.0.1",)


async def test_wildcard_record_deleted_while_no_controller_ran_is_found_again() -> None:
    """--txt-wildcard-replacement: the TXT name maps back to '*', so a restart finds the orphan."""
    p = InMemoryProvider(zones=["ex.com"])
    config = ControllerConfig(owner_id="kumo", txt_wildcard_replacement="wild")
    first = Controller(p, config)
    first.on_object("Service", "ADDED", svc("w", "*.ex.com", "10.0.0.9"))
    await first.reconcile()
    assert a_records(p) == {"*.ex.com": ("10.0.0.9",)}
    assert any(k.dns_name == "a-wild.ex.com" for k in p.store)
    # the Service is deleted while no controller runs; a new one starts and reads the zone
    restarted = Controller(p, config)
    await restarted.resync()
    await restarted.reconcile()
    assert a_records(p) == {}
    assert not [k for k in p.store if k.record_type == "TXT"]
    # and a second start with the object present changes nothing (ownership is still recognised)
    again = Controller(p, config)
    again.on_object("Service", "ADDED", svc("w", "*.ex.com", "10.0.0.9"))
    await again.reconcile()
    third = Controller(p, config)
    third.on_object("Service", "ADDED", svc("w", "*.ex.com", "10.0.0.9"))
    await third.resync()
    calls = p.calls
    await third.reconcile()
    assert p.calls == calls and a_records(p) == {"*.ex.com": ("10.0.0.9",)}


async def test_aaaa_alias_is_left_alone_when_aaaa_is_not_managed() -> None:
    """--exclude-record-types=AAAA: the Route 53 CNAME->ALIAS adjustment yields only the A record."""
    from kumo.dns.providers.route53 import Route53Provider

    class Adjusting(InMemoryProvider):
        def adjust_endpoints(self, endpoints: list[Endpoint]) -> list[Endpoint]:
            return Route53Provider(rate_limit=0, region="us-east-1").adjust_endpoints(endpoints)

    p = Adjusting(zones=["ex.com"])
    ctrl = Controller(p, ControllerConfig(owner_id="kumo", managed_types=frozenset({"A", "CNAME"})))
    web = svc("w", "www.ex.com", None)
    web["status"]["loadBalancer"]["ingress"] = [{"hostname": "lb-1.us-east-1.elb.amazonaws.com"}]
    ctrl.on_object("Service", "ADDED", web)
    await ctrl.reconcile()
    types = sorted(k.record_type for k in p.store if k.dns_name == "www.ex.com")
    assert types == ["A"]
