"""Writes the open data sets (CSV and JSON) and their data package from InfluxDB."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigie import influxql
from vigie.opendata.datasets import Dataset, metadata, mobility_cells, suppress, tidy
from vigie.sections import InfluxSettings

GRAINS_H = {"1h": 1.0, "3h": 3.0, "1d": 24.0}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows_of(
    influx: InfluxSettings,
    dataset: Dataset,
    territory: str,
    start_ms: int,
    end_ms: int,
    grain: str,
    threshold: int,
) -> list[dict[str, Any]]:
    query = (
        dataset.query.replace("$territory", territory)
        .replace("$from", f"{start_ms}ms")
        .replace("$to", f"{end_ms}ms")
        .replace("$grain", grain)
    )
    rows = influxql.query(influx, query)
    if dataset.counts:
        rows = suppress(mobility_cells(rows, GRAINS_H[grain]), dataset.counts, threshold)
    out = tidy(dataset, rows)
    for row in out:
        row["time"] = _iso(row["time"])
    return out


def export(
    influx: InfluxSettings,
    datasets: Sequence[Dataset],
    territory: str,
    start_ms: int,
    end_ms: int,
    out: Path,
    grain: str = "1h",
    threshold: int = 10,
) -> dict[str, int]:
    """Write ``<name>.csv``, ``<name>.json`` per data set and ``datapackage.json``; returns
    the number of rows per data set."""
    if grain not in GRAINS_H:
        raise ValueError(f"grain {grain!r}: one of {', '.join(GRAINS_H)}")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for dataset in datasets:
        rows = rows_of(influx, dataset, territory, start_ms, end_ms, grain, threshold)
        names = [f.name for f in dataset.fields]
        with (out / f"{dataset.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
        (out / f"{dataset.name}.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
        counts[dataset.name] = len(rows)
    package = metadata(datasets, territory, (_iso(start_ms), _iso(end_ms)), threshold)
    (out / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
    return counts
