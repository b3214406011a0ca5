"""Admission: what the API server does to a request body between decoding and storage.

Body, name and namespace checks, dropping fields the schema does not know (``fieldValidation``),
defaults, and validation (metadata, then the kind's schema). The store calls these on every write,
from the HTTP layer and from in-process controllers alike, as every write to a real API server
passes admission; the HTTP layer sets the request's ``fieldValidation`` mode and reads back the
warnings to send. One difference: writes of the control plane's own controllers (the simulation,
inside :meth:`Admission.control_plane`) are not checked against the kind's schema, which took half
of the emulator's time in a rollout: they are made from objects that passed it, and
``tests/integration/kubeapi/test_simulation.py`` checks that what they store passes it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kumo.sandbox.kubeapi import errors
from kumo.sandbox.kubeapi.catalog import ResourceType
from kumo.sandbox.kubeapi.defaults import apply_defaults
from kumo.sandbox.kubeapi.errors import ApiError

if TYPE_CHECKING:
    from kumo.sandbox.kubeapi.store import Store

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_LABEL_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Kinds whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = frozenset({"namespaces", "services"})

_QUALIFIED = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")


def label_causes(labels: Mapping[str, Any]) -> list[dict[str, str]]:
    """Label keys and values as the API server checks them (qualified names, 63-char values)."""
    causes: list[dict[str, str]] = []
    for key, value in labels.items():
        prefix, _, name = str(key).rpartition("/")
        if (
            not name
            or len(name) > 63
            or not _QUALIFIED.match(name)
            or (prefix and (len(prefix) > 253 or not _NAME_RE.match(prefix)))
        ):
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": "metadata.labels",
                    "message": f'Invalid value: "{key}": name part must consist of alphanumeric '
                    "characters, '-', '_' or '.', and must start and end with an "
                    "alphanumeric character",
                }
            )
        if isinstance(value, str) and value and (len(value) > 63 or not _QUALIFIED.match(value)):
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": f"metadata.labels[{key}]",
                    "message": f'Invalid value: "{value}": a valid label must be an empty string or '
                    "consist of alphanumeric characters, '-', '_' or '.' (at most 63)",
                }
            )
    return causes


class Admission:
    """The admission chain of one store. ``strict_fields`` and ``warnings`` belong to the request
    being served: writes are synchronous on one event loop, so a flag set around one request
    cannot leak into another."""

    def __init__(self, store: Store, validator: Any = None) -> None:
        self.store = store
        self.validator = validator
        #: fieldValidation=Strict for the request being served
        self.strict_fields = False
        #: warnings of the request being served (unknown fields dropped), sent as Warning headers
        self.warnings: list[str] = []
        #: the write being made is the control plane's own (see :meth:`control_plane`)
        self.internal = False

    @contextlib.contextmanager
    def control_plane(self) -> Iterator[None]:
        """Writes made inside are the control plane's own: admitted as any (defaults, managed
        fields, metadata checks) but not checked against the schema."""
        outer, self.internal = self.internal, True
        try:
            yield
        finally:
            self.internal = outer

    def mutate(self, rt: ResourceType, obj: dict[str, Any], creating: bool) -> None:
        """Drop unknown fields, then default (allocating a Service's cluster IP and node ports)."""
        self.prune(rt, obj)
        apply_defaults(rt, obj, self.store.alloc, creating=creating)

    def check_namespace(self, rt: ResourceType, namespace: str | None, creating: bool) -> str:
        """The namespace a write lands in: required for namespaced kinds, and on create it must
        exist and not be terminating."""
        if not rt.namespaced:
            return ""
        if not namespace:
            raise errors.bad_request("an empty namespace may not be set during creation")
        if creating:
            ns_rt = self.store.catalog.lookup("", "v1", "namespaces")
            assert ns_rt is not None
            ns = self.store.lookup_ref(ns_rt, None, namespace)
            if ns is None:
                raise errors.not_found(ns_rt, namespace)
            if ns["metadata"].get("deletionTimestamp"):
                raise ApiError(
                    403,
                    "Forbidden",
                    f'{rt.kind.lower()} "..." is forbidden: unable to create new content in namespace '
                    f"{namespace} because it is being terminated",
                    details={
                        "causes": [
                            {
                                "reason": "NamespaceTerminating",
                                "field": "metadata.namespace",
                                "message": f"namespace {namespace} is being terminated",
                            }
                        ]
                    },
                )
        return namespace

    def check_body(self, rt: ResourceType, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request(f"the body of the request must be a {rt.kind} object")
        av = body.get("apiVersion")
        if av is not None and av != rt.api_version:
            other = self.store.catalog.by_kind(str(av), str(body.get("kind", "")))
            if other is None or other.store_key != rt.store_key:
                raise errors.bad_request(
                    f"the API version in the data ({av}) does not match the expected API version "
                    f"({rt.api_version})"
                )
        kind = body.get("kind")
        if kind is not None and kind != rt.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        meta = body.get("metadata", {})
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        return body

    def check_name(self, rt: ResourceType, name: str) -> None:
        pattern = _LABEL_NAME_RE if rt.plural in _LABEL_NAMED else _NAME_RE
        limit = 63 if rt.plural in _LABEL_NAMED else 253
        if not name or len(name) > limit or not pattern.match(name):
            what = "RFC 1123 label" if rt.plural in _LABEL_NAMED else "RFC 1123 subdomain"
            raise errors.invalid(
                rt,
                name,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "message": f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                        "alphanumeric characters, '-' or '.', and must start and end with an "
                        "alphanumeric character",
                        "field": "metadata.name",
                    }
                ],
            )

    def prune(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        """fieldValidation=Warn (the default) and Ignore: fields the schema does not know are
        dropped as the request is decoded, before defaults, each with a warning."""
        if self.validator is not None and not self.strict_fields:
            for field_path in self.validator.unknown_fields(rt, obj, drop=True):
                self.warnings.append(f'unknown field "{field_path}"')

    def validate(self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
        """Reject an invalid object. An update that leaves everything the schema checks as ``old``
        had it (a status write, a no-op) is not checked against the schema again: ``old`` passed,
        and the API server's ratcheting validation also lets unchanged values stand."""
        labels = obj["metadata"].get("labels")
        if isinstance(labels, dict):
            causes = label_causes(labels)
            if causes:
                raise errors.invalid(rt, obj["metadata"]["name"], causes)
        for key in ("labels", "annotations"):
            val = obj["metadata"].get(key)
            if val is None:
                continue
            if not isinstance(val, dict) or not all(isinstance(v, str) for v in val.values()):
                raise errors.invalid(
                    rt,
                    obj["metadata"]["name"],
                    [
                        {
                            "reason": "FieldValueTypeInvalid",
                            "message": f"Invalid value: {key} values must be strings",
                            "field": f"metadata.{key}",
                        }
                    ],
                )
        if self.validator is None or self.internal or (old is not None and _schema_unchanged(old, obj)):
            return
        if self.strict_fields:
            unknown = self.validator.unknown_fields(rt, obj)
            if unknown:
                raise errors.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict '
                    "decoding error: " + ", ".join(f'unknown field "{f}"' for f in unknown)
                )
        causes = self.validator.validate(rt, obj)
        if causes:
            raise errors.invalid(rt, obj["metadata"]["name"], causes)


# Server-kept metadata that changes on every write; the schema does not constrain it.
_BOOKKEEPING = frozenset({"managedFields", "resourceVersion"})


def _schema_unchanged(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` differs from ``old`` only where the schema check does not look (``status``,
    the server's bookkeeping in ``metadata``)."""
    if old.keys() - {"status"} != new.keys() - {"status"}:
        return False
    for key, value in new.items():
        if key == "metadata":
            old_meta = old[key]
            if old_meta.keys() - _BOOKKEEPING != value.keys() - _BOOKKEEPING:
                return False
            if any(old_meta[k] != v for k, v in value.items() if k not in _BOOKKEEPING):
                return False
        elif key != "status" and old[key] != value:
            return False
    return True
