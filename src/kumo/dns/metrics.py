"""Prometheus metrics: external-dns's names where they mean the same thing, ``kumo_dns_*`` for the rest.

Each controller owns its registry, so several controllers (tests, a leader and a standby in one
process) never collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


class _Dropped(Collector):
    """kumo_dns_dropped_packets_total, read from the provider's own count when scraped."""

    def __init__(self) -> None:
        self.source: Callable[[], dict[str, int]] = dict

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "kumo_dns_dropped_packets",
            "Packets and connections the local DNS server dropped without an answer, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(self.source().items()):
            family.add_metric([reason], count)
        yield family


class DnsMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.registry_endpoints = Gauge(
            "external_dns_registry_endpoints_total", "Number of Endpoints in the registry", registry=r
        )
        self.source_endpoints = Gauge(
            "external_dns_source_endpoints_total", "Number of Endpoints in all sources", registry=r
        )
        self.last_sync = Gauge(
            "external_dns_controller_last_sync_timestamp_seconds",
            "Timestamp of last successful sync with the DNS provider",
            registry=r,
        )
        self.registry_errors = Counter(
            "external_dns_registry_errors_total", "Number of Registry errors", registry=r
        )
        self.source_errors = Counter(
            "external_dns_source_errors_total", "Number of Source errors", registry=r
        )
        self.provider_calls = Counter(
            "kumo_dns_provider_calls_total", "DNS provider API calls", ["provider"], registry=r
        )
        self.changes = Counter("kumo_dns_changes_total", "Record changes applied", ["action"], registry=r)
        self.failed_changes = Counter(
            "kumo_dns_failed_changes_total", "Change groups the provider rejected", registry=r
        )
        self.reconciles = Counter("kumo_dns_reconciles_total", "Incremental reconciles run", registry=r)
        self.resyncs = Counter("kumo_dns_full_resyncs_total", "Full provider re-reads", registry=r)
        self.dirty_names = Gauge("kumo_dns_dirty_names", "Names waiting to be reconciled", registry=r)
        self.is_leader = Gauge("kumo_dns_is_leader", "1 when this replica holds the lease", registry=r)
        self.grace_records = Gauge(
            "kumo_dns_grace_period_names",
            "Names kept because their source briefly lost its address",
            registry=r,
        )
        self.sync_seconds = Histogram(
            "kumo_dns_reconcile_duration_seconds",
            "Time to reconcile a batch of names",
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.source_problems = Counter(
            "kumo_dns_source_problems_total", "Bad annotations or hostnames found on objects", registry=r
        )

        self.dropped_packets = _Dropped()
        r.register(self.dropped_packets)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
