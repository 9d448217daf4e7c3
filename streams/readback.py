"""What InfluxDB holds for devices a worker has no state for, read back to rebuild it: the
windows of each aggregate measurement, the raw points already stored (not to store them
twice), the 1-minute windows the raw readings show to be short (``streams.recovery``), and the
last sequence marks of the fleet view. The InfluxQL is written here and nowhere else in the
worker; read with the reader's credential, per 200 devices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from streams.recovery import RawWindow, SeqMark, completed, reconciled, short_windows
from streams.sinks.lineprotocol import FLEET, FLEET_HISTORY
from streams.windowing import DeviceState, WindowRow
from vigie import influxql
from vigie.contracts.storage import LONG_RP, RAW_RP, Measurement, at
from vigie.settings import Settings


@dataclass
class Recovered:
    """What InfluxDB holds for the devices of a bulk that have no state in the table."""

    states: dict[str, DeviceState]
    stored: dict[str, set[tuple[str, int]]]  # device -> {(metric, ts_ms)} already stored


def read_back(
    settings: Settings,
    devices: list[str],
    spans: Mapping[str, tuple[int, int]],
    readings: tuple[int, int],
    history: bool = False,
    hop_ms: int = 3_600_000,
    territory: str | None = None,
    window_ms: int = 60_000,
) -> tuple[list[tuple[WindowRow, bool]], dict[str, set[tuple[str, int]]], dict[str, SeqMark]]:
    """What InfluxDB holds for these devices (``streams.recovery``): the windows of each
    aggregate measurement starting in its span, a 1-minute one made again from the raw
    readings where they outnumber it; the raw points within ``readings`` (both ends included;
    for imported history, in both retention policies); the last sequence marks (of the fleet
    measurement, or of the history's); read with the reader's credential, per 200 devices."""
    stored: list[tuple[WindowRow, bool]] = []
    minute = spans.get("agg_1m")
    points: dict[str, set[tuple[str, int]]] = {}
    marks: dict[str, SeqMark] = {}
    fields = '"count", "sum", "min", "max", "last", "last_ts_ms"'
    for i in range(0, len(devices), 200):
        names = "|".join(re.escape(d) for d in devices[i : i + 200])
        which = f'"device" =~ /^({names})$/'
        if territory is not None:
            which += f" AND \"territory\" = '{territory}'"
        for measurement, (start_ms, end_ms) in spans.items():
            hop = measurement != "agg_1m"
            shift = hop_ms if hop else 0  # hopping windows are labelled by their end
            source = at(Measurement(measurement))
            if history and not hop:  # history's windows past the minute retention are in long
                source += f", {at(Measurement(measurement), LONG_RP)}"
            q = (
                f"SELECT {fields} FROM {source} WHERE {which} AND "
                f"time >= {start_ms + shift}ms AND time < {end_ms + shift}ms "
                'GROUP BY "device", "metric"'
            )
            stored += [
                (
                    WindowRow(
                        r["device"],
                        r["metric"],
                        int(r["time"]) - shift,
                        int(r["count"]),
                        float(r["sum"]),
                        float(r["min"]),
                        float(r["max"]),
                        int(r["last_ts_ms"]),
                        float(r["last"]),
                    ),
                    hop,
                )
                for r in influxql.query(settings.influx, q)
                if r.get("last_ts_ms") is not None
            ]
        for rp in (RAW_RP, LONG_RP) if history else (RAW_RP,):
            q = (
                f'SELECT "value" FROM {at(Measurement.TELEMETRY, rp)} WHERE {which} AND '
                f'time >= {readings[0]}ms AND time <= {readings[1]}ms GROUP BY "device", "metric"'
            )
            for r in influxql.query(settings.influx, q):
                points.setdefault(r["device"], set()).add((r["metric"], int(r["time"])))
        if minute:
            short = short_windows(stored, _raw_windows(settings, which, minute, window_ms, history))
            last_ts = _last_times(settings, which, short, window_ms, history)
            stored = reconciled(stored, completed(short, last_ts))
        q = (
            'SELECT last("last_seq") AS "last_seq", last("missing_seq") AS "missing", '
            'last("first_seq") AS "first_seq", last("edge_dropped") AS "edge_dropped" '
            f"FROM {at(FLEET_HISTORY if history else FLEET)} WHERE {which} "
            'GROUP BY "device"'
        )
        marks |= {
            r["device"]: SeqMark(
                int(r["last_seq"]),
                int(r["missing"] or 0),
                None if r.get("first_seq") is None else int(r["first_seq"]),
                int(r.get("edge_dropped") or 0),
            )
            for r in influxql.query(settings.influx, q)
        }
    return stored, points, marks


def _raw_sources(history: bool) -> str:
    sources = at(Measurement.TELEMETRY, RAW_RP)
    return sources + (f", {at(Measurement.TELEMETRY, LONG_RP)}" if history else "")


def _raw_windows(
    settings: Settings, which: str, span: tuple[int, int], window_ms: int, history: bool
) -> list[RawWindow]:
    """The raw readings of the 1-minute windows starting in ``span``, aggregated by InfluxDB:
    one row per device, metric and minute (never the readings themselves)."""
    q = (
        'SELECT count("value") AS "count", sum("value") AS "sum", min("value") AS "min", '
        f'max("value") AS "max", last("value") AS "last" FROM {_raw_sources(history)} '
        f"WHERE {which} AND time >= {span[0]}ms AND time < {span[1] + window_ms}ms "
        f'GROUP BY time({window_ms}ms), "device", "metric" fill(none)'
    )
    return [
        RawWindow(r["device"], r["metric"], int(r["time"]), int(r["count"]), float(r["sum"]),
                  float(r["min"]), float(r["max"]), float(r["last"]))
        for r in influxql.query(settings.influx, q)
        if span[0] <= int(r["time"]) < span[1]
    ]  # fmt: skip


def _last_times(
    settings: Settings, which: str, short: list[RawWindow], window_ms: int, history: bool
) -> dict[tuple[str, str, int], int]:
    """The time of the last raw reading of each short window (one query per minute)."""
    wanted = {(r.device_id, r.metric, r.start_ms) for r in short}
    out: dict[tuple[str, str, int], int] = {}
    for start in sorted({r.start_ms for r in short}):
        q = (
            f'SELECT last("value") FROM {_raw_sources(history)} WHERE {which} AND '
            f'time >= {start}ms AND time < {start + window_ms}ms GROUP BY "device", "metric"'
        )
        for r in influxql.query(settings.influx, q):
            key = (r["device"], r["metric"], start)
            if key in wanted:
                out[key] = max(out.get(key, 0), int(r["time"]))
    return out
