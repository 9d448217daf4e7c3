"""InfluxDB line protocol for Vigie's measurements.

Tag values are registry slugs (lowercase letters, digits, '-', '_', '.'), checked where they
enter the platform, so no escaping is needed; field values are floats or integers.
Timestamps are milliseconds (writes use precision=ms).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from streams.windowing import DeviceState, WindowRow
from vigie.contracts import Asset, TelemetryBatch

RAW = "telemetry"
AGGREGATE = "agg_1m"
LATE = "late_readings"
FLEET = "fleet"


class TagIndex:
    """Pre-built tag sets per device (territory, vertical, district, device)."""

    def __init__(self, territory: str, registry: Mapping[str, Asset] | None) -> None:
        self.territory = territory
        self.registry = registry or {}
        self._cache: dict[str, str] = {}

    def tags(self, device: str, vertical: str) -> str:
        tagset = self._cache.get(device)
        if tagset is None:
            asset = self.registry.get(device)
            district = asset.district if asset else "unknown"
            tagset = (
                f"territory={self.territory},vertical={vertical},district={district},"
                f"device={device}"
            )
            self._cache[device] = tagset
        return tagset


def _f(value: float) -> str:
    return repr(float(value))


def raw_lines(batches: Iterable[tuple[str, TelemetryBatch]], tags: TagIndex) -> list[str]:
    """One line per reading: ``telemetry,<tags>,metric=<m> value=<v> <ts>``."""
    return [
        f"{RAW},{tags.tags(b.device_id, vertical)},metric={r['metric']} value={_f(r['value'])} "
        f"{r['ts_ms']}"
        for vertical, b in batches
        for r in b.readings
    ]


def aggregate_lines(
    rows: Iterable[WindowRow], verticals: Mapping[str, str], tags: TagIndex
) -> list[str]:
    """One line per (device, metric, window) with count, sum, min, max, mean, last."""
    lines = []
    for row in rows:
        if row.count == 0 or math.isnan(row.sum):
            continue
        lines.append(
            f"{AGGREGATE},{tags.tags(row.device_id, verticals[row.device_id])},metric={row.metric} "
            f"count={row.count}i,sum={_f(row.sum)},min={_f(row.min)},max={_f(row.max)},"
            f"mean={_f(row.mean)},last={_f(row.last)} {row.start_ms}"
        )
    return lines


def late_lines(
    late: Iterable[tuple[str, str, int, float]], verticals: Mapping[str, str], tags: TagIndex
) -> list[str]:
    """Readings that arrived after their window closed, kept for reporting and correction."""
    return [
        f"{LATE},{tags.tags(d, verticals[d])},metric={m} value={_f(v)} {t}" for d, m, t, v in late
    ]


def fleet_lines(
    states: Mapping[str, DeviceState],
    devices: Iterable[str],
    verticals: Mapping[str, str],
    tags: TagIndex,
    now_ms: int,
) -> list[str]:
    """Per device: last sequence number, missing sequence numbers, late readings, last seen."""
    lines = []
    for d in devices:
        st = states[d]
        last_seq = st.seq.high if st.seq is not None else -1
        lines.append(
            f"{FLEET},{tags.tags(d, verticals[d])} last_seq={last_seq}i,"
            f"missing_seq={st.missing}i,late={st.late}i,last_reading_ms={st.watermark_ms}i "
            f"{now_ms}"
        )
    return lines
