"""Encrypted TXT ownership values (--txt-encrypt-enabled): external-dns's AES-GCM format both ways."""

from __future__ import annotations

import base64
import gzip

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kumo.dns.controller import Controller, ControllerConfig
from kumo.dns.providers.inmemory import InMemoryProvider
from kumo.dns.registry import TXTRegistry
from kumo.dns.settings import run_settings
from kumo.dns.txtcrypt import decrypt_text, encrypt_text, parse_aes_key
from kumo.errors import UsageError

from .objects import lb_service

# external-dns's own test vector (endpoint/labels_test.go): written by its Go code with this key
GO_KEY = b")K_Fy|?Z.64#UuHm`}[d!GC%WJM_fs{_"
GO_VALUE = (
    "+lvP8q9KHJ6BS6O81i2Q6DLNdf2JSKy8j/gbZKviTZlGYj7q+yDoYMgkQ1hPn6urtGllM5bfFMcaaHto"
    "52otQtiOYrX8990J3kQqg4s47G27hzNNpXlckPuVVSGSLOQ25dQ9IBuqjbc="
)
GO_PLAIN = "heritage=external-dns,external-dns/owner=foo-owner,external-dns/resource=foo-resource"
KEY = b"0123456789abcdef0123456789abcdef"
NONCE = bytes(range(12))


def test_reads_a_value_written_by_external_dns() -> None:
    plain, nonce = decrypt_text(GO_VALUE, GO_KEY) or ("", "")
    assert plain == GO_PLAIN
    assert base64.b64decode(nonce) == base64.b64decode(GO_VALUE)[:12]
    labels = TXTRegistry("foo-owner", aes_key=GO_KEY).labels_of(f'"{GO_VALUE}"')
    assert labels is not None
    assert labels["owner"] == "foo-owner"
    assert labels["resource"] == "foo-resource"
    assert decrypt_text(GO_VALUE, KEY) is None  # another key: not ours, no error


def test_fixed_key_and_nonce_vector_follows_external_dns_algorithm() -> None:
    # external-dns: base64(nonce || AES-GCM-Seal(key, nonce, gzip(best compression)(text), nil))
    value = encrypt_text(GO_PLAIN, KEY, NONCE)
    raw = base64.b64decode(value)
    assert raw[:12] == NONCE
    opened = AESGCM(KEY).decrypt(NONCE, raw[12:], None)
    assert opened[:3] == b"\x1f\x8b\x08" and opened[9] == 0xFF  # gzip, OS byte as Go writes it
    assert gzip.decompress(opened) == GO_PLAIN.encode()
    # the same nonce gives the same value: kumo does not rewrite an unchanged record
    assert encrypt_text(GO_PLAIN, KEY, NONCE) == value
    assert decrypt_text(value, KEY) == (GO_PLAIN, base64.b64encode(NONCE).decode())
    # and external-dns's re-encryption of its own value with its nonce decrypts the same
    go_nonce = base64.b64decode(GO_VALUE)[:12]
    assert decrypt_text(encrypt_text(GO_PLAIN, GO_KEY, go_nonce), GO_KEY) == decrypt_text(GO_VALUE, GO_KEY)


def test_key_forms_and_errors() -> None:
    assert parse_aes_key(KEY.decode()) == KEY
    assert parse_aes_key(base64.b64encode(KEY).decode()) == KEY
    with pytest.raises(UsageError, match="32 bytes"):
        parse_aes_key("short")
    with pytest.raises(UsageError, match="--txt-encrypt-aes-key"):
        run_settings({"provider": "inmemory", "txt_encrypt_enabled": True})
    settings = run_settings(
        {"provider": "inmemory", "txt_encrypt_enabled": True, "txt_encrypt_aes_key": KEY.decode()}
    )
    assert settings.run.config.txt_encrypt_enabled
    assert settings.run.config.txt_encrypt_aes_key == KEY


def txts(p: InMemoryProvider) -> dict[str, str]:
    return {k.dns_name: e.targets[0] for k, e in p.store.items() if k.record_type == "TXT"}


async def test_round_trip_through_the_txt_registry() -> None:
    p = InMemoryProvider(zones=["ex.com"])
    cfg = ControllerConfig(owner_id="kumo", txt_encrypt_enabled=True, txt_encrypt_aes_key=KEY)
    writer = Controller(p, cfg)
    writer.on_object("Service", "ADDED", lb_service("web", "web.ex.com", "10.0.0.1"))
    await writer.reconcile()
    value = txts(p)["a-web.ex.com"]
    assert "heritage" not in value  # encrypted
    assert decrypt_text(value, KEY) == (
        "heritage=external-dns,external-dns/owner=kumo,external-dns/resource=service/default/web",
        decrypt_text(value, KEY)[1],  # type: ignore[index]
    )
    # a controller with the same key (a restart) adopts the records with no write at all
    again = Controller(p, cfg)
    await again.resync()
    again.on_object("Service", "ADDED", lb_service("web", "web.ex.com", "10.0.0.1"))
    calls = p.calls
    await again.reconcile()
    assert p.calls == calls
    # a change keeps the nonce: the TXT value stays the same bytes
    again.on_object("Service", "MODIFIED", lb_service("web", "web.ex.com", "10.0.0.2"))
    await again.reconcile()
    assert txts(p)["a-web.ex.com"] == value
    # without the key the records are not kumo's: a sync leaves them alone
    blind = Controller(p, ControllerConfig(owner_id="kumo"))
    await blind.resync()
    await blind.reconcile()
    assert "web.ex.com" in {k.dns_name for k in p.store if k.record_type == "A"}
    # with the key, the Service's deletion removes both records
    again.on_object("Service", "DELETED", lb_service("web", "web.ex.com", "10.0.0.2"))
    await again.reconcile()
    assert not p.store or all(k.dns_name not in ("web.ex.com", "a-web.ex.com") for k in p.store)
