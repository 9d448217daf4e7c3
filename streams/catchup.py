"""The hourly and daily windows the continuous queries missed, made again from the 1-minute
windows InfluxDB holds (``streams.rollups``) and written back:

- after a history import, whose windows are older than any run of the continuous queries
  (``catch_up``, whole UTC days, by ``vigie replay``);
- for live windows that came after the continuous queries' last run over their hour, an
  agent's queue flushed after an outage: the worker notes their device-hours in the device's
  state (``streams.pipeline``) and rolls up those devices' hours and days
  (``roll_up_devices``).

It reads with the reader's credential when the settings name one and writes with the
writer's, one UTC day at a time (a day's hourly points and its daily point together).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from streams.rollups import FIELDS, Window, roll_up, windows
from vigie import influxql
from vigie.contracts.storage import LONG_RP, MINUTE_RP, Measurement, at
from vigie.sections import InfluxSettings

DAY_MS, HOUR_MS = 86_400_000, 3_600_000
CHUNK = 5_000  # lines per write request
DEVICES_PER_QUERY = 100


@dataclass
class Caught:
    days: int = 0  # UTC days that held 1-minute windows
    hourly: int = 0  # points written
    daily: int = 0


def catch_up(
    influx: InfluxSettings,
    territory: str,
    first_ms: int,
    last_ms: int,
    on_day: Callable[[int, int], None] | None = None,
) -> Caught:
    """Roll up ``territory``'s 1-minute windows of every UTC day from ``first_ms``'s to
    ``last_ms``'s, from both policies that keep them (the minute one, and long for windows
    written past its retention); ``on_day(done, total)`` after each day."""
    first = first_ms - first_ms % DAY_MS
    days = range(first, last_ms + 1, DAY_MS)
    caught = Caught()
    select = ", ".join(f'"{f}"' for f in FIELDS)
    for n, day in enumerate(days, 1):
        rows = []
        for rp in (MINUTE_RP, LONG_RP):
            rows += influxql.query(
                influx,
                f"SELECT {select} FROM {at(Measurement.AGG_1M, rp)} WHERE "
                f"\"territory\" = '{territory}' AND time >= {day}ms AND time < {day + DAY_MS}ms "
                "GROUP BY *",
                timeout_s=120,
            )
        minutes = windows(rows)
        if minutes:
            hours = roll_up(minutes, HOUR_MS)
            whole = roll_up(hours, DAY_MS)
            _write(influx, [w.line(Measurement.AGG_1H) for w in hours])
            _write(influx, [w.line(Measurement.AGG_1D) for w in whole])
            caught.days += 1
            caught.hourly += len(hours)
            caught.daily += len(whole)
        if on_day:
            on_day(n, len(days))
    return caught


def held(influx: InfluxSettings, territory: str, first_ms: int, last_ms: int) -> tuple[int, int]:
    """Hourly and daily points InfluxDB holds for ``territory`` over those UTC days (asked
    back after a catch-up)."""
    first = first_ms - first_ms % DAY_MS
    end = last_ms - last_ms % DAY_MS + DAY_MS
    out = []
    for m in (Measurement.AGG_1H, Measurement.AGG_1D):
        rows = influxql.query(
            influx,
            f'SELECT count("count") FROM {at(m)} WHERE "territory" = \'{territory}\' '
            f"AND time >= {first}ms AND time < {end}ms GROUP BY *",
            timeout_s=120,
        )
        out.append(int(sum(r.get("count") or 0 for r in rows)))
    return out[0], out[1]


def _devices(devices: Iterable[str]) -> list[str]:
    """InfluxQL conditions on the device tag, ``DEVICES_PER_QUERY`` devices each."""
    names = sorted(devices)
    return [
        "(" + " OR ".join(f"\"device\" = '{d}'" for d in names[i : i + DEVICES_PER_QUERY]) + ")"
        for i in range(0, len(names), DEVICES_PER_QUERY)
    ]


def _read(
    influx: InfluxSettings, m: Measurement, territory: str, start: int, end: int, who: str
) -> list[Window]:
    """``territory``'s windows of ``m`` in [start, end) for the devices ``who`` names."""
    select = ", ".join(f'"{f}"' for f in FIELDS)
    return windows(
        influxql.query(
            influx,
            f"SELECT {select} FROM {at(m)} WHERE \"territory\" = '{territory}' AND {who} "
            f"AND time >= {start}ms AND time < {end}ms GROUP BY *",
            timeout_s=120,
        )
    )


def roll_up_devices(influx: InfluxSettings, due: Mapping[tuple[str, int], Iterable[str]]) -> Caught:
    """Roll up the device-hours in ``due`` ((territory, hour start) -> devices): each hour
    from its 1-minute windows, then each UTC day from its hours, for those devices only."""
    caught = Caught()
    days: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (territory, hour), devices in sorted(due.items()):
        caught.hourly += _roll(influx, Measurement.AGG_1H, territory, hour, HOUR_MS, devices)
        days[(territory, hour - hour % DAY_MS)] |= set(devices)
    for (territory, day), held_by in sorted(days.items()):
        caught.daily += _roll(influx, Measurement.AGG_1D, territory, day, DAY_MS, held_by)
        caught.days += 1
    return caught


def _roll(
    influx: InfluxSettings,
    target: Measurement,
    territory: str,
    start: int,
    every_ms: int,
    devices: Iterable[str],
) -> int:
    """``target``'s window at ``start`` for each of ``devices``, from the next shorter
    windows; returns the points written."""
    source = Measurement.AGG_1M if target is Measurement.AGG_1H else Measurement.AGG_1H
    written = 0
    for who in _devices(devices):
        rolled = roll_up(_read(influx, source, territory, start, start + every_ms, who), every_ms)
        _write(influx, [w.line(target) for w in rolled])
        written += len(rolled)
    return written


def _write(influx: InfluxSettings, lines: list[str]) -> None:
    for i in range(0, len(lines), CHUNK):
        influxql.write_lines(influx, lines[i : i + CHUNK], LONG_RP, timeout_s=60, attempts=5)
