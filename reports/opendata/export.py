"""Writes the open data sets (CSV and JSON) and their data package from InfluxDB.

Periods follow the territory's local calendar (``vigie.localtime``): days start at local
midnight, InfluxQL groups in the territory's time zone, and times are written in local time
with their UTC offset.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.opendata.datasets import (
    Dataset,
    metadata,
    mobility_cells,
    periods,
    suppress,
    tidy,
    windows_for,
)
from vigie import influxql
from vigie.localtime import LocalClock
from vigie.sections import InfluxSettings, retention_seconds

GRAINS = ("1h", "3h", "1d")


def _iso(ms: int, clock: LocalClock) -> str:
    return datetime.fromtimestamp(ms / 1000, clock.zone).isoformat(timespec="seconds")


def rows_of(
    influx: InfluxSettings,
    dataset: Dataset,
    territory: str,
    span: tuple[int, int],
    grain: str,
    threshold: int,
    clock: LocalClock,
    counters: Mapping[str, int] | None = None,
    windows: str = "",
) -> list[dict[str, Any]]:
    """One data set's rows over [start, end), in the territory's calendar, reading
    ``windows`` (by default, those ``minute_horizon`` says hold the period)."""
    windows = windows or windows_for(span[0], minute_horizon(influx))
    query = (
        dataset.query.replace("$territory", territory)
        .replace("$windows", windows)
        .replace("$from", f"{span[0]}ms")
        .replace("$to", f"{span[1]}ms")
        .replace("$grain", grain)
    ) + f" tz('{clock.timezone}')"
    rows = influxql.query(influx, query)
    if dataset.counts == "vehicles":  # road counters' flows: every cell, with its coverage
        cells = mobility_cells(rows, periods(*span, grain, clock), counters or {})
        rows = suppress(cells, dataset.counts, threshold)
    elif dataset.counts:  # counts per period (bicycles, pedestrians): whole numbers
        field = dataset.counts
        whole = [{**r, field: None if r.get(field) is None else round(r[field])} for r in rows]
        rows = suppress(whole, field, threshold)
    out = tidy(dataset, rows)
    for row in out:
        row["time"] = _iso(row["time"], clock)
    return out


def minute_horizon(influx: InfluxSettings, now_ms: int | None = None) -> int | None:
    """The oldest time the 1-minute windows still hold (None: kept for good)."""
    keep_s = retention_seconds(influx.minute_retention)
    if not keep_s:
        return None
    return (int(time.time() * 1000) if now_ms is None else now_ms) - keep_s * 1000


def export(
    influx: InfluxSettings,
    datasets: Sequence[Dataset],
    territory: str,
    start_ms: int,
    end_ms: int,
    out: Path,
    grain: str = "1h",
    threshold: int = 10,
    clock: LocalClock | None = None,
    counters: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Write ``<name>.csv``, ``<name>.json`` per data set and ``datapackage.json``; returns
    the number of rows per data set. ``counters``: road counters per district (from the
    registry), against which mobility coverage is counted."""
    if grain not in GRAINS:
        raise ValueError(f"grain {grain!r}: one of {', '.join(GRAINS)}")
    clock = clock or LocalClock()
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for dataset in datasets:
        rows = rows_of(
            influx, dataset, territory, (start_ms, end_ms), grain, threshold, clock, counters
        )
        names = [f.name for f in dataset.fields]
        with (out / f"{dataset.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
        (out / f"{dataset.name}.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
        counts[dataset.name] = len(rows)
    package = metadata(datasets, territory, (_iso(start_ms, clock), _iso(end_ms, clock)), threshold)
    (out / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
    return counts
