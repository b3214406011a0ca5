from __future__ import annotations

from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Policy, plan


def ep(
    name: str, target: str, rtype: str = "A", owner: str = "", resource: str = "service/d/a", ttl: int = 0
) -> Endpoint:
    labels = {"resource": resource}
    if owner:
        labels["owner"] = owner
    return Endpoint(name, (target,), rtype, ttl, labels=labels)


def test_create_update_delete_sync() -> None:
    current = [ep("a.ex.com", "1.1.1.1", owner="me"), ep("gone.ex.com", "1.1.1.1", owner="me")]
    desired = [ep("a.ex.com", "2.2.2.2"), ep("new.ex.com", "3.3.3.3")]
    ch = plan(current, desired, Policy.sync, "me")
    assert [str(e) for e in ch.create] == ["new.ex.com A -> 3.3.3.3"]
    assert [str(e) for e in ch.update_new] == ["a.ex.com A -> 2.2.2.2"]
    assert ch.update_new[0].owner == "me"
    assert [str(e) for e in ch.delete] == ["gone.ex.com A -> 1.1.1.1"]


def test_policies() -> None:
    current = [ep("a.ex.com", "1.1.1.1", owner="me"), ep("gone.ex.com", "1.1.1.1", owner="me")]
    desired = [ep("a.ex.com", "2.2.2.2"), ep("new.ex.com", "3.3.3.3")]
    up = plan(current, desired, Policy.upsert_only, "me")
    assert len(up.create) == 1 and len(up.update_new) == 1 and not up.delete
    co = plan(current, desired, "create-only", "me")
    assert len(co.create) == 1 and not co.update_new and not co.delete


def test_unowned_and_foreign_never_touched() -> None:
    current = [ep("u.ex.com", "1.1.1.1"), ep("f.ex.com", "1.1.1.1", owner="them")]
    desired = [ep("u.ex.com", "9.9.9.9"), ep("f.ex.com", "9.9.9.9")]
    assert not plan(current, desired, Policy.sync, "me")
    assert not plan(current, [], Policy.sync, "me")


def test_new_type_beside_foreign_record_is_not_created() -> None:
    current = [ep("x.ex.com", "1.1.1.1", owner="them")]
    desired = [ep("x.ex.com", "::1", "AAAA")]
    assert not plan(current, desired, Policy.sync, "me").create
    current_owned = [ep("x.ex.com", "1.1.1.1", owner="me")]
    assert len(plan(current_owned, [*desired, ep("x.ex.com", "1.1.1.1")], Policy.sync, "me").create) == 1


def test_ttl_only_compared_when_configured() -> None:
    current = [ep("a.ex.com", "1.1.1.1", owner="me", ttl=300)]
    assert not plan(current, [ep("a.ex.com", "1.1.1.1")], Policy.sync, "me")
    assert plan(current, [ep("a.ex.com", "1.1.1.1", ttl=60)], Policy.sync, "me").update_new


def test_a_wins_over_cname_and_conflicts_resolve_by_resource() -> None:
    desired = [ep("a.ex.com", "lb.example.net", "CNAME"), ep("a.ex.com", "1.1.1.1")]
    ch = plan([], desired, Policy.sync, "me")
    assert [e.record_type for e in ch.create] == ["A"]
    d2 = [
        ep("b.ex.com", "2.2.2.2", resource="service/z/z"),
        ep("b.ex.com", "1.1.1.1", resource="service/a/a"),
    ]
    assert plan([], d2, Policy.sync, "me").create[0].targets == ("1.1.1.1",)
    cur = [ep("b.ex.com", "2.2.2.2", owner="me", resource="service/z/z")]
    assert not plan(cur, d2, Policy.sync, "me")  # the current owner resource keeps it


def test_type_change_cname_to_a() -> None:
    current = [ep("a.ex.com", "lb.example.net", "CNAME", owner="me")]
    ch = plan(current, [ep("a.ex.com", "1.1.1.1")], Policy.sync, "me")
    assert [e.record_type for e in ch.delete] == ["CNAME"]
    assert [e.record_type for e in ch.create] == ["A"]


def test_target_comparison_ignores_case_dots_and_dualstack() -> None:
    current = [ep("a.ex.com", "dualstack.LB-1.us-east-1.elb.amazonaws.com.", owner="me")]
    assert not plan(current, [ep("a.ex.com", "lb-1.us-east-1.elb.amazonaws.com")], Policy.sync, "me")


def test_noop_registry_owner_empty_manages_everything() -> None:
    current = [ep("a.ex.com", "1.1.1.1")]
    assert plan(current, [ep("a.ex.com", "2.2.2.2")], Policy.sync, "").update_new
