"""Road counts on the national schema for mobility counts (``etalab/schema-comptage-mobilites``
on schema.data.gouv.fr, version kept in ``schemas/etalab/``): its three tables, ``site`` (where
a counter stands), ``channel`` (what it counts, since when, at which step) and ``measure``
(the count of each hour), with the schema's own field names and types.

A counter's count for an hour is the mean of its 1-minute flows (vehicles per hour) over that
hour; counts under the privacy threshold are left empty, as the schema allows. Building the
tables is pure; ``read_hourly`` and ``write`` do the I/O.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reports.interop.schemas import FOLDER
from reports.opendata.datasets import LICENCE, windows_for
from reports.opendata.export import minute_horizon
from vigie import influxql
from vigie.contracts.registry import AssetKind, Territory
from vigie.sections import InfluxSettings

HOUR_MS = 3_600_000
TABLES = ("site", "channel", "measure")
Hourly = Mapping[str, Sequence[tuple[int, float]]]  # counter -> (hour start ms, vehicles)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def channel_id(counter: str) -> str:
    """A counter's one channel: it counts every vehicle, both ways."""
    return f"{counter}-all"


def tables(
    territory: Territory, hourly: Hourly, min_count: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """The three tables for the counters that counted in the period."""
    counters = {a.id: a for a in territory.assets if a.kind is AssetKind.TRAFFIC_COUNTER}
    counted = sorted(c for c in hourly if c in counters and hourly[c])
    site = [
        {"site_id": c, "site_name": f"{territory.name} - {counters[c].district} - {c}",
         "xlong": round(counters[c].lon, 6), "ylat": round(counters[c].lat, 6)}
        for c in counted
    ]  # fmt: skip
    channel = [
        {"channel_id": channel_id(c), "site_id": c, "mobility_type": "UNDEFINED",
         "counter_transmission_type": "REMOTE TRANSMISSION", "data_provider_name":
         territory.name, "temporality": "PERMANENT", "started_at": _utc(min(hourly[c])[0]),
         "last_updated_at": _utc(max(hourly[c])[0] + HOUR_MS), "time_step": 3600}
        for c in counted
    ]  # fmt: skip
    measure = [
        {"channel_id": channel_id(c), "counter_id": c, "start_datetime": _utc(start),
         "end_datetime": _utc(start + HOUR_MS),
         "count": round(vehicles) if vehicles >= min_count else None}
        for c in counted
        for start, vehicles in sorted(hourly[c])
    ]  # fmt: skip
    return {"site": site, "channel": channel, "measure": measure}


def read_hourly(
    influx: InfluxSettings, territory: str, start_ms: int, end_ms: int
) -> dict[str, list[tuple[int, float]]]:
    """Each counter's hours in the period, with the vehicles counted in each (from the hourly
    windows once the period is past the 1-minute ones' retention)."""
    windows = windows_for(start_ms, minute_horizon(influx))
    rows = influxql.query(
        influx,
        f'SELECT mean("mean") AS "flow" FROM {windows} WHERE "territory" = \'{territory}\''
        f" AND \"metric\" = 'traffic_flow_vehh' AND time >= {start_ms}ms AND time < {end_ms}ms "
        'GROUP BY time(1h), "device" fill(none)',
    )
    out: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r.get("flow") is not None:
            out.setdefault(r["device"], []).append((int(r["time"]), float(r["flow"])))
    return out


def write(found: Mapping[str, list[dict[str, Any]]], out: Path) -> dict[str, int]:
    """``site.csv``, ``channel.csv``, ``measure.csv`` with the schemas they follow and a data
    package naming them; returns the rows per table."""
    out.mkdir(parents=True, exist_ok=True)
    resources = []
    for name in TABLES:
        schema = FOLDER / "etalab" / f"comptage-mobilites-{name}.json"
        fields = [f["name"] for f in json.loads(schema.read_text(encoding="utf-8"))["fields"]]
        with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(
                {k: ("" if v is None else v) for k, v in r.items()} for r in found[name]
            )
        shutil.copyfile(schema, out / f"{name}.schema.json")
        resources.append(
            {"name": name, "path": f"{name}.csv", "schema": f"{name}.schema.json",
             "format": "csv", "encoding": "utf-8"}
        )  # fmt: skip
    package = {
        "name": "comptage-mobilites",
        "title": "Comptages routiers (schéma national des comptages de mobilités)",
        "licenses": [LICENCE],
        "sources": [{"title": "schema-comptage-mobilites",
                     "path": "https://github.com/etalab/schema-comptage-mobilites"}],
        "resources": resources,
    }  # fmt: skip
    (out / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
    shutil.copyfile(FOLDER / "etalab" / "LICENSE.md", out / "SCHEMA-LICENSE.md")
    return {name: len(found[name]) for name in TABLES}
