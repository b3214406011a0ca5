"""Small helpers on Kubernetes objects as plain dicts, shared by the store and its controllers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson


def now_rfc3339(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fast_copy(obj: Any) -> Any:
    """A deep copy of JSON data (stored objects are JSON; orjson round-trips them fastest)."""
    return orjson.loads(orjson.dumps(obj))
