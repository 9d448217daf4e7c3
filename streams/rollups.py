"""The retention ladder's roll-ups computed here rather than by InfluxDB. Pure.

InfluxDB's continuous queries (``vigie.contracts.storage.ROLLUPS``) roll the 1-minute windows
up into hourly and daily ones, each run over the last hours only. Windows written later than
that, imported history first, are never rolled up by them, and the 1-minute windows go at the
end of their retention (400 days): ``roll_up`` makes the same points from the windows a query
returns, field for field, so that a command can write what the continuous queries missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vigie.contracts.storage import Measurement
from vigie.points import Point

TAGS = ("territory", "vertical", "district", "device", "metric")  # the windows' tag set
FIELDS = ("count", "sum", "min", "max", "last", "last_ts_ms")  # what a roll-up reads


@dataclass(slots=True)
class Window:
    """One series' window: as a 1-minute, hourly or daily point holds it."""

    tags: tuple[str, ...]  # values of ``TAGS``
    start_ms: int
    count: int
    sum: float
    min: float
    max: float
    last: float
    last_ts_ms: int
    last_at_ms: int  # the time of the latest point folded in (whose ``last`` it keeps)

    def line(self, measurement: Measurement) -> str:
        return Point(
            measurement,
            dict(zip(TAGS, self.tags, strict=True)),
            {"sum": self.sum, "min": self.min, "max": self.max,
             "mean": self.sum / self.count, "last": self.last},
            self.start_ms,
            ints={"count": self.count, "last_ts_ms": self.last_ts_ms},
        ).line()  # fmt: skip


def windows(rows: Iterable[Mapping[str, Any]]) -> list[Window]:
    """Windows from query rows (``time`` in ms, ``FIELDS``, the tags of ``GROUP BY *``); rows
    without a count (another measurement's) are left out."""
    out = []
    for r in rows:
        if not r.get("count"):
            continue
        t = int(r["time"])
        out.append(
            Window(
                tuple(str(r.get(k) or "") for k in TAGS),
                t,
                int(r["count"]),
                float(r["sum"]),
                float(r["min"]),
                float(r["max"]),
                float(r["last"]),
                int(r.get("last_ts_ms") or t),
                t,
            )
        )
    return out


def roll_up(parts: Iterable[Window], every_ms: int) -> list[Window]:
    """Windows of ``every_ms`` (UTC-aligned, labelled by their start) from shorter ones, as
    the continuous queries make them: counts, sums, min and max over the parts, the mean from
    them, and the last part's last value."""
    out: dict[tuple[tuple[str, ...], int], Window] = {}
    for p in parts:
        start = p.start_ms - p.start_ms % every_ms
        w = out.get((p.tags, start))
        if w is None:
            out[(p.tags, start)] = Window(
                p.tags, start, p.count, p.sum, p.min, p.max, p.last, p.last_ts_ms, p.last_at_ms
            )
            continue
        w.count += p.count
        w.sum += p.sum
        w.min, w.max = min(w.min, p.min), max(w.max, p.max)
        w.last_ts_ms = max(w.last_ts_ms, p.last_ts_ms)
        if p.last_at_ms >= w.last_at_ms:
            w.last, w.last_at_ms = p.last, p.last_at_ms
    return sorted(out.values(), key=lambda w: (w.start_ms, w.tags))
