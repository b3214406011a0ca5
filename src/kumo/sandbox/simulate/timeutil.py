"""Timestamps as the API writes them (RFC 3339, seconds)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_ts(ts: str | None) -> float | None:
    if not ts:
        return None
    try:
        return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def seconds_since(ts: str | None, now: float) -> float:
    t = parse_ts(ts)
    return 0.0 if t is None else now - t
