"""Encrypted TXT ownership values, in external-dns's format (``endpoint/crypto.go``, ``labels.go``).

A value is ``base64(nonce || AES-256-GCM(key, nonce, gzip(labels)))`` with a 12-byte nonce and no
additional data, so kumo and external-dns read each other's records. The nonce of a record that was
read is kept (label ``txt-encryption-nonce``, base64) and reused when the record is written again, as
external-dns does, so an unchanged owner does not produce a new value on every sync.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kumo.errors import UsageError

NONCE_LABEL = "txt-encryption-nonce"
NONCE_SIZE = 12  # Go's cipher.NewGCM default
KEY_SIZE = 32


def parse_aes_key(text: str) -> bytes:
    """The key of ``--txt-encrypt-aes-key``: 32 bytes as typed, or their standard base64 (44 chars)."""
    raw = text.encode()
    if len(raw) == KEY_SIZE:
        return raw
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != KEY_SIZE:
        raise UsageError(
            "--txt-encrypt-aes-key: the AES key must be 32 bytes long, as plain text or base64-encoded"
            f" (found {len(raw)} characters)"
        )
    return decoded


def _gzip(data: bytes) -> bytes:
    out = bytearray(gzip.compress(data, compresslevel=9, mtime=0))
    out[9] = 0xFF  # OS "unknown", as Go's compress/gzip writes it; readers ignore the byte
    return bytes(out)


def encrypt_text(text: str, key: bytes, nonce: bytes | None = None) -> str:
    """Encrypt one serialized label string (no quotes). ``nonce``: 12 raw bytes, random if None."""
    if nonce is None:
        nonce = os.urandom(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    sealed = AESGCM(key).encrypt(nonce, _gzip(text.encode()), None)
    return base64.b64encode(nonce + sealed).decode()


def decrypt_text(text: str, key: bytes) -> tuple[str, str] | None:
    """``(plain text, base64 nonce)``, or None when ``text`` is not a value encrypted with ``key``."""
    try:
        data = base64.b64decode(text.strip().strip('"'), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) <= NONCE_SIZE:
        return None
    nonce, sealed = data[:NONCE_SIZE], data[NONCE_SIZE:]
    try:
        plain = gzip.decompress(AESGCM(key).decrypt(nonce, sealed, None))
    except (InvalidTag, OSError, EOFError, ValueError):
        return None
    try:
        return plain.decode(), base64.b64encode(nonce).decode()
    except UnicodeDecodeError:
        return None


def nonce_bytes(label: str) -> bytes | None:
    """The raw nonce of a ``txt-encryption-nonce`` label, or None when it is not a valid one."""
    try:
        raw = base64.b64decode(label, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == NONCE_SIZE else None


__all__ = ["KEY_SIZE", "NONCE_LABEL", "decrypt_text", "encrypt_text", "nonce_bytes", "parse_aes_key"]
