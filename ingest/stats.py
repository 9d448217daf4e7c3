"""What the bridge counts, for logs, the Prometheus endpoint and the demo summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass
class BridgeStats:
    received: int = 0
    accepted: int = 0
    readings: int = 0
    duplicates: int = 0
    stale: int = 0
    ignored: int = 0  # status, commands and acknowledgements under the prefix
    produce_seconds: float = 0.0
    produced_bulks: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    # traffic, for the platform's own footprint: MQTT in, Kafka out, per vertical
    bytes_in: int = 0
    messages_out: int = 0
    bytes_out: int = 0
    by_vertical: Counter[tuple[str, str]] = field(default_factory=Counter)
    resent: int = 0  # journaled batches sent again after the Kafka-compatible broker lost them

    def traffic(self) -> Counter[str]:
        """The traffic counters (cumulative), for the platform topic."""
        return Counter(
            messages_in=self.received,
            bytes_in=self.bytes_in,
            messages_out=self.messages_out,
            bytes_out=self.bytes_out,
        )

    def as_fields(self) -> dict[str, object]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "readings": self.readings,
            "duplicates": self.duplicates,
            "stale": self.stale,
            "ignored": self.ignored,
            "resent": self.resent,
            "rejected": dict(self.rejected),
        }


class StatsCollector(Collector):
    """Exposes a bridge's counters to Prometheus, read at scrape time (no double book-keeping)."""

    def __init__(
        self, stats: BridgeStats, gaps: dict[str, int], instance: str, registry_checks: bool
    ) -> None:
        self.stats = stats
        self.gaps = gaps
        self.instance = instance
        self.registry_checks = registry_checks

    def collect(self) -> Iterator[Metric]:
        s, labels = self.stats, [self.instance]
        for name, value, doc in (
            ("received", s.received, "MQTT telemetry messages received"),
            ("accepted", s.accepted, "valid batches produced to Kafka"),
            ("readings", s.readings, "valid readings produced to Kafka"),
            ("duplicates", s.duplicates, "batches seen again (device, seq), passed on"),
            ("resent", s.resent, "journaled batches sent again after a broker restart"),
        ):
            metric = CounterMetricFamily(f"vigie_ingest_{name}", doc, labels=["instance"])
            metric.add_metric(labels, value)
            yield metric
        rejected = CounterMetricFamily(
            "vigie_ingest_rejected",
            "payloads sent to the dead-letter topic",
            labels=["instance", "reason"],
        )
        for reason, count in sorted(s.rejected.items()):
            rejected.add_metric([self.instance, reason], count)
        yield rejected
        gaps = GaugeMetricFamily(
            "vigie_ingest_missing_sequences",
            "sequence numbers skipped and not seen, all devices",
            labels=["instance"],
        )
        gaps.add_metric(labels, sum(self.gaps.values()))
        yield gaps
        checks = GaugeMetricFamily(
            "vigie_ingest_registry_checks",
            "1 when device ids are checked against the territory registry, 0 when any is accepted",
            labels=["instance"],
        )
        checks.add_metric(labels, int(self.registry_checks))
        yield checks
        latency = GaugeMetricFamily(
            "vigie_ingest_produce_seconds_mean",
            "mean time for Kafka to acknowledge one bulk",
            labels=["instance"],
        )
        latency.add_metric(labels, s.produce_seconds / max(1, s.produced_bulks))
        yield latency
