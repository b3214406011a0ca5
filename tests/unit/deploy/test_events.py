"""Events in failure reports and status are in time order, whatever their timestamp format."""

from __future__ import annotations

from typing import Any

from kumo.deploy.wait import in_time_order


def event(reason: str, version: str, **stamps: str) -> dict[str, Any]:
    return {"reason": reason, "metadata": {"resourceVersion": version}, **stamps}


def test_events_sort_by_time_then_by_resource_version() -> None:
    events = [
        # A MicroTime sorts as text before the Time of the same second ("." < "Z"); as a time it
        # is the same second, and the resourceVersion says which came last.
        event("Started", "12", eventTime="2026-01-01T10:00:05.500000Z"),
        event("Pulled", "11", lastTimestamp="2026-01-01T10:00:05Z"),
        event("Scheduled", "9", lastTimestamp="2026-01-01T10:00:04Z"),
        event("BackOff", "100", lastTimestamp="2026-01-01T10:00:06Z"),
        event("Created", "10", firstTimestamp="2026-01-01T10:00:04Z"),
    ]
    assert [e["reason"] for e in in_time_order(events)] == [
        "Scheduled",
        "Created",
        "Pulled",
        "Started",
        "BackOff",
    ]
