"""The open data sets Vigie publishes: what each holds, its fields and units. Pure.

Every set is aggregated to a district and an hour (or a night): no device identifier leaves
the platform, and mobility counts below a threshold are suppressed so that no cell can single
out a person's trips. The metadata follows the Frictionless Data Package form used by
schema.data.gouv.fr (fields with type, unit and description; licence; update frequency).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigie.contracts.metrics import MetricKind, MetricSpec
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.localtime import DAY_MS, HOUR_MS, LocalClock

LICENCE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence version 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Table Schema type: datetime, string, number, integer, boolean
    unit: str
    description: str


@dataclass(frozen=True)
class Dataset:
    name: str
    vertical: str
    title: str
    description: str
    query: str  # InfluxQL; $territory, $from, $to, $grain, $windows (``windows_for``)
    fields: tuple[Field, ...]
    frequency: str = "daily"
    counts: str | None = None  # the field whose small values are suppressed


TIME = Field(
    "time", "datetime", "", "start of the period, local time with its UTC offset (ISO 8601)"
)
DISTRICT = Field("district", "string", "", "district of the territory")
SPAN = "\"territory\" = '$territory' AND time >= $from AND time < $to"

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "lighting-energy",
        "lighting",
        "Public lighting energy per district and hour",
        "Energy drawn by the public lighting of each district (line losses included), its "
        "burning hours, and the energy the same hours would have taken at full power.",
        'SELECT sum("attributed_wh") / 1000 AS "energy_kwh", sum("full_power_wh") / 1000 AS '
        f'"full_power_kwh", sum("burning_h") AS "burning_hours" FROM {at(M.ATTRIBUTION)} '
        f'WHERE {SPAN} GROUP BY time($grain), "district" fill(none)',
        (
            TIME,
            DISTRICT,
            Field("energy_kwh", "number", "kWh", "energy drawn by the district's lamps"),
            Field("full_power_kwh", "number", "kWh", "the same burning hours at full power"),
            Field("burning_hours", "number", "h", "lamp-hours of lighting"),
        ),
    ),
    Dataset(
        "water-night-flow",
        "water",
        "Night minimum flow per metered area",
        "The minimum flow of each district metered area between 02:00 and 05:00, its usual "
        "value over the previous clean nights, and their ratio (leak index).",
        'SELECT last("min_flow_m3h") AS "min_flow_m3h", last("baseline_m3h") AS "usual_m3h", '
        f'last("leak_index") AS "leak_index" FROM {at(M.NIGHT)} '
        f'WHERE {SPAN} GROUP BY time(1d), "district", "dma" fill(none)',
        (
            TIME,
            DISTRICT,
            Field("dma", "string", "", "district metered area"),
            Field("min_flow_m3h", "number", "m3/h", "night minimum flow"),
            Field("usual_m3h", "number", "m3/h", "usual night minimum (-1: not known yet)"),
            Field("leak_index", "number", "", "night minimum / usual (-1: not known yet)"),
        ),
    ),
    Dataset(
        "waste-filling",
        "waste",
        "Waste container filling per district and hour",
        "Mean and highest filling level of the district's containers.",
        'SELECT mean("last") AS "mean_fill_pct", max("max") AS "max_fill_pct" FROM '
        f"$windows WHERE {SPAN} AND \"metric\" = 'fill_pct' "
        'GROUP BY time($grain), "district" fill(none)',
        (
            TIME,
            DISTRICT,
            Field("mean_fill_pct", "number", "%", "mean filling level"),
            Field("max_fill_pct", "number", "%", "highest filling level"),
        ),
    ),
    Dataset(
        "mobility-counts",
        "mobility",
        "Road traffic counts per district and period",
        "Vehicles counted by the district's road counters over each period: the sum, over the "
        "hours each counter reported, of its count for the hour (its mean hourly flow), never "
        "extrapolated to hours without data; coverage is the share of counter-hours that had "
        "data. Every period of the export has its cell, empty when nothing was counted. Counts "
        "below the suppression threshold are left empty and flagged, so that no cell singles "
        "anyone out.",
        'SELECT mean("mean") AS "flow_vehh" FROM $windows WHERE '
        f"{SPAN} AND \"metric\" = 'traffic_flow_vehh' "
        'GROUP BY time(1h), "district", "device" fill(none)',
        (
            TIME,
            DISTRICT,
            Field("vehicles", "integer", "veh", "vehicles counted (empty: none, or suppressed)"),
            Field("counters", "integer", "", "road counters in the district"),
            Field("coverage", "number", "", "share of counter-hours with data (0 to 1)"),
            Field("suppressed", "boolean", "", "true when the count was below the threshold"),
        ),
        frequency="hourly",
        counts="vehicles",
    ),
    *(
        Dataset(
            f"{mode}-counts",
            "mobility",
            f"{mode.title()}s counted per district and period",
            f"{mode.title()}s counted by the district's counter channels over each period, every "
            "direction together; periods without a count are absent. Counts below the "
            "suppression threshold are left empty and flagged.",
            f'SELECT sum("sum") AS "{mode}s" FROM $windows WHERE {SPAN} AND '
            f'"metric" = \'{mode}s_count\' GROUP BY time($grain), "district" fill(none)',
            (
                TIME,
                DISTRICT,
                Field(f"{mode}s", "integer", f"{{{mode}}}", "counted (empty: suppressed)"),
                Field("suppressed", "boolean", "", "true when the count was below the threshold"),
            ),
            frequency="hourly",
            counts=f"{mode}s",
        )
        for mode in ("bicycle", "pedestrian")
    ),
)
# how a metric of the territory's catalogue is summed up over a period
_OVER_PERIOD = {
    MetricKind.GAUGE: "mean over the period",
    MetricKind.COUNT: "total over the period",
    MetricKind.INDEX: "last index of the period",
}


def catalogue_dataset(spec: MetricSpec) -> Dataset:
    """A data set for a metric the territory declared in its catalogue (``vigie.catalogue``):
    its value per district and period, combined as its kind says."""
    how, said = f'{spec.combine}("{spec.combine}")', _OVER_PERIOD[spec.kind]
    field = spec.name
    return Dataset(
        f"metric-{spec.name.replace('_', '-')}",
        str(spec.vertical),
        f"{spec.description} per district and period",
        f"{spec.description} ({spec.unit}), {said} of the district's sensors; declared in the "
        "territory's metric catalogue.",
        f'SELECT {how} AS "{field}" FROM $windows WHERE {SPAN} AND "metric" = \'{spec.name}\' '
        'GROUP BY time($grain), "district" fill(none)',
        (TIME, DISTRICT, Field(field, "number", spec.unit, said)),
        frequency="hourly",
    )


def windows_for(start_ms: int, minute_horizon_ms: int | None) -> str:
    """The windows a per-device data set reads over a period starting at ``start_ms``: the
    1-minute ones while the period is within their retention (``minute_horizon_ms``, the
    oldest time they still hold; None: kept for good), else the hourly ones InfluxDB rolled up
    from them, kept for good. Every export grain is whole hours, so counts, sums and maxima
    come out the same; a mean of the minutes' last levels becomes one of the hours' last."""
    if minute_horizon_ms is not None and start_ms < minute_horizon_ms:
        return at(M.AGG_1H)
    return at(M.AGG_1M)


def mobility_cells(
    rows: Iterable[Mapping[str, Any]],
    periods: Sequence[tuple[int, int]],
    counters: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Counter-hours (hour start, district, device, mean hourly flow) summed into a cell per
    period and district, every period present; the device column is dropped.

    ``counters``: how many road counters each district has (coverage is counted against
    them); a district with data but not listed counts the counters that reported."""
    starts = [p[0] for p in periods]
    cells: dict[tuple[int, str], list[float]] = defaultdict(list)
    seen: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.get("flow_vehh") is None:
            continue
        k = bisect.bisect_right(starts, int(row["time"])) - 1
        if k < 0 or int(row["time"]) >= periods[k][1]:
            continue
        cells[(k, row["district"])].append(float(row["flow_vehh"]))
        seen[row["district"]].add(row["device"])
    expected = {d: max(counters.get(d, 0), len(seen[d])) for d in {*counters, *seen}}
    out = []
    for k, (start, end) in enumerate(periods):
        hours = (end - start) / 3_600_000
        for district in sorted(expected):
            flows = cells.get((k, district), [])
            out.append(
                {
                    "time": start,
                    "district": district,
                    "vehicles": round(sum(flows)) if flows else None,
                    "counters": expected[district],
                    "coverage": round(len(flows) / (expected[district] * hours), 4),
                }
            )
    return out


def periods(start_ms: int, end_ms: int, grain: str, clock: LocalClock) -> list[tuple[int, int]]:
    """The export's periods: UTC hours for ``1h`` (labelled in local time, so a repeated
    autumn hour keeps its two offsets), local 3-hour blocks or local days otherwise (a day of
    the spring change lasts 23 hours, of the autumn one 25)."""
    if grain == "1h":
        first = start_ms - start_ms % HOUR_MS
        return [(t, t + HOUR_MS) for t in range(first, end_ms, HOUR_MS)]
    step = {"3h": 3 * HOUR_MS, "1d": DAY_MS}[grain]
    local = start_ms + clock.offset_at(start_ms)
    local -= local % step
    out: list[tuple[int, int]] = []
    while True:
        start = clock.utc_of_local(local, strict=False)
        end = clock.utc_of_local(local + step, strict=False)
        if start >= end_ms:
            return out
        if end > start:  # a block the spring change skipped has no length
            out.append((start, end))
        local += step


def suppress(rows: list[dict[str, Any]], field: str, threshold: int) -> list[dict[str, Any]]:
    """Rows with ``field`` below ``threshold`` keep their place but lose the value."""
    out = []
    for row in rows:
        small = row.get(field) is not None and row[field] < threshold
        out.append({**row, field: None if small else row[field], "suppressed": small})
    return out


def tidy(dataset: Dataset, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Only the data set's own fields, in its order; NaN as empty."""
    names = [f.name for f in dataset.fields]
    out = []
    for row in rows:
        clean = {}
        for name in names:
            value = row.get(name)
            if isinstance(value, float) and math.isnan(value):
                value = None
            clean[name] = value
        out.append(clean)
    return out


def metadata(
    datasets: Iterable[Dataset], territory: str, period: tuple[str, str], threshold: int
) -> dict[str, Any]:
    """A Frictionless Data Package describing the exported files."""
    return {
        "profile": "tabular-data-package",
        "name": f"vigie-{territory}",
        "title": f"Vigie - open data of {territory}",
        "description": (
            f"Aggregated sensor data of {territory} from {period[0]} to {period[1]}, by district "
            "and period; no device identifiers; mobility counts below "
            f"{threshold} suppressed."
        ),
        "licenses": [LICENCE],
        "temporal": {"start": period[0], "end": period[1]},
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": d.name,
                "path": f"{d.name}.csv",
                "title": d.title,
                "description": d.description,
                "format": "csv",
                "encoding": "utf-8",
                "update_frequency": d.frequency,
                "schema": {
                    "fields": [
                        {
                            "name": f.name,
                            "type": f.type,
                            "unit": f.unit,
                            "description": f.description,
                        }
                        for f in d.fields
                    ]
                },
            }
            for d in datasets
        ],
    }
