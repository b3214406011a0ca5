"""--migrate-from-txt-owner: another owner id's records become ours and their TXT says so."""

from __future__ import annotations

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.registry import parse_labels
from kumo.dns.settings import run_settings

from .objects import lb_service


def owners(p: InMemoryProvider) -> dict[str, str]:
    return {
        k.dns_name: (parse_labels(e.targets[0]) or {}).get("owner", "")
        for k, e in p.store.items()
        if k.record_type == "TXT"
    }


async def test_records_of_the_old_owner_are_taken_over() -> None:
    p = InMemoryProvider(zones=["ex.com"])
    old = Controller(p, ControllerConfig(owner_id="old-cluster"))
    for name in ("web", "api"):
        old.on_object("Service", "ADDED", lb_service(name, f"{name}.ex.com", "10.0.0.1"))
    await old.reconcile()
    assert owners(p) == {"a-web.ex.com": "old-cluster", "a-api.ex.com": "old-cluster"}

    # without the flag, another owner id leaves them alone (and cannot create over them)
    other = Controller(p, ControllerConfig(owner_id="new-cluster"))
    await other.resync()
    other.on_object("Service", "ADDED", lb_service("web", "web.ex.com", "10.0.0.9"))
    await other.reconcile()
    assert owners(p)["a-web.ex.com"] == "old-cluster"
    assert {k.dns_name: e.targets for k, e in p.store.items() if k.record_type == "A"}["web.ex.com"] == (
        "10.0.0.1",
    )

    # with it: unchanged records keep their value and only their TXT is rewritten; changed ones
    # are updated; ones no object wants any more are deleted, TXT included
    cfg = ControllerConfig(owner_id="new-cluster", txt_owner_old="old-cluster")
    new = Controller(p, cfg)
    new.on_object("Service", "ADDED", lb_service("web", "web.ex.com", "10.0.0.1"))
    await new.resync()
    await new.reconcile()
    assert owners(p) == {"a-web.ex.com": "new-cluster"}
    a_records = {k.dns_name: e.targets for k, e in p.store.items() if k.record_type == "A"}
    assert a_records == {"web.ex.com": ("10.0.0.1",)}
    # steady state: nothing more to write
    calls = p.calls
    await new.resync()
    await new.reconcile()
    assert p.calls == calls + 1  # the re-read only


def test_flag_reaches_the_registry() -> None:
    settings = run_settings({"provider": "inmemory", "migrate_from_txt_owner": "old-cluster"})
    assert settings.run.config.txt_owner_old == "old-cluster"
    ctrl = Controller(InMemoryProvider(zones=["ex.com"]), settings.run.config)
    assert getattr(ctrl.registry, "old_owner_id", "") == "old-cluster"
