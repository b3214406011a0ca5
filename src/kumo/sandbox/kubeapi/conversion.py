"""Kinds served through two APIs from one storage, converted on the way in and out, as the API
server does: ``events.k8s.io/v1`` Events are core ``v1`` Events seen another way. An Event
created through either API is read, listed, watched, patched and deleted through both.

Field mapping (``k8s.io/kubernetes/pkg/apis/events/v1`` conversion): ``note`` <-> ``message``,
``regarding`` <-> ``involvedObject``, ``deprecatedSource`` <-> ``source``,
``deprecatedFirstTimestamp``/``deprecatedLastTimestamp``/``deprecatedCount`` <->
``firstTimestamp``/``lastTimestamp``/``count``, ``reportingController`` <->
``reportingComponent``; ``eventTime``, ``series``, ``action``, ``reason``, ``related``,
``type`` and ``reportingInstance`` are the same in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

# events.k8s.io/v1 name -> core/v1 name
_EVENT_FIELDS = {
    "note": "message",
    "regarding": "involvedObject",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
    "reportingController": "reportingComponent",
}
_EVENT_FIELDS_BACK = {v: k for k, v in _EVENT_FIELDS.items()}


def _renamed(obj: Obj, names: dict[str, str], api_version: str) -> Obj:
    out = {names.get(k, k): v for k, v in obj.items()}
    out["apiVersion"] = api_version
    out["kind"] = "Event"
    return out


def event_to_core(obj: Obj) -> Obj:
    """An ``events.k8s.io/v1`` Event as the core ``v1`` Event it is stored as (a new dict)."""
    return _renamed(obj, _EVENT_FIELDS, "v1")


def event_from_core(obj: Obj) -> Obj:
    """A stored core ``v1`` Event as ``events.k8s.io/v1`` shows it (a new dict)."""
    return _renamed(obj, _EVENT_FIELDS_BACK, "events.k8s.io/v1")


@dataclass(frozen=True)
class View:
    """How one served (group, plural) maps onto another's storage."""

    #: (group, version, plural) of the resource type whose storage this one shares
    storage: tuple[str, str, str]
    to_storage: Callable[[Obj], Obj]
    from_storage: Callable[[Obj], Obj]


#: served (group, plural) -> the view onto the storage it shares
VIEWS: dict[tuple[str, str], View] = {
    ("events.k8s.io", "events"): View(("", "v1", "events"), event_to_core, event_from_core),
}
