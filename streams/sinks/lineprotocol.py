"""InfluxDB line protocol for Vigie's measurements.

Tag values are registry slugs (lowercase letters, digits, '-', '_', '.'), checked where they
enter the platform, so no escaping is needed; field values are floats or integers.
Timestamps are milliseconds (writes use precision=ms).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from streams.alerts import Alert
from streams.groups import Balance, NightVerdict
from streams.kpis import BinLevel
from streams.windowing import DeviceState, WindowRow
from vigie.contracts import Asset, DeadLetter, DeviceTopic, TelemetryBatch, TopicError
from vigie.contracts.platform import PlatformReport
from vigie.contracts.storage import Measurement

RAW = Measurement.TELEMETRY
AGGREGATE = Measurement.AGG_1M
HOPPING = (
    Measurement.AGG_HOP_1H
)  # 1-hour windows every 15 minutes (road traffic), at the window END:
# a point at 08:15 holds 07:15-08:15, "the last hour", as the README and the panels say
LATE = Measurement.LATE
FLEET = Measurement.FLEET
FLEET_HISTORY = Measurement.FLEET_HISTORY  # the same, for imported history (gaps in the source)


class TagIndex:
    """Pre-built tag sets per device (territory, vertical, district, device)."""

    def __init__(self, territory: str, registry: Mapping[str, Asset] | None) -> None:
        self.territory = territory
        self.registry = registry or {}
        self._cache: dict[str, str] = {}

    def vertical_of(self, device: str) -> str:
        asset = self.registry.get(device)
        return str(asset.vertical) if asset else "unknown"

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
    lines: list[str] = []
    for vertical, b in batches:
        head = f"{RAW},{tags.tags(b.device_id, vertical)},metric="
        # values are floats (validated), and repr writes them exactly
        lines += [f"{head}{r['metric']} value={r['value']!r} {r['ts_ms']}" for r in b.readings]
    return lines


def aggregate_lines(
    rows: Iterable[WindowRow],
    verticals: Mapping[str, str],
    tags: TagIndex,
    measurement: str = AGGREGATE,
    label_offset_ms: int = 0,
) -> list[str]:
    """One line per (device, metric, window) with count, sum, min, max, mean, last and the
    time of the last (what a worker that lost its state starts the window from again), at the
    window's start plus ``label_offset_ms`` (a window's length: labelled by its end)."""
    lines = []
    for row in rows:
        if row.count == 0 or math.isnan(row.sum):
            continue
        lines.append(
            f"{measurement},{tags.tags(row.device_id, verticals[row.device_id])},"
            f"metric={row.metric} "
            f"count={row.count}i,sum={_f(row.sum)},min={_f(row.min)},max={_f(row.max)},"
            f"mean={_f(row.mean)},last={_f(row.last)},last_ts_ms={row.last_ts_ms}i "
            f"{row.start_ms + label_offset_ms}"
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
    measurement: str = FLEET,
) -> list[str]:
    """Per device: last sequence number, missing sequence numbers (counted from the first one
    the device reported or, failing that, the first one seen), batches its queue dropped, late
    readings, last seen, alerts currently raised, and its position (for the map) when the
    registry knows it."""
    lines = []
    for d in devices:
        st = states[d]
        last_seq = st.seq.high if st.seq is not None else -1
        asset = tags.registry.get(d)
        where = f",lat={_f(asset.lat)},lon={_f(asset.lon)}" if asset else ""
        first = f",first_seq={st.seq_start}i" if st.seq_start is not None else ""
        lines.append(
            f"{measurement},{tags.tags(d, verticals[d])} last_seq={last_seq}i,"
            f"missing_seq={st.missing}i,late={st.late}i,last_reading_ms={st.watermark_ms}i,"
            f"alerts={len(st.alerts)}i,edge_dropped={st.edge_dropped}i{first}{where} {now_ms}"
        )
    return lines


DEAD_LETTERS = Measurement.DEAD_LETTERS


def dead_letter_lines(
    letters: Iterable[tuple[DeadLetter, int, int]], territory: str, prefix: str
) -> list[str]:
    """One point per dead-letter record (letter, Kafka partition, offset), tagged with the
    reason and the vertical its topic names (``unknown`` when the topic itself was the
    problem). Nanosecond times: the reception millisecond, then the record's position, so
    letters of one millisecond do not overwrite each other. Written with precision=ns."""
    lines = []
    for letter, partition, offset in letters:
        where, vertical = territory, "unknown"
        if letter.mqtt_topic.startswith("kafka:"):  # a record a stream worker could not use
            vertical = letter.mqtt_topic.split("/", 1)[0].rsplit(".", 1)[-1]
        else:
            try:
                topic = DeviceTopic.parse(letter.mqtt_topic, prefix)
                where, vertical = topic.territory, str(topic.vertical)
            except TopicError:
                pass
        ns = letter.received_at_ms * 1_000_000 + (partition * 100_003 + offset) % 1_000_000
        lines.append(
            f"{DEAD_LETTERS},territory={where},vertical={vertical},reason={letter.reason} "
            f"count=1i,bytes={len(letter.payload_b64) * 3 // 4}i {ns}"
        )
    return lines


BALANCE = Measurement.BALANCE
ATTRIBUTION = Measurement.ATTRIBUTION
NIGHT = Measurement.NIGHT
WASTE = Measurement.WASTE
ROAD = Measurement.ROAD
ALERTS = Measurement.ALERTS


def _s(text: str) -> str:
    """A string field value, quoted and escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(value: float) -> str:
    return _f(value) if math.isfinite(value) else "-1.0"


def balance_lines(
    balances: Iterable[Balance], meter_device: Mapping[str, str], tags: TagIndex
) -> list[str]:
    """Per meter and hour: metered, modelled (sum of members), unexplained, ratio."""
    out = []
    for b in balances:
        device = meter_device[b.group]
        vertical = tags.vertical_of(device)
        out.append(
            f"{BALANCE},{tags.tags(device, vertical)} metered={_f(b.metered_wh)},"
            f"modelled={_f(b.modelled_wh)},unexplained={_f(b.unexplained_wh)},"
            f"ratio={_num(b.ratio)},members={len(b.attributed_wh)}i {b.start_ms}"
        )
    return out


def attribution_lines(
    balances: Iterable[Balance], meter_device: Mapping[str, str], tags: TagIndex
) -> list[str]:
    """Per meter, hour and member district: attributed energy (with the line losses), the
    lamps' own energy from their readings, burning hours, and the same hours at full power."""
    out = []
    for b in balances:
        per_district: dict[str, list[float]] = {}
        for member, wh in b.attributed_wh.items():
            asset = tags.registry.get(member)
            if asset is None:
                continue
            on_h = b.on_ms[member] / 3_600_000
            acc = per_district.setdefault(asset.district, [0.0, 0.0, 0.0, 0.0, 0])
            acc[0] += wh
            acc[1] += on_h
            acc[2] += (asset.nominal_power_w or 0.0) * on_h
            acc[3] += b.model_wh.get(member, 0.0)
            acc[4] += 1
        meter = meter_device[b.group]
        for district, (wh, on_h, full_wh, model_wh, n) in sorted(per_district.items()):
            out.append(
                f"{ATTRIBUTION},territory={tags.territory},vertical=lighting,district={district},"
                f"meter={meter} attributed_wh={_f(wh)},burning_h={_f(on_h)},"
                f"full_power_wh={_f(full_wh)},lamps_wh={_f(model_wh)},lamps={int(n)}i "
                f"{b.start_ms}"
            )
    return out


def night_lines(
    verdicts: Iterable[NightVerdict], meter_device: Mapping[str, str], tags: TagIndex
) -> list[str]:
    """Per metered area and night: minimum flow, its usual value and the leak index."""
    return [
        f"{NIGHT},{tags.tags(meter_device[v.group], 'water')},dma={v.group.split(':', 1)[1]} "
        f"min_flow_m3h={_f(v.min_flow_m3h)},baseline_m3h={_num(v.baseline_m3h)},"
        f"leak_index={_num(v.leak_index)} {v.night_ms}"
        for v in verdicts
    ]


def waste_line(device: str, level: BinLevel, tags: TagIndex) -> str:
    return (
        f"{WASTE},{tags.tags(device, 'waste')} fill_pct={_f(level.fill_pct)},"
        f"rate_pct_h={_num(level.rate_pct_h)},hours_to_full={_num(level.hours_to_full)} "
        f"{level.ts_ms}"
    )


def road_line(device: str, ts_ms: int, occupancy: float, state: int, tags: TagIndex) -> str:
    return (
        f"{ROAD},{tags.tags(device, 'mobility')} occupancy_pct={_f(occupancy)},"
        f"state={int(state)}i {ts_ms}"
    )


def alert_lines(alerts: Iterable[Alert], tags: TagIndex) -> list[str]:
    """One point per raise or clear: tag kind, subject; fields state, value, detail."""
    out = []
    for a in alerts:
        device = a.subject
        vertical = tags.vertical_of(device)
        out.append(
            f"{ALERTS},{tags.tags(device, vertical)},kind={a.kind} state={_s(a.state)},"
            f"open={int(a.state == 'raised')}i,value={_num(a.value)},detail={_s(a.detail)} "
            f"{a.at_ms}"
        )
    return out


PLATFORM = Measurement.PLATFORM


def platform_lines(report: PlatformReport) -> list[str]:
    """A process's report on itself: one line for the process, one per vertical it served."""
    base = (
        f"{PLATFORM},territory={report.territory},component={report.component},"
        f"instance={report.instance}"
    )
    counters = "".join(f",{k}={v}i" for k, v in sorted(report.counters.items()))
    lines = [
        f"{base} cpu_s={_f(report.cpu_s)},rss_kb={report.rss_kb}i,"
        f"interval_s={_f(report.interval_s)}{counters} {report.at_ms}"
    ]
    for vertical, values in sorted(report.by_vertical.items()):
        if values:
            fields = ",".join(f"{k}={v}i" for k, v in sorted(values.items()))
            lines.append(f"{base},vertical={vertical} {fields} {report.at_ms}")
    return lines
