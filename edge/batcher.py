"""Readings -> batches: grouping by count and age, with per-device sequence numbers. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from vigie.contracts import Reading, TelemetryBatch


@dataclass(frozen=True)
class BatchPolicy:
    """A batch is sent when it holds max_readings or its oldest reading is max_age_ms old."""

    max_readings: int = 50
    max_age_ms: int = 60_000


@dataclass
class Batcher:
    """Accumulates one device's readings; ``next_seq`` continues across restarts when given."""

    device_id: str
    policy: BatchPolicy = field(default_factory=BatchPolicy)
    next_seq: int = 0
    _pending: list[Reading] = field(default_factory=list)
    _opened_ms: int | None = None

    def add(self, ts_ms: int, metric: str, value: float, now_ms: int) -> TelemetryBatch | None:
        """Add one reading; returns a batch when one is due."""
        self._pending.append(Reading(ts_ms=ts_ms, metric=metric, value=value))
        if self._opened_ms is None:
            self._opened_ms = now_ms
        return self.due(now_ms)

    def due(self, now_ms: int) -> TelemetryBatch | None:
        """The pending batch if its count or age says so."""
        if not self._pending or self._opened_ms is None:
            return None
        if (
            len(self._pending) >= self.policy.max_readings
            or now_ms - self._opened_ms >= self.policy.max_age_ms
        ):
            return self.flush(now_ms)
        return None

    def flush(self, now_ms: int) -> TelemetryBatch | None:
        """Close the pending batch now, whatever its size."""
        if not self._pending:
            return None
        batch = TelemetryBatch(
            device_id=self.device_id, seq=self.next_seq, sent_at_ms=now_ms, readings=self._pending
        )
        self.next_seq += 1
        self._pending = []
        self._opened_ms = None
        return batch
