"""TXT ownership registry, compatible with external-dns v0.14 - v0.22.

Pure helpers (names, contents) come first: ``kumo plan`` imports them to show the records it expects.

- Content: ``"heritage=external-dns,external-dns/owner=<id>,external-dns/resource=<kind>/<ns>/<name>"``
  with the quotes stored and the keys after ``heritage`` sorted.
- Name (new, typed form): the record type goes before the first label (``a-www.example.com``), unless
  ``%{record_type}`` appears in the prefix or suffix, which then takes it. The legacy form (no type) is
  read too, never written.
- ALIAS A records once used a ``cname-`` TXT; both are read, ``a-`` is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from kumo.dns.endpoint import (
    OWNED_RECORD_LABEL,
    OWNER_LABEL,
    RECORD_A,
    RECORD_AAAA,
    RECORD_CNAME,
    RECORD_TXT,
    RESOURCE_LABEL,
    SUPPORTED_TYPES,
    Endpoint,
    EndpointKey,
    normalize_name,
)
from kumo.dns.plan import Changes
from kumo.dns.txtcrypt import NONCE_LABEL, decrypt_text, encrypt_text, nonce_bytes

HERITAGE = "external-dns"
LABEL_PREFIX = "external-dns/"
RECORD_TYPE_TEMPLATE = "%{record_type}"
# external-dns routing-policy properties that must travel with a TXT whose record has a set identifier,
# or Route 53 rejects the TXT (a set identifier needs a routing policy).
_ROUTING_PROPERTIES = (
    "aws/weight",
    "aws/region",
    "aws/failover",
    "aws/geolocation-continent-code",
    "aws/geolocation-country-code",
    "aws/geolocation-subdivision-code",
    "aws/multi-value-answer",
)


# ---------------------------------------------------------------------------------------------- names


def _apply_template(affix: str, record_type: str) -> str:
    return affix.replace(RECORD_TYPE_TEMPLATE, record_type.lower())


def txt_record_name(
    name: str, record_type: str, prefix: str = "", suffix: str = "", wildcard_replacement: str = ""
) -> str:
    """The TXT ownership record's name for a record (external-dns ``toNewTXTName``)."""
    labels = normalize_name(name).split(".", 1)
    rtype = record_type.lower()
    pre = _apply_template(prefix, rtype)
    suf = _apply_template(suffix, rtype)
    first = labels[0]
    if wildcard_replacement and first == "*":
        first = wildcard_replacement
    if RECORD_TYPE_TEMPLATE not in prefix and RECORD_TYPE_TEMPLATE not in suffix:
        first = f"{rtype}-{first}"
    if len(labels) < 2:
        return f"{pre}{first}{suf}"
    return f"{pre}{first}{suf}.{labels[1]}"


def legacy_txt_record_name(
    name: str, prefix: str = "", suffix: str = "", wildcard_replacement: str = ""
) -> str:
    """The pre-v0.12 ownership name, without a type (external-dns ``toTXTName``). Read, never written."""
    labels = normalize_name(name).split(".", 1)
    pre = prefix.replace(RECORD_TYPE_TEMPLATE, "")
    suf = suffix.replace(RECORD_TYPE_TEMPLATE, "")
    first = labels[0]
    if wildcard_replacement and first == "*":
        first = wildcard_replacement
    if len(labels) < 2:
        return f"{pre}{first}{suf}"
    return f"{pre}{first}{suf}.{labels[1]}"


def ownership_txt_content(owner: str, resource: str = "", extra: dict[str, str] | None = None) -> str:
    """The TXT value external-dns writes, quotes included."""
    labels = dict(extra or {})
    labels[OWNER_LABEL] = owner
    if resource:
        labels[RESOURCE_LABEL] = resource
    return serialize_labels(labels)


def serialize_labels(labels: dict[str, str]) -> str:
    parts = [f"heritage={HERITAGE}"]
    for key in sorted(labels):
        if key in (OWNED_RECORD_LABEL, NONCE_LABEL):
            continue
        parts.append(f"{LABEL_PREFIX}{key}={labels[key]}")
    return '"' + ",".join(parts) + '"'


def parse_labels(text: str) -> dict[str, str] | None:
    """Labels from an ownership TXT value, or None when it is not one (no ``heritage=external-dns``)."""
    raw = text.strip()
    # A TXT read from DNS may come as several quoted strings; external-dns trims the outer quotes only.
    raw = raw.strip('"')
    labels: dict[str, str] = {}
    heritage = False
    for token in raw.split(","):
        if "=" not in token:
            continue
        key, value = token.split("=", 1)
        if key == "heritage":
            if value != HERITAGE:
                return None
            heritage = True
            continue
        if key.startswith(LABEL_PREFIX):
            labels[key[len(LABEL_PREFIX) :]] = value
    return labels if heritage else None


@dataclass(frozen=True)
class NameMapper:
    """external-dns's affixNameMapper: TXT names to and from record names."""

    prefix: str = ""
    suffix: str = ""
    wildcard_replacement: str = ""

    def txt_name(self, name: str, record_type: str) -> str:
        return txt_record_name(name, record_type, self.prefix, self.suffix, self.wildcard_replacement)

    def legacy_name(self, name: str) -> str:
        return legacy_txt_record_name(name, self.prefix, self.suffix, self.wildcard_replacement)

    @property
    def _type_in_affix(self) -> bool:
        return RECORD_TYPE_TEMPLATE in self.prefix or RECORD_TYPE_TEMPLATE in self.suffix

    def endpoint_name(self, txt_name: str) -> tuple[str, str]:
        """(record name, record type or "") for a TXT name; ("", "") when it does not match the affixes.

        The wildcard replacement maps back to ``*``: without that, a wildcard record whose object was
        deleted while no controller ran would never be found again from its TXT record (an orphan).
        """
        name, rtype = self._endpoint_name(txt_name)
        replacement = self.wildcard_replacement.lower()
        if name and replacement and name.split(".", 1)[0] == replacement:
            name = "*" + name[len(replacement) :]
        return name, rtype

    def _endpoint_name(self, txt_name: str) -> tuple[str, str]:
        lower = normalize_name(txt_name)
        if not self.suffix:
            return self._drop_affix(lower)
        dots = self.suffix.count(".")
        parts = lower.split(".", 1 + dots)
        if len(parts) < 2 + dots:
            return "", ""
        with_suffix = ".".join(parts[: 1 + dots])
        name, rtype = self._drop_affix(with_suffix)
        if not name:
            return "", ""
        return f"{name}.{parts[1 + dots]}", rtype

    def _drop_affix(self, name: str) -> tuple[str, str]:
        prefix, suffix = self.prefix.lower(), self.suffix.lower()
        if self._type_in_affix:
            for rtype in SUPPORTED_TYPES:
                ipre = prefix.replace(RECORD_TYPE_TEMPLATE, rtype.lower())
                isuf = suffix.replace(RECORD_TYPE_TEMPLATE, rtype.lower())
                if not suffix and name.startswith(ipre):
                    return name[len(ipre) :], rtype
                if suffix and name.endswith(isuf):
                    return name[: len(name) - len(isuf)], rtype
            prefix = prefix.replace(RECORD_TYPE_TEMPLATE, "")
            suffix = suffix.replace(RECORD_TYPE_TEMPLATE, "")
        if not suffix and name.startswith(prefix):
            return _extract_type(name[len(prefix) :])
        if suffix and name.endswith(suffix):
            return _extract_type(name[: len(name) - len(suffix)])
        return "", ""


def _extract_type(name: str) -> tuple[str, str]:
    head = name.split("-", 1)[0]
    for rtype in SUPPORTED_TYPES:
        if head == rtype.lower() and "-" in name:
            return name[len(head) + 1 :], rtype
    return name, ""


# ------------------------------------------------------------------------------------------- registry


def is_ownership_txt(ep: Endpoint) -> bool:
    return ep.record_type == RECORD_TXT and bool(ep.targets) and parse_labels(ep.targets[0]) is not None


@dataclass
class NameView:
    """Everything at one record name, as the registry sees it."""

    records: list[Endpoint] = field(default_factory=list)  # non-ownership records, labels attached
    # ownership TXT records that belong to records at this name, by their TXT name
    txts: dict[str, Endpoint] = field(default_factory=dict)


Lookup = Callable[[str], Iterable[Endpoint]]


class Registry(Protocol):
    """What the controller asks of a registry (external-dns's registry.Registry), name by name.

    ``owner`` is the owner id the plan enforces ("" for noop: everything is kumo's to manage).
    """

    owner: str
    mapper: NameMapper

    def view(self, name: str, lookup: Lookup) -> NameView: ...

    def with_txt(self, changes: Changes, views: dict[str, NameView]) -> tuple[Changes, list[Endpoint]]: ...

    def claimed_name(self, record: Endpoint) -> str | None:
        """The record name a provider record makes relevant at a full read (its own, or the one an
        ownership TXT of this owner points to), or None."""
        ...


class NoopRegistry:
    """--registry=noop: no ownership records; every managed record in the zones is kumo's."""

    owner = ""

    def __init__(self, managed_types: frozenset[str]) -> None:
        self.mapper = NameMapper()
        self.managed_types = managed_types

    def view(self, name: str, lookup: Lookup) -> NameView:
        view = NameView()
        view.records = [e.copy() for e in lookup(name) if e.record_type != RECORD_TXT]
        return view

    def with_txt(self, changes: Changes, views: dict[str, NameView]) -> tuple[Changes, list[Endpoint]]:
        return changes, []

    def claimed_name(self, record: Endpoint) -> str | None:
        return record.dns_name if record.record_type in self.managed_types else None


class TXTRegistry:
    """Attaches ownership labels to records and adds TXT changes next to record changes.

    Works name by name, so the controller can recompute one name without re-reading the zone.
    ``lookup(name)`` returns the provider's records at a name (all types).
    """

    def __init__(
        self,
        owner_id: str,
        mapper: NameMapper | None = None,
        *,
        aes_key: bytes = b"",
        encrypt: bool = False,
        old_owner_id: str = "",
    ) -> None:
        """``aes_key``: read values encrypted with it (plain ones too); ``encrypt``: write them so.
        ``old_owner_id`` (--migrate-from-txt-owner): records of that owner are ours, and their TXT
        records are rewritten with our owner id."""
        if encrypt and not aes_key:
            raise ValueError("encrypting TXT records needs an AES key")
        self.old_owner_id = old_owner_id if old_owner_id != owner_id else ""
        self.owner_id = owner_id
        self.owner = owner_id
        self.mapper = mapper or NameMapper()
        self.aes_key = aes_key
        self.encrypt = encrypt

    def labels_of(self, value: str) -> dict[str, str] | None:
        """Labels of a TXT value, decrypted when it is encrypted with our key (the nonce is kept as the
        ``txt-encryption-nonce`` label, as external-dns does); None when it is no ownership value."""
        if self.aes_key:
            plain = decrypt_text(value, self.aes_key)
            if plain is not None:
                labels = parse_labels(plain[0])
                if labels is not None:
                    labels[NONCE_LABEL] = plain[1]
                return labels
        return parse_labels(value)

    def serialize(self, labels: dict[str, str]) -> str:
        """A TXT value for labels, quotes included; encrypted with ``encrypt``, reusing their nonce."""
        plain = serialize_labels(labels)
        if not self.encrypt:
            return plain
        nonce = nonce_bytes(labels.get(NONCE_LABEL, ""))
        return '"' + encrypt_text(plain[1:-1], self.aes_key, nonce) + '"'

    def _mine(self, labels: dict[str, str] | None) -> bool:
        owner = (labels or {}).get(OWNER_LABEL)
        return owner == self.owner_id or bool(self.old_owner_id and owner == self.old_owner_id)

    def _same_value(self, existing: Endpoint, txt: Endpoint) -> bool:
        if existing.targets == txt.targets:
            return True
        if not self.aes_key or not existing.targets or not txt.targets:
            return False
        # an encrypted value differs with every nonce (and every gzip): compare what it says
        # (a plain value is rewritten once encryption is on, and an encrypted one once it is off)
        old, new = self.labels_of(existing.targets[0]), self.labels_of(txt.targets[0])
        if old is None or new is None or (NONCE_LABEL in old) != (NONCE_LABEL in new):
            return False
        old.pop(NONCE_LABEL, None)
        new.pop(NONCE_LABEL, None)
        return old == new

    def claimed_name(self, record: Endpoint) -> str | None:
        if record.record_type != RECORD_TXT or not record.targets:
            return None
        labels = self.labels_of(record.targets[0])
        if labels is None or not self._mine(labels):
            return None
        name, _ = self.mapper.endpoint_name(record.dns_name)
        return name or None

    def txt_names(self, name: str, set_identifier: str = "") -> list[str]:
        """Every TXT name that may carry ownership for records at ``name``."""
        del set_identifier
        names = [self.mapper.txt_name(name, t) for t in (RECORD_A, RECORD_AAAA, RECORD_CNAME)]
        names.append(self.mapper.legacy_name(name))
        return names

    def view(self, name: str, lookup: Callable[[str], Iterable[Endpoint]]) -> NameView:
        out = NameView()
        label_map: dict[tuple[str, str, str], dict[str, str]] = {}
        for txt_name in dict.fromkeys(self.txt_names(name)):
            for txt in lookup(txt_name):
                if txt.record_type != RECORD_TXT or not txt.targets:
                    continue
                labels = self.labels_of(txt.targets[0])
                if labels is None:
                    continue
                rname, rtype = self.mapper.endpoint_name(txt.dns_name)
                if rname != name:
                    continue
                if self.old_owner_id and labels.get(OWNER_LABEL) == self.old_owner_id:
                    labels[OWNER_LABEL] = self.owner_id  # migrated: ours from now on
                label_map[(rname, rtype, txt.set_identifier)] = labels
                out.txts[_txt_key(txt)] = txt
        for record in lookup(name):
            if (
                record.record_type == RECORD_TXT
                and self.labels_of(record.targets[0] if record.targets else "") is not None
            ):
                continue  # an ownership TXT whose own name happens to be looked up
            ep = record.copy()
            key_name = ep.dns_name
            labels = label_map.get((key_name, ep.record_type, ep.set_identifier))
            if labels is None and ep.is_alias and ep.record_type == RECORD_A:
                labels = label_map.get((key_name, RECORD_CNAME, ep.set_identifier))
            if labels is None and ep.record_type != RECORD_AAAA:
                labels = label_map.get((key_name, "", ep.set_identifier))
            ep.labels = dict(labels or {})
            out.records.append(ep)
        return out

    # -- TXT records for a record --------------------------------------------------------------------

    def txt_for(self, record: Endpoint, existing: Endpoint | None = None) -> Endpoint:
        """The ownership TXT kumo writes for a record (new typed form); an encrypted one reuses the
        nonce of the record's labels or else of the ``existing`` TXT it replaces."""
        labels = dict(record.labels)
        labels[OWNER_LABEL] = self.owner_id
        if self.encrypt and NONCE_LABEL not in labels and existing is not None and existing.targets:
            nonce = (self.labels_of(existing.targets[0]) or {}).get(NONCE_LABEL)
            if nonce:
                labels[NONCE_LABEL] = nonce
        txt = Endpoint(
            self.mapper.txt_name(record.dns_name, record.record_type),
            (self.serialize(labels),),
            RECORD_TXT,
            0,
            record.set_identifier,
            {OWNED_RECORD_LABEL: record.dns_name},
            {k: v for k, v in record.provider_specific.items() if k in _ROUTING_PROPERTIES},
        )
        return txt

    def owning_txts(self, record: Endpoint, view: NameView) -> list[Endpoint]:
        """The existing TXT records that own ``record`` (new, cname- for ALIAS, and legacy)."""
        names = [self.mapper.txt_name(record.dns_name, record.record_type)]
        if record.is_alias and record.record_type == RECORD_A:
            names.append(self.mapper.txt_name(record.dns_name, RECORD_CNAME))
        if record.record_type != RECORD_AAAA:
            names.append(self.mapper.legacy_name(record.dns_name))
        found = []
        for n in names:
            txt = view.txts.get(_txt_key_parts(n, record.set_identifier))
            if txt is not None:
                found.append(txt)
        return found

    def with_txt(self, changes: Changes, views: dict[str, NameView]) -> tuple[Changes, list[Endpoint]]:
        """Record changes plus their TXT changes; also the creates dropped because another owner's TXT
        already claims the name (creating the record would take it over)."""
        out = Changes()
        dropped: list[Endpoint] = []
        for rec in changes.create:
            view = views.get(rec.dns_name, NameView())
            txt = self.txt_for(rec)
            existing = view.txts.get(_txt_key(txt))
            if existing is not None:
                labels = self.labels_of(existing.targets[0]) or {}
                if not self._mine(labels):
                    dropped.append(rec)
                    continue
                out.create.append(rec)
                txt = self.txt_for(rec, existing)
                if not self._same_value(existing, txt):
                    out.update_old.append(_owned_by(existing, rec.dns_name))
                    out.update_new.append(txt)
                continue
            out.create.append(rec)
            out.create.append(txt)
        for old, new in zip(changes.update_old, changes.update_new, strict=True):
            view = views.get(new.dns_name, NameView())
            out.update_old.append(old)
            out.update_new.append(new)
            txt = self.txt_for(new)
            existing = view.txts.get(_txt_key(txt))
            if existing is None:
                out.create.append(txt)
            elif not self._same_value(existing, (txt := self.txt_for(new, existing))):
                out.update_old.append(_owned_by(existing, new.dns_name))
                out.update_new.append(txt)
        deleting: dict[tuple[str, str], set[str]] = {}
        for rec in changes.delete:
            deleting.setdefault((rec.dns_name, rec.set_identifier), set()).add(rec.record_type)
        created_txt = {
            _txt_key_parts(self.mapper.txt_name(c.dns_name, c.record_type), c.set_identifier)
            for c in [*changes.create, *changes.update_new]
        }
        deleted_txt: set[EndpointKey] = set()
        for rec in changes.delete:
            view = views.get(rec.dns_name, NameView())
            out.delete.append(rec)
            for txt in self.owning_txts(rec, view):
                if txt.dns_name == self.mapper.legacy_name(rec.dns_name) and self._legacy_still_needed(
                    rec, view, created_txt, deleting
                ):
                    continue
                if txt.key not in deleted_txt:
                    deleted_txt.add(txt.key)
                    owned = txt.copy()
                    owned.labels[OWNED_RECORD_LABEL] = rec.dns_name  # same batch group as its record
                    out.delete.append(owned)
        if self.old_owner_id:
            self._migrate(out, views)
        return out, dropped

    def _migrate(self, out: Changes, views: dict[str, NameView]) -> None:
        """Rewrite, in place, the TXT records of ``old_owner_id`` that own a record kept at a name
        (the ones of changed or deleted records are already rewritten or deleted above)."""
        touched = {_txt_key(t) for t in [*out.update_old, *out.delete] if t.record_type == RECORD_TXT}
        touched |= {_txt_key(t) for t in out.create if t.record_type == RECORD_TXT}
        changed = {(r.dns_name, r.record_type, r.set_identifier) for r in [*out.update_old, *out.delete]}
        for view in views.values():
            for rec in view.records:
                if (rec.dns_name, rec.record_type, rec.set_identifier) in changed:
                    continue
                for txt in self.owning_txts(rec, view):
                    labels = self.labels_of(txt.targets[0]) if txt.targets else None
                    if labels is None or labels.get(OWNER_LABEL) != self.old_owner_id:
                        continue
                    if _txt_key(txt) in touched:
                        continue
                    touched.add(_txt_key(txt))
                    labels[OWNER_LABEL] = self.owner_id
                    new = _owned_by(txt, rec.dns_name)
                    new.targets = (self.serialize(labels),)
                    out.update_old.append(_owned_by(txt, rec.dns_name))
                    out.update_new.append(new)

    def _legacy_still_needed(
        self, rec: Endpoint, view: NameView, created_txt: set[str], deleting: dict[tuple[str, str], set[str]]
    ) -> bool:
        """A legacy TXT owns every type at its name: keep it while a remaining record relies on it."""
        gone = deleting.get((rec.dns_name, rec.set_identifier), set())
        for other in view.records:
            if other.set_identifier != rec.set_identifier or other.record_type in gone:
                continue
            if other.record_type == RECORD_TXT:
                continue
            own_new = _txt_key_parts(
                self.mapper.txt_name(other.dns_name, other.record_type), other.set_identifier
            )
            if own_new not in view.txts and own_new not in created_txt:
                return True
        return False


def _owned_by(txt: Endpoint, record_name: str) -> Endpoint:
    out = txt.copy()
    out.labels[OWNED_RECORD_LABEL] = record_name
    return out


def _txt_key_parts(name: str, set_identifier: str) -> str:
    return f"{normalize_name(name)}|{set_identifier}"


def _txt_key(txt: Endpoint) -> str:
    return _txt_key_parts(txt.dns_name, txt.set_identifier)


__all__ = [
    "HERITAGE",
    "NameMapper",
    "NameView",
    "TXTRegistry",
    "is_ownership_txt",
    "legacy_txt_record_name",
    "ownership_txt_content",
    "parse_labels",
    "serialize_labels",
    "txt_record_name",
]
