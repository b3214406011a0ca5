"""RFC 2136 against a real BIND9: TSIG updates, AXFR reads, adoption, isolation of a bad group."""

from __future__ import annotations

import pytest

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.endpoint import Endpoint
from kumo.dns.plan import Changes
from kumo.dns.providers.rfc2136 import RFC2136Provider
from kumo.dns.registry import ownership_txt_content
from kumo.errors import ProviderError
from tests.integration.dns.conftest import Bind, dig, lb_service

pytestmark = pytest.mark.integration

A = "external-dns.alpha.kubernetes.io/"


def provider(b: Bind, secret: str | None = None) -> RFC2136Provider:
    return RFC2136Provider("127.0.0.1", b.port, [b.zone], b.key_name, secret or b.secret)


def service(name: str, host: str, ip: str) -> dict[str, object]:
    return lb_service(name, host, {"ip": ip}, prefix="external-dns.alpha.kubernetes.io/")


async def test_controller_writes_records_and_txt_that_dig_sees(bind9: Bind) -> None:
    p = provider(bind9)
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    ctrl.on_object("Service", "ADDED", service("web", f"www.{bind9.zone}", "10.1.2.3"))
    ctrl.on_object("Service", "ADDED", service("api", f"api.{bind9.zone}", "10.1.2.4"))
    result = await ctrl.reconcile()
    assert not result.failed
    assert dig(bind9.port, f"www.{bind9.zone}") == ["10.1.2.3"]
    assert dig(bind9.port, f"a-www.{bind9.zone}", "TXT", tcp=True) == [
        ownership_txt_content("kumo", "service/default/web")
    ]
    # the AXFR read-back plans nothing: no churn
    ctrl2 = Controller(provider(bind9), ControllerConfig(owner_id="kumo"))
    ctrl2.on_object("Service", "ADDED", service("web", f"www.{bind9.zone}", "10.1.2.3"))
    ctrl2.on_object("Service", "ADDED", service("api", f"api.{bind9.zone}", "10.1.2.4"))
    calls = ctrl2.provider.calls
    await ctrl2.reconcile()
    assert ctrl2.provider.calls - calls == 1  # the AXFR only
    # update and delete
    ctrl.on_object("Service", "MODIFIED", service("web", f"www.{bind9.zone}", "10.9.9.9"))
    ctrl.on_object("Service", "DELETED", service("api", f"api.{bind9.zone}", "10.1.2.4"))
    assert not (await ctrl.reconcile()).failed
    assert dig(bind9.port, f"www.{bind9.zone}") == ["10.9.9.9"]
    assert dig(bind9.port, f"api.{bind9.zone}") == []
    assert dig(bind9.port, f"a-api.{bind9.zone}", "TXT") == []


async def test_bad_group_is_isolated(bind9: Bind) -> None:
    p = provider(bind9)
    good = [Endpoint(f"g{i}.{bind9.zone}", (f"10.0.0.{i}",), "A") for i in range(5)]
    bad = Endpoint(f"bad.{bind9.zone}", ("not-an-ip",), "A")
    result = await p.apply_changes(Changes(create=[*good, bad]))
    assert list(result.failed) == [f"bad.{bind9.zone}"]
    names = {e.dns_name for e in await p.records()}
    assert {e.dns_name for e in good} <= names


async def test_wrong_tsig_secret_is_a_clear_error(bind9: Bind) -> None:
    p = provider(bind9, secret="d3Jvbmcgc2VjcmV0IGZvciB0aGUga2V5IQ==")
    with pytest.raises(ProviderError, match="zone transfer"):
        await p.records()
    result = await p.apply_changes(Changes(create=[Endpoint(f"x.{bind9.zone}", ("10.0.0.1",), "A")]))
    assert result.failed


async def test_min_ttl_and_unsigned_transfer(bind9: Bind) -> None:
    """--rfc2136-min-ttl raises a low TTL (and the read-back plans nothing); without --rfc2136-tsig-axfr
    the zone transfer is unsigned, which this BIND refuses, as it would refuse external-dns."""
    p = RFC2136Provider("127.0.0.1", bind9.port, [bind9.zone], bind9.key_name, bind9.secret, min_ttl=600)
    ctrl = Controller(p, ControllerConfig(owner_id="kumo"))
    web = service("web", f"www.{bind9.zone}", "10.1.2.3")
    web["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/ttl"] = "60"  # type: ignore[index]
    ctrl.on_object("Service", "ADDED", web)
    assert not (await ctrl.reconcile()).failed
    ttl = [
        e.record_ttl for e in await p.records() if e.dns_name == f"www.{bind9.zone}" and e.record_type == "A"
    ]
    assert ttl == [600]
    again = Controller(p, ControllerConfig(owner_id="kumo"))
    again.on_object("Service", "ADDED", web)
    await again.resync()
    calls = p.calls
    await again.reconcile()
    assert p.calls == calls
    unsigned = RFC2136Provider(
        "127.0.0.1", bind9.port, [bind9.zone], bind9.key_name, bind9.secret, tsig_axfr=False
    )
    with pytest.raises(ProviderError, match="zone transfer"):
        await unsigned.records()


async def test_encrypted_txt_round_trip_through_bind(bind9: Bind) -> None:
    """--txt-encrypt-enabled: the TXT in the zone is external-dns's AES-GCM value; a restart with the
    same key adopts it with no write, a key-less instance does not take it, a deletion removes it."""
    from kumo.dns.txtcrypt import decrypt_text

    key = b"0123456789abcdef0123456789abcdef"
    cfg = ControllerConfig(owner_id="kumo", txt_encrypt_enabled=True, txt_encrypt_aes_key=key)
    ctrl = Controller(provider(bind9), cfg)
    ctrl.on_object("Service", "ADDED", service("enc", f"enc.{bind9.zone}", "10.7.7.7"))
    assert not (await ctrl.reconcile()).failed
    (value,) = dig(bind9.port, f"a-enc.{bind9.zone}", "TXT", tcp=True)
    assert "heritage" not in value
    plain = decrypt_text(value, key)
    assert plain is not None
    assert (
        plain[0] == "heritage=external-dns,external-dns/owner=kumo,external-dns/resource=service/default/enc"
    )
    again = Controller(provider(bind9), cfg)
    again.on_object("Service", "ADDED", service("enc", f"enc.{bind9.zone}", "10.7.7.7"))
    calls = again.provider.calls
    await again.reconcile()
    assert again.provider.calls - calls == 1  # the AXFR only: the decrypted TXT owns the record
    blind = Controller(provider(bind9), ControllerConfig(owner_id="kumo"))
    blind.on_object("Service", "ADDED", service("enc", f"enc.{bind9.zone}", "10.8.8.8"))
    await blind.reconcile()
    assert dig(bind9.port, f"enc.{bind9.zone}") == ["10.7.7.7"]  # not its record without the key
    again.on_object("Service", "DELETED", service("enc", f"enc.{bind9.zone}", "10.7.7.7"))
    assert not (await again.reconcile()).failed
    assert dig(bind9.port, f"enc.{bind9.zone}") == []
    assert dig(bind9.port, f"a-enc.{bind9.zone}", "TXT", tcp=True) == []


async def test_node_port_srv_records_through_bind(bind9: Bind) -> None:
    """A NodePort Service's A and SRV records (managed when --managed-record-types has SRV): the SRV
    target is written as an absolute name, and reading the zone back plans nothing."""
    from kumo.dns.endpoint import MANAGED_TYPES

    zone = bind9.zone
    node = {
        "metadata": {"name": "n1"},
        "status": {"addresses": [{"type": "ExternalIP", "address": "203.0.113.5"}]},
    }
    svc = {
        "metadata": {"name": "np", "namespace": "default", "annotations": {A + "hostname": f"np.{zone}"}},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]},
    }
    config = ControllerConfig(owner_id="kumo", managed_types=MANAGED_TYPES | {"SRV"})
    ctrl = Controller(provider(bind9), config)
    ctrl.on_object("Node", "ADDED", node)
    ctrl.on_object("Service", "ADDED", svc)
    assert not (await ctrl.reconcile()).failed
    assert dig(bind9.port, f"np.{zone}") == ["203.0.113.5"]
    assert dig(bind9.port, f"_np._tcp.np.{zone}", "SRV") == [f"0 50 30080 np.{zone}."]
    assert dig(bind9.port, f"srv-_np._tcp.np.{zone}", "TXT", tcp=True) == [
        ownership_txt_content("kumo", "service/default/np")
    ]
    again = Controller(provider(bind9), config)
    again.on_object("Node", "ADDED", node)
    again.on_object("Service", "ADDED", svc)
    calls = again.provider.calls
    await again.reconcile()
    assert again.provider.calls - calls == 1  # the AXFR only: no churn
