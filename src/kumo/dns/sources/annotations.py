"""external-dns annotations, read under both prefixes, with validation that names what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kumo.dns.duration import parse_seconds_or_duration
from kumo.dns.endpoint import PS_ALIAS, PS_EVALUATE_TARGET_HEALTH, PS_TARGET_HOSTED_ZONE

ALPHA_PREFIX = "external-dns.alpha.kubernetes.io/"
STABLE_PREFIX = "external-dns.kubernetes.io/"
PREFIXES = (ALPHA_PREFIX, STABLE_PREFIX)

HOSTNAME = "hostname"
INTERNAL_HOSTNAME = "internal-hostname"
TTL = "ttl"
TARGET = "target"
ALIAS = "alias"
SET_IDENTIFIER = "set-identifier"
CONTROLLER = "controller"
INGRESS_HOSTNAME_SOURCE = "ingress-hostname-source"
CONTROLLER_VALUE = "dns-controller"

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_ZONE_ID = re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$")
_MAX_TTL = 2**31 - 1


@dataclass
class Annotations:
    """The external-dns annotations of one object, and the problems found reading them."""

    values: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, obj_annotations: dict[str, str] | None, prefix: str = ALPHA_PREFIX) -> Annotations:
        """Collect ``<prefix><key>`` for the configured prefix only, as external-dns does.

        Two instances with different ``--annotation-prefix`` values (split horizon) must not publish
        each other's names, so the other standard prefix is not read.
        """
        values: dict[str, str] = {}
        for key, value in (obj_annotations or {}).items():
            if key.startswith(prefix):
                values[key[len(prefix) :]] = value
        return cls(values)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def hostnames(self, key: str = HOSTNAME) -> list[str]:
        raw = self.values.get(key)
        if raw is None:
            return []
        out = []
        for item in raw.split(","):
            name = item.strip().rstrip(".").lower()
            if not name:
                continue
            problem = hostname_problem(name)
            if problem:
                self.problems.append(f"annotation {key}: {item.strip()!r} {problem}")
                continue
            out.append(name)
        return out

    def ttl(self) -> int:
        raw = self.values.get(TTL)
        if raw is None:
            return 0
        try:
            return parse_ttl(raw)
        except ValueError as exc:
            self.problems.append(f"annotation {TTL}: {exc}; using the provider default")
            return 0

    def targets(self) -> list[str]:
        raw = self.values.get(TARGET)
        if raw is None:
            return []
        out = []
        for item in raw.split(","):
            t = item.strip().rstrip(".")
            if t:
                out.append(t)
        return out

    def set_identifier(self) -> str:
        return (self.values.get(SET_IDENTIFIER) or "").strip()

    def provider_specific(self) -> dict[str, str]:
        ps: dict[str, str] = {}
        alias = self.values.get(ALIAS)
        if alias is not None:
            value = alias.strip()
            if value.lower() in ("true", "false"):
                ps[PS_ALIAS] = value.lower()
            elif value.upper() in ("A", "AAAA"):
                ps[PS_ALIAS] = value.upper()  # external-dns #5997: only this ALIAS type
            else:
                self.problems.append(f"annotation {ALIAS}: expected true, false, A or AAAA, found {alias!r}")
        for key, value in sorted(self.values.items()):
            if key.startswith("aws-"):
                name = "aws/" + key[len("aws-") :]
                if name not in AWS_PROPERTIES:
                    # an unknown property would be written nowhere and look changed on every sync
                    self.problems.append(
                        f"annotation {key}: not an AWS annotation external-dns knows; ignored"
                        f" (known: {', '.join('aws-' + p[4:] for p in sorted(AWS_PROPERTIES))})"
                    )
                    continue
                problem = _aws_problem(name, value.strip())
                if problem:
                    self.problems.append(f"annotation {key}: {problem}")
                    continue
                ps[name] = value.strip()
            elif key.startswith("webhook-"):
                ps["webhook/" + key[len("webhook-") :]] = value
        return ps

    def owned_by_other_controller(self) -> bool:
        value = self.values.get(CONTROLLER)
        return value is not None and value != CONTROLLER_VALUE


# the provider-specific properties of external-dns's AWS provider (``aws-<x>`` annotations)
AWS_PROPERTIES = frozenset(
    {
        PS_EVALUATE_TARGET_HEALTH,
        PS_TARGET_HOSTED_ZONE,
        "aws/weight",
        "aws/region",
        "aws/failover",
        "aws/health-check-id",
        "aws/multi-value-answer",
        "aws/geolocation-continent-code",
        "aws/geolocation-country-code",
        "aws/geolocation-subdivision-code",
        "aws/geoproximity-region",
        "aws/geoproximity-bias",
        "aws/geoproximity-coordinates",
        "aws/geoproximity-local-zone-group",
    }
)


def _aws_problem(name: str, value: str) -> str | None:
    if name == "aws/weight":
        if not value.isdigit() or int(value) > 255:
            return f"expected an integer 0-255, found {value!r}"
    elif name in (PS_EVALUATE_TARGET_HEALTH,):
        if value.lower() not in ("true", "false"):
            return f"expected true or false, found {value!r}"
    elif name == PS_TARGET_HOSTED_ZONE:
        if value != "same-zone" and not _ZONE_ID.match(value):
            return f"expected a hosted zone id such as Z35SXDOTRQ7X7K, found {value!r}"
    elif name == "aws/failover" and value.upper() not in ("PRIMARY", "SECONDARY"):
        return f"expected PRIMARY or SECONDARY, found {value!r}"
    elif name == "aws/geoproximity-bias":
        try:
            bias = int(value)
        except ValueError:
            bias = 1000
        if not -99 <= bias <= 99:
            return f"expected an integer -99 to 99, found {value!r}"
    elif name == "aws/geoproximity-coordinates":
        parts = value.split(",")
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError:
            lat = lon = 1000.0
        if len(parts) != 2 or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"expected latitude,longitude such as 47.6,-122.3, found {value!r}"
    return None


def hostname_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS name, or None."""
    if len(name) > 253:
        return "is longer than 253 characters"
    labels = name.split(".")
    if len(labels) < 2:
        return "is not a fully qualified name (expected e.g. www.example.com)"
    for index, label in enumerate(labels):
        if label == "*" and index == 0:
            continue
        if not _LABEL.match(label):
            return f"is not a DNS name (bad label {label!r})"
    return None


def parse_ttl(raw: str) -> int:
    """Seconds, or a Go duration ("90s", "1.5m", "90000ms"), between 1 and 2^31-1 (as external-dns)."""
    try:
        value = int(parse_seconds_or_duration(raw))  # Go's Duration.Seconds(), truncated to int64
    except ValueError:
        raise ValueError(f"expected seconds or a duration such as 5m, found {raw!r}") from None
    if value < 1 or value > _MAX_TTL:
        raise ValueError(f"TTL must be between 1 and {_MAX_TTL} seconds, found {raw!r}")
    return value
