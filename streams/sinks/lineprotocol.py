"""InfluxDB line protocol for Vigie's measurements: the one serialiser of the pipeline's typed
rows (``encode``), used by the InfluxDB 1.x and 2.x sinks alike.

Tag values are registry slugs (lowercase letters, digits, '-', '_', '.'), checked where they
enter the platform, so no escaping is needed; field values are floats or integers.
Timestamps are milliseconds (writes use precision=ms).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streams.alerts import Alert
from streams.outputs import (
    BinPoint,
    BulkOutput,
    DistrictAttribution,
    FleetRow,
    LateReading,
    MeterBalance,
    MeterNight,
    RoadPoint,
)
from streams.windowing import WindowRow
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


def raw_lines(
    batches: Iterable[TelemetryBatch],
    verticals: Mapping[str, str],
    tags: TagIndex,
    from_ms: int | None = None,
) -> tuple[list[str], list[str]]:
    """One line per reading: ``telemetry,<tags>,metric=<m> value=<v> <ts>``; those before
    ``from_ms`` apart (for the long retention, where they are kept)."""
    recent: list[str] = []
    old: list[str] = []
    for b in batches:
        head = f"{RAW},{tags.tags(b.device_id, verticals[b.device_id])},metric="
        for r in b.readings:  # values are floats (validated), and repr writes them exactly
            into = old if from_ms is not None and r["ts_ms"] < from_ms else recent
            into.append(f"{head}{r['metric']} value={r['value']!r} {r['ts_ms']}")
    return recent, old


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
        lines.append(
            f"{measurement},{tags.tags(row.device_id, verticals[row.device_id])},"
            f"metric={row.metric} "
            f"count={row.count}i,sum={_f(row.sum)},min={_f(row.min)},max={_f(row.max)},"
            f"mean={_f(row.mean)},last={_f(row.last)},last_ts_ms={row.last_ts_ms}i "
            f"{row.start_ms + label_offset_ms}"
        )
    return lines


def late_lines(
    late: Iterable[LateReading], verticals: Mapping[str, str], tags: TagIndex
) -> list[str]:
    """Readings that arrived after their window closed, kept for reporting and correction."""
    return [
        f"{LATE},{tags.tags(d, verticals[d])},metric={m} value={_f(v)} {t}" for d, m, t, v in late
    ]


def fleet_lines(
    rows: Iterable[FleetRow],
    verticals: Mapping[str, str],
    tags: TagIndex,
    measurement: str = FLEET,
) -> list[str]:
    """One point per device and bulk, with its position (for the map) when the registry
    knows it."""
    lines = []
    for r in rows:
        asset = tags.registry.get(r.device)
        where = f",lat={_f(asset.lat)},lon={_f(asset.lon)}" if asset else ""
        first = f",first_seq={r.first_seq}i" if r.first_seq is not None else ""
        lines.append(
            f"{measurement},{tags.tags(r.device, verticals[r.device])} last_seq={r.last_seq}i,"
            f"missing_seq={r.missing_seq}i,late={r.late}i,last_reading_ms={r.last_reading_ms}i,"
            f"alerts={r.alerts}i,edge_dropped={r.edge_dropped}i{first}{where} {r.at_ms}"
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


def balance_lines(balances: Iterable[MeterBalance], tags: TagIndex) -> list[str]:
    """Per meter and hour: metered, modelled (sum of members), unexplained, ratio."""
    out = []
    for m in balances:
        b = m.balance
        out.append(
            f"{BALANCE},{tags.tags(m.meter, tags.vertical_of(m.meter))} "
            f"metered={_f(b.metered_wh)},modelled={_f(b.modelled_wh)},"
            f"unexplained={_f(b.unexplained_wh)},ratio={_num(b.ratio)},"
            f"members={len(b.attributed_wh)}i {b.start_ms}"
        )
    return out


def attribution_lines(rows: Iterable[DistrictAttribution], tags: TagIndex) -> list[str]:
    """Per meter, hour and member district."""
    return [
        f"{ATTRIBUTION},territory={tags.territory},vertical=lighting,district={a.district},"
        f"meter={a.meter} attributed_wh={_f(a.attributed_wh)},burning_h={_f(a.burning_h)},"
        f"full_power_wh={_f(a.full_power_wh)},lamps_wh={_f(a.lamps_wh)},lamps={a.lamps}i "
        f"{a.start_ms}"
        for a in rows
    ]


def night_lines(nights: Iterable[MeterNight], tags: TagIndex) -> list[str]:
    """Per metered area and night: minimum flow, its usual value and the leak index."""
    return [
        f"{NIGHT},{tags.tags(n.meter, 'water')},dma={n.verdict.group.split(':', 1)[1]} "
        f"min_flow_m3h={_f(n.verdict.min_flow_m3h)},baseline_m3h={_num(n.verdict.baseline_m3h)},"
        f"leak_index={_num(n.verdict.leak_index)} {n.verdict.night_ms}"
        for n in nights
    ]


def waste_lines(bins: Iterable[BinPoint], tags: TagIndex) -> list[str]:
    """Per bin and reading: fill level, filling rate and hours until full."""
    return [
        f"{WASTE},{tags.tags(p.device, 'waste')} fill_pct={_f(p.level.fill_pct)},"
        f"rate_pct_h={_num(p.level.rate_pct_h)},hours_to_full={_num(p.level.hours_to_full)} "
        f"{p.level.ts_ms}"
        for p in bins
    ]


def road_lines(points: Iterable[RoadPoint], tags: TagIndex) -> list[str]:
    """Per counter and reading interval: occupancy and traffic state."""
    return [
        f"{ROAD},{tags.tags(p.device, 'mobility')} occupancy_pct={_f(p.occupancy_pct)},"
        f"state={int(p.state)}i {p.ts_ms}"
        for p in points
    ]


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


def lag_line(territory: str, instance: str, fields: Mapping[str, float | int], at_ms: int) -> str:
    """A worker's reading-to-storage lag for one bulk (integers stay integers)."""
    values = ",".join(
        f"{k}={v}i" if isinstance(v, int) else f"{k}={_f(v)}" for k, v in fields.items()
    )
    return (
        f"{PLATFORM},territory={territory},component=streams,instance={instance} {values} {at_ms}"
    )


@dataclass
class Lines:
    """Serialised results, per retention policy."""

    raw: list[str] = field(default_factory=list)
    long: list[str] = field(default_factory=list)
    minute: list[str] = field(default_factory=list)  # the 1-minute windows, the fleet rows

    def __iadd__(self, other: Lines) -> Lines:
        self.raw += other.raw
        self.long += other.long
        self.minute += other.minute
        return self

    def __len__(self) -> int:
        return len(self.raw) + len(self.long) + len(self.minute)

    @property
    def bytes(self) -> int:
        return sum(sum(map(len, part)) for part in (self.raw, self.long, self.minute))


def encode(out: BulkOutput, tags: TagIndex) -> Lines:
    """A bulk's rows as line protocol, in the flow's order: raw readings, windows, late
    readings, fleet, per-reading KPIs, balances and attribution, nights, alerts."""
    v = out.verticals
    raw, old = raw_lines(out.fresh, v, tags, out.raw_from_ms)
    cut = out.minute_from_ms
    kept = [w for w in out.windows if cut is None or w.start_ms >= cut]
    minute = aggregate_lines(kept, v, tags)
    minute += fleet_lines(out.fleet, v, tags, FLEET_HISTORY if out.fleet_history else FLEET)
    long = old  # what is older than its retention policy keeps is kept with the rest
    long += aggregate_lines(
        [w for w in out.windows if cut is not None and w.start_ms < cut], v, tags
    )
    long += aggregate_lines(out.hop_windows, v, tags, HOPPING, out.hop_window_ms)
    long += late_lines(out.late_readings, v, tags)
    long += waste_lines(out.bins, tags)
    long += road_lines(out.roads, tags)
    long += balance_lines(out.balances, tags)
    long += attribution_lines(out.attributions, tags)
    long += night_lines(out.nights, tags)
    long += alert_lines(out.alerts, tags)
    return Lines(raw, long, minute)
