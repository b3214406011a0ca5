"""Go's ``time.ParseDuration`` grammar, the one duration parser for flags and annotations.

external-dns reads every duration flag (``--interval``, ``--min-ttl`` ...) with Go's parser, and the
``ttl`` annotation with it after trying a plain integer. So ``1.5m``, ``90000ms``, ``1h2m3.5s``,
``300us`` and ``-0`` mean here what they mean there.
"""

from __future__ import annotations

import re

# the units Go accepts, in seconds
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_TERM = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Seconds from a Go duration such as ``1h30m``, ``1.5m`` or ``250ms``; raises ValueError."""
    s = text.strip()
    sign = 1.0
    if s[:1] in ("+", "-"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _TERM.match(s, pos)
        if m is None:
            if re.match(r"\d*\.?\d*$", s[pos:]):
                raise ValueError(f"missing unit in duration {text!r}")
            raise ValueError(f"invalid duration {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def parse_seconds_or_duration(text: str) -> float:
    """A plain number of seconds, or a Go duration (external-dns's rule for the ``ttl`` annotation)."""
    s = text.strip()
    if re.fullmatch(r"[+-]?\d+", s):
        return float(int(s))
    return parse_go_duration(s)
