"""Import a CSV of real sensor data into history batches, with a column mapping. Pure but for
reading the file.

Wide format: one row per (time, device), one column per metric, e.g. the Paris permanent road
counters (``iu_ac;t_1h;q;k``: counter id, hour, flow veh/h, occupancy %).

- **Per value**: an empty or bad cell rejects that value only, reported with its line, column
  and why; the row's other values are kept. A row whose time or device is unusable is
  rejected whole, reported the same way. Nothing is skipped silently.
- **Local time**: timestamps with an offset are taken as they are; naive ones need the
  territory's time zone (``timezone``), and a local time that a daylight-saving change skips
  is reported, never guessed. One it repeats (the autumn change's hour) is reported too,
  unless ``repeated`` says which of the two the file means: ``first`` (still summer time:
  a file of hourly counts that lists the hour once, for the hour before the change; the
  hour after shows as a gap) or ``second``. Timestamps are ISO 8601, epoch seconds or
  milliseconds, or any ``strptime`` pattern (``%m/%d/%Y %I:%M:%S %p`` for
  ``01/01/2023 12:00:00 AM``).
- **One device per file**: a counter's own export has no device column; ``device_value``
  names its device for every row.
- **Gaps survive**: a device's batches are numbered by their period since 1970 (its reading
  period, given or inferred as the shortest step between its rows), so a missing hour is a
  missing sequence number on the platform's history fleet view, and importing the same file
  twice gives the same numbers (repeats are recognised downstream).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from simulators.simulation import Emitted
from vigie.contracts import METRICS, Asset, Reading, TelemetryBatch
from vigie.localtime import LocalClock, LocalTimeError

DEFAULT_PERIOD_S = 3600


@dataclass(frozen=True)
class CsvMapping:
    """Which column holds what; ``device_template`` turns the cell into a device id."""

    time: str
    device: str | None  # column; None: ``device_value`` for every row
    values: dict[str, str]  # metric -> column
    time_format: str = "iso"  # iso | epoch_s | epoch_ms | a strptime pattern (with %)
    delimiter: str = ","
    device_template: str = "{}"
    timezone: str | None = None  # IANA zone for naive timestamps
    period_s: int | None = None  # each device's reading period; None: inferred
    device_value: str | None = None  # the one device of a file without a device column
    repeated: str = "refuse"  # the autumn change's repeated local times: refuse|first|second


@dataclass(frozen=True, slots=True)
class CsvProblem:
    line: int
    reason: str
    column: str | None = None  # None: the whole row

    def __str__(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return f"line {self.line}: {where}{self.reason}"


@dataclass
class CsvImport:
    emitted: list[Emitted] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)
    rows: int = 0
    readings: int = 0
    rows_rejected: int = 0  # rows with nothing kept
    values_rejected: int = 0  # cells refused in rows otherwise usable
    span_ms: tuple[int, int] | None = None  # first and last reading kept


def _time_ms(cell: str, fmt: str, clock: LocalClock | None, repeated: str = "refuse") -> int:
    if fmt == "epoch_s":
        return int(float(cell) * 1000)
    if fmt == "epoch_ms":
        return int(cell)
    if "%" in fmt:
        parsed = dt.datetime.strptime(cell.strip(), fmt)  # noqa: DTZ007  # naive: resolved below
    else:
        parsed = dt.datetime.fromisoformat(cell.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        if clock is None:
            raise ValueError(f"{cell!r} has no UTC offset: give the territory's --timezone")
        parsed = _local(parsed, clock, repeated)
    return int(parsed.timestamp() * 1000)


def _local(wall: dt.datetime, clock: LocalClock, repeated: str) -> dt.datetime:
    """A naive local time made aware; a repeated one by the file's rule (``repeated``)."""
    try:
        return clock.resolve(wall)
    except LocalTimeError as exc:
        if repeated == "refuse" or "twice" not in str(exc):
            raise
        return wall.replace(tzinfo=clock.zone, fold=0 if repeated == "first" else 1)


def import_csv(path: Path, mapping: CsvMapping, registry: Mapping[str, Asset]) -> CsvImport:
    """Rows -> one history batch per device and period, in time order."""
    if (mapping.device is None) == (mapping.device_value is None):
        raise ValueError("give the device's column or the one device of the file, not both")
    if mapping.repeated not in ("refuse", "first", "second"):
        raise ValueError(f"repeated local times: refuse, first or second, not {mapping.repeated!r}")
    for metric in mapping.values:
        if metric not in METRICS:
            raise ValueError(
                f"unknown metric {metric!r} in the mapping; known: {', '.join(METRICS)}"
            )
    clock = LocalClock(mapping.timezone) if mapping.timezone else None
    out = CsvImport()
    kept: dict[str, list[tuple[int, list[tuple[str, float]]]]] = defaultdict(list)
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=mapping.delimiter)
        wanted = {mapping.time, *mapping.values.values()} | (
            {mapping.device} if mapping.device else set()
        )
        missing = wanted - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path}: no column {', '.join(sorted(missing))}; columns are "
                f"{', '.join(reader.fieldnames or [])}"
            )
        for line, row in enumerate(reader, start=2):
            out.rows += 1
            before = len(out.problems)
            found = _row(line, row, mapping, registry, clock, out.problems)
            if found is None:
                out.rows_rejected += 1
            else:
                out.values_rejected += len(out.problems) - before
                kept[found[1]].append((found[0], found[2]))
    for device, rows in sorted(kept.items()):
        out.emitted += _batches(device, rows, mapping.period_s, registry[device])
    out.emitted.sort(key=lambda e: (e.sim_ms, e.batch.device_id))
    out.readings = sum(len(e.batch.readings) for e in out.emitted)
    stamps = [r["ts_ms"] for e in out.emitted for r in e.batch.readings]
    out.span_ms = (min(stamps), max(stamps)) if stamps else None
    return out


def period_of(stamps: list[int]) -> int:
    """A device's reading period (ms): the shortest step between distinct timestamps."""
    distinct = sorted(set(stamps))
    steps = [b - a for a, b in itertools.pairwise(distinct)]
    return min(steps) if steps else DEFAULT_PERIOD_S * 1000


def _batches(
    device: str,
    rows: list[tuple[int, list[tuple[str, float]]]],
    period_s: int | None,
    asset: Asset,
) -> list[Emitted]:
    period = period_s * 1000 if period_s else period_of([ts for ts, _ in rows])
    slots: dict[int, list[Reading]] = defaultdict(list)
    for ts, readings in rows:
        slots[ts // period] += [Reading(ts_ms=ts, metric=m, value=v) for m, v in readings]
    out = []
    for seq, slot in sorted(slots.items()):
        last = max(r["ts_ms"] for r in slot)
        batch = TelemetryBatch(device_id=device, seq=seq, sent_at_ms=last, readings=slot)
        out.append(Emitted(last, asset.vertical, batch))
    return out


def _row(
    line: int,
    row: dict[str, str],
    mapping: CsvMapping,
    registry: Mapping[str, Asset],
    clock: LocalClock | None,
    problems: list[CsvProblem],
) -> tuple[int, str, list[tuple[str, float]]] | None:
    """(time, device, the row's valid readings), or None when nothing of it can be kept;
    every value or row refused is added to ``problems``."""
    try:
        ts = _time_ms(row[mapping.time] or "", mapping.time_format, clock, mapping.repeated)
    except (ValueError, TypeError, LocalTimeError) as exc:
        problems.append(CsvProblem(line, str(exc), mapping.time))
        return None
    cell = mapping.device_value if mapping.device is None else row[mapping.device]
    device = mapping.device_template.format((cell or "").strip())
    asset = registry.get(device)
    if asset is None:
        problems.append(CsvProblem(line, f"device {device!r} is not in the registry"))
        return None
    readings = []
    for metric, column in mapping.values.items():
        problem = _value_problem(row[column], metric, asset)
        if isinstance(problem, str):
            problems.append(CsvProblem(line, problem, column))
        else:
            readings.append((metric, problem))
    return (ts, device, readings) if readings else None


def _value_problem(raw: str | None, metric: str, asset: Asset) -> str | float:
    """The cell's value, or why it cannot be kept."""
    spec = METRICS[metric]
    cell = (raw or "").strip().replace(",", ".")
    if not cell:
        return f"empty {metric}"
    try:
        value = float(cell)
    except ValueError:
        return f"{cell!r} is not a number"
    if spec.vertical not in (None, asset.vertical):
        return f"{metric} is a {spec.vertical} metric, {asset.id} is {asset.vertical}"
    if not spec.minimum <= value <= spec.maximum:
        return f"{value} outside [{spec.minimum}, {spec.maximum}] {spec.unit}"
    return value
