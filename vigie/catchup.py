"""The hourly and daily windows the continuous queries missed, made again from the 1-minute
windows InfluxDB holds (``vigie.rollups``) and written back: after a history import, whose
windows are older than any run of the continuous queries.

It reads with the reader's credential when the settings name one and writes with the
writer's, one UTC day at a time (a day's hourly points and its daily point together).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vigie import influxql
from vigie.contracts.storage import LONG_RP, MINUTE_RP, Measurement, at
from vigie.rollups import FIELDS, roll_up, windows
from vigie.sections import InfluxSettings

DAY_MS, HOUR_MS = 86_400_000, 3_600_000
CHUNK = 5_000  # lines per write request


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
            lines = [w.line(Measurement.AGG_1H) for w in hours]
            lines += [w.line(Measurement.AGG_1D) for w in whole]
            for i in range(0, len(lines), CHUNK):
                influxql.write_lines(influx, lines[i : i + CHUNK], LONG_RP, timeout_s=60)
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
