"""Domain filters (--domain-filter / --exclude-domains), with external-dns's matching rules."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kumo.dns.endpoint import normalize_name
from kumo.selectors import Requirement, labels_match, parse_label_selector


def _matches(name: str, domain: str) -> bool:
    if domain.startswith("."):
        # ".example.com" matches subdomains only, as in external-dns
        return name.endswith(domain)
    return name == domain or name.endswith("." + domain)


@dataclass(frozen=True)
class DomainFilter:
    """--domain-filter / --exclude-domains, or --regex-domain-filter / --regex-domain-exclusion.

    As in external-dns, a regex filter overrides the plain filters, and zones are matched with the
    same rules as names: a zone is selected when it is a filter or lies below one; a zone above a
    filter (``zone.test`` for ``--domain-filter sub.zone.test``) only with ``match_parent``
    (``--aws-zone-match-parent``).
    """

    filters: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regex: str = ""
    regex_exclude: str = ""

    @classmethod
    def of(
        cls,
        filters: list[str] | tuple[str, ...] = (),
        exclude: list[str] | tuple[str, ...] = (),
        regex: str = "",
        regex_exclude: str = "",
    ) -> DomainFilter:
        def norm(items: list[str] | tuple[str, ...]) -> tuple[str, ...]:
            out = []
            for item in items:
                for part in item.split(","):
                    part = part.strip().lower().rstrip(".")
                    if part:
                        out.append(part)
            return tuple(out)

        for flag, pattern in (("--regex-domain-filter", regex), ("--regex-domain-exclusion", regex_exclude)):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{flag}: not a regular expression ({exc}): {pattern!r}") from None
        return cls(norm(filters), norm(exclude), regex, regex_exclude)

    @property
    def uses_regex(self) -> bool:
        return bool(self.regex or self.regex_exclude)

    def _regex_match(self, name: str) -> bool:
        if self.regex_exclude and _compiled(self.regex_exclude).search(name):
            return False
        return not self.regex or _compiled(self.regex).search(name) is not None

    def match(self, name: str) -> bool:
        n = normalize_name(name)
        if self.uses_regex:
            return self._regex_match(n)
        if self.filters and not any(_matches(n, f) for f in self.filters):
            return False
        return not any(_matches(n, e) for e in self.exclude)

    def match_zone(self, zone: str, match_parent: bool = False) -> bool:
        """A zone is relevant when it is a filter or inside one; with ``match_parent``, also above one."""
        z = normalize_name(zone)
        if self.match(z):
            return True
        if not match_parent or self.uses_regex or any(_matches(z, e) for e in self.exclude):
            return False
        return any(not f.startswith(".") and f.endswith("." + z) for f in self.filters)

    @property
    def is_empty(self) -> bool:
        return not self.filters and not self.exclude and not self.uses_regex


@functools.lru_cache(maxsize=16)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True)
class LabelFilter:
    """A Kubernetes label selector (``k=v``, ``k!=v``, ``k in (a,b)``, ``k notin (a)``, ``k``, ``!k``).

    Parsed by :mod:`kumo.selectors`, the parser the API emulator uses too. Used for ``--label-filter``
    (on labels) and ``--annotation-filter`` (the same semantics on annotations), as in external-dns.
    """

    text: str = ""
    requirements: tuple[Requirement, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> LabelFilter:
        """Raises ValueError (a SelectorError) naming the part that does not parse."""
        return cls(text.strip(), tuple(parse_label_selector(text.strip())))

    def match(self, labels: Mapping[str, str] | None) -> bool:
        return labels_match(list(self.requirements), labels)

    def selector(self) -> str | None:
        """The selector string for the API server, so it filters lists and watches for us."""
        return self.text or None

    @property
    def is_empty(self) -> bool:
        return not self.requirements
