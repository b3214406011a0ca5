"""The emulator's view of the selector parser in :mod:`kumo.selectors`: a bad selector is a 400."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kumo.sandbox.kubeapi.errors import bad_request
from kumo.selectors import (
    FieldRequirement,
    Requirement,
    SelectorError,
    fields_match,
    labels_match,
    selector_from_label_selector_obj,
)
from kumo.selectors import make_filter as _make_filter
from kumo.selectors import parse_field_selector as _parse_field_selector
from kumo.selectors import parse_label_selector as _parse_label_selector


def parse_label_selector(text: str | None) -> list[Requirement]:
    try:
        return _parse_label_selector(text)
    except SelectorError as exc:
        raise bad_request(str(exc)) from None


def parse_field_selector(text: str | None) -> list[FieldRequirement]:
    try:
        return _parse_field_selector(text)
    except SelectorError as exc:
        raise bad_request(str(exc)) from None


def make_filter(
    label_selector: str | None, field_selector: str | None
) -> Callable[[Mapping[str, Any]], bool] | None:
    try:
        return _make_filter(label_selector, field_selector)
    except SelectorError as exc:
        raise bad_request(str(exc)) from None


__all__ = [
    "FieldRequirement",
    "Requirement",
    "fields_match",
    "labels_match",
    "make_filter",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_label_selector_obj",
]
