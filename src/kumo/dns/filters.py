"""Domain filters (--domain-filter / --exclude-domains), with external-dns's matching rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from kumo.dns.endpoint import normalize_name


def _matches(name: str, domain: str) -> bool:
    if domain.startswith("."):
        # ".example.com" matches subdomains only, as in external-dns
        return name.endswith(domain)
    return name == domain or name.endswith("." + domain)


@dataclass(frozen=True)
class DomainFilter:
    filters: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, filters: list[str] | tuple[str, ...] = (), exclude: list[str] | tuple[str, ...] = ()
    ) -> DomainFilter:
        def norm(items: list[str] | tuple[str, ...]) -> tuple[str, ...]:
            out = []
            for item in items:
                for part in item.split(","):
                    part = part.strip().lower().rstrip(".")
                    if part:
                        out.append(part)
            return tuple(out)

        return cls(norm(filters), norm(exclude))

    def match(self, name: str) -> bool:
        n = normalize_name(name)
        if self.filters and not any(_matches(n, f) for f in self.filters):
            return False
        return not any(_matches(n, e) for e in self.exclude)

    def match_zone(self, zone: str) -> bool:
        """A zone is relevant when it is inside a filter, or a filter is inside it."""
        z = normalize_name(zone)
        if not self.filters:
            return not any(_matches(z, e) for e in self.exclude if not e.startswith("."))
        return any(_matches(z, f.lstrip(".")) or _matches(f.lstrip("."), z) for f in self.filters)

    @property
    def is_empty(self) -> bool:
        return not self.filters and not self.exclude


@dataclass(frozen=True)
class LabelFilter:
    """--label-filter: a Kubernetes equality-based label selector (k=v, k!=v, k, !k)."""

    terms: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> LabelFilter:
        terms = []
        for raw in text.split(","):
            term = raw.strip()
            if not term:
                continue
            if "!=" in term:
                k, v = term.split("!=", 1)
                terms.append((k.strip(), "!=", v.strip()))
            elif "==" in term:
                k, v = term.split("==", 1)
                terms.append((k.strip(), "=", v.strip()))
            elif "=" in term:
                k, v = term.split("=", 1)
                terms.append((k.strip(), "=", v.strip()))
            elif term.startswith("!"):
                terms.append((term[1:].strip(), "!", ""))
            else:
                terms.append((term, "exists", ""))
            if not terms[-1][0]:
                raise ValueError(f"label filter {text!r}: empty key in {term!r}")
        return cls(tuple(terms))

    def match(self, labels: dict[str, str]) -> bool:
        for key, op, value in self.terms:
            if op == "=" and labels.get(key) != value:
                return False
            if op == "!=" and labels.get(key) == value:
                return False
            if op == "exists" and key not in labels:
                return False
            if op == "!" and key in labels:
                return False
        return True

    def selector(self) -> str | None:
        """The same filter as a Kubernetes label selector string, so the API server filters for us."""
        if not self.terms:
            return None
        parts = []
        for key, op, value in self.terms:
            parts.append({"=": f"{key}={value}", "!=": f"{key}!={value}", "exists": key, "!": f"!{key}"}[op])
        return ",".join(parts)
