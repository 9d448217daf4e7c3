"""Import a CSV of real sensor data into batches, with a column mapping; bad rows reported.

Wide format: one row per (time, device), one column per metric, e.g. the Paris permanent road
counters (``iu_ac;t_1h;q;k``: counter id, hour, flow veh/h, occupancy %). Every row that
cannot become readings is reported with its line number and why, never skipped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edge.batcher import Batcher, BatchPolicy
from simulators.simulation import Emitted
from vigie.contracts import METRICS, Asset


@dataclass(frozen=True)
class CsvMapping:
    """Which column holds what; ``device_template`` turns the cell into a device id."""

    time: str
    device: str
    values: dict[str, str]  # metric -> column
    time_format: str = "iso"  # iso | epoch_s | epoch_ms
    delimiter: str = ","
    device_template: str = "{}"


@dataclass(frozen=True, slots=True)
class CsvProblem:
    line: int
    reason: str


@dataclass
class CsvImport:
    emitted: list[Emitted] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)
    rows: int = 0
    readings: int = 0


def _time_ms(cell: str, fmt: str) -> int:
    if fmt == "epoch_s":
        return int(float(cell) * 1000)
    if fmt == "epoch_ms":
        return int(cell)
    parsed = dt.datetime.fromisoformat(cell.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {cell!r} has no time zone")
    return int(parsed.timestamp() * 1000)


def import_csv(
    path: Path,
    mapping: CsvMapping,
    registry: Mapping[str, Asset],
    policy: BatchPolicy | None = None,
) -> CsvImport:
    """Rows -> batches per device (sequence numbers from 0), in time order."""
    for metric in mapping.values:
        if metric not in METRICS:
            raise ValueError(
                f"unknown metric {metric!r} in the mapping; known: {', '.join(METRICS)}"
            )
    out = CsvImport()
    rows: list[tuple[int, str, list[tuple[str, float]]]] = []
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=mapping.delimiter)
        missing = {mapping.time, mapping.device, *mapping.values.values()} - set(
            reader.fieldnames or []
        )
        if missing:
            raise ValueError(
                f"{path}: no column {', '.join(sorted(missing))}; columns are "
                f"{', '.join(reader.fieldnames or [])}"
            )
        for line, row in enumerate(reader, start=2):
            out.rows += 1
            problem = _row(row, mapping, registry, rows)
            if problem:
                out.problems.append(CsvProblem(line, problem))
    batchers: dict[str, Batcher] = {}
    rows.sort(key=lambda r: r[0])
    for ts, device, readings in rows:
        batcher = batchers.setdefault(device, Batcher(device, policy or BatchPolicy()))
        for metric, value in readings:
            out.readings += 1
            batch = batcher.add(ts, metric, value, ts)
            if batch is not None:
                out.emitted.append(Emitted(ts, registry[device].vertical, batch))
    last = rows[-1][0] if rows else 0
    for device, batcher in batchers.items():
        batch = batcher.flush(last)
        if batch is not None:
            out.emitted.append(Emitted(last, registry[device].vertical, batch))
    return out


def _row(
    row: dict[str, str],
    mapping: CsvMapping,
    registry: Mapping[str, Asset],
    rows: list[tuple[int, str, list[tuple[str, float]]]],
) -> str | None:
    try:
        ts = _time_ms(row[mapping.time], mapping.time_format)
    except (ValueError, TypeError) as exc:
        return f"column {mapping.time}: {exc}"
    device = mapping.device_template.format((row[mapping.device] or "").strip())
    asset = registry.get(device)
    if asset is None:
        return f"device {device!r} is not in the registry"
    readings = []
    for metric, column in mapping.values.items():
        spec = METRICS[metric]
        cell = (row[column] or "").strip().replace(",", ".")
        if not cell:
            return f"column {column}: empty {metric}"
        try:
            value = float(cell)
        except ValueError:
            return f"column {column}: {cell!r} is not a number"
        if spec.vertical not in (None, asset.vertical):
            return f"{metric} is a {spec.vertical} metric, {device} is {asset.vertical}"
        if not spec.minimum <= value <= spec.maximum:
            return f"column {column}: {value} outside [{spec.minimum}, {spec.maximum}] {spec.unit}"
        readings.append((metric, value))
    rows.append((ts, device, readings))
    return None
