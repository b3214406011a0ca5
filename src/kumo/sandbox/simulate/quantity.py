"""Kubernetes resource quantities ("250m", "1.5", "128Mi", "1G") as numbers."""

from __future__ import annotations

import re

_SUFFIX = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> float:
    """Return the quantity in base units (cores, bytes); 0 for anything unparseable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _RE.match(str(value).strip())
    if not m or m.group(2) not in _SUFFIX:
        return 0.0
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def cpu_str(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def nano_cpu_str(cores: float) -> str:
    return f"{round(cores * 1e9)}n"


def mem_str(nbytes: float) -> str:
    return f"{round(nbytes / 1024)}Ki"
