"""The telemetry processor: Kafka events in, windows folded, InfluxDB written, state saved.

It only moves data: decoding is the contract's, windowing and kernels are pure functions, the
sink owns retries. Per-device state lives in a faust table whose changelog is written to the
partition the device's records come from, so a restarted or rebalanced worker recovers it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from streams.sinks.influx_v1 import InfluxV1Sink, Retention
from streams.sinks.lineprotocol import (
    TagIndex,
    aggregate_lines,
    fleet_lines,
    late_lines,
    raw_lines,
)
from streams.windowing import DeviceState, WindowPolicy, step
from vigie.contracts import TELEMETRY_BATCH, Asset, TelemetryBatch
from vigie.settings import Settings

log = logging.getLogger("vigie.streams")


class TelemetryProcessor:
    """Processes one bulk of telemetry events at a time."""

    def __init__(
        self, settings: Settings, table: Any, registry: Mapping[str, Asset] | None
    ) -> None:
        self.settings = settings
        self.table = table
        self.policy = WindowPolicy(
            settings.streams.window_s * 1000, settings.streams.allowed_lateness_s * 1000
        )
        self.tags = TagIndex(settings.territory, registry)
        self.sink: InfluxV1Sink | None = None
        self.readings = 0
        self.duplicates = 0
        self.late = 0

    async def open(self) -> None:
        influx = self.settings.influx
        self.sink = await InfluxV1Sink(
            influx.url, influx.database, Retention(influx.raw_retention, influx.aggregate_retention)
        ).__aenter__()

    async def close(self) -> None:
        if self.sink is not None:
            await self.sink.__aexit__(None, None, None)

    async def handle(self, events: Sequence[Any]) -> None:
        """Fold a bulk of events (faust events of raw batch bytes) and write the results."""
        if self.sink is None:
            await self.open()
        assert self.sink is not None
        batches: list[TelemetryBatch] = []
        verticals: dict[str, str] = {}
        partitions: dict[str, int] = {}
        for event in events:
            batch = TELEMETRY_BATCH.validate_json(event.value)
            batches.append(batch)
            verticals[batch.device_id] = event.message.topic.rsplit(".", 1)[1]
            partitions[batch.device_id] = event.message.partition
        states = {d: DeviceState.from_bytes(self.table.data.get(d.encode())) for d in verticals}
        result = step(states, batches, self.policy)
        raw = raw_lines(((verticals[b.device_id], b) for b in result.fresh), self.tags)
        await self.sink.write(raw, "raw")
        longer = aggregate_lines(result.rows, verticals, self.tags)
        longer += late_lines(result.late, verticals, self.tags)
        now_ms = int(time.time() * 1000)
        longer += fleet_lines(states, result.touched, verticals, self.tags, now_ms)
        await self.sink.write(longer, "long")
        for device in result.touched:
            key, value = device.encode(), states[device].to_bytes()
            self.table.data[key] = value
            self.table.send_changelog(partitions[device], key, value)
        self.readings += len(raw)
        self.duplicates += result.duplicates
        self.late += len(result.late)
        if result.late:
            log.warning("late readings", extra={"count": len(result.late)})
