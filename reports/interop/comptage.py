"""Road counts on the national schema for mobility counts (``etalab/schema-comptage-mobilites``
on schema.data.gouv.fr, version kept in ``schemas/etalab/``): its three tables, ``site`` (where
a counter stands), ``channel`` (what it counts, since when, at which step) and ``measure``
(the count of each hour), with the schema's own field names and types.

A road counter's count for an hour is the mean of its 1-minute flows (vehicles per hour) over
that hour, on its one channel (every vehicle, both ways). A bicycle or pedestrian counter's
channels are assets of their own (one per direction), grouped by their ``counter_site``: each is
a channel with its mode (``BIKE``, ``PEDESTRIAN``) and direction, and its count for an hour is
the sum of what it counted. Counts under the privacy threshold are left empty, as the schema
allows. Building the
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
from vigie.contracts.registry import CHANNEL_KINDS, Asset, AssetKind, Territory
from vigie.sections import InfluxSettings

HOUR_MS = 3_600_000
TABLES = ("site", "channel", "measure")
Hourly = Mapping[str, Sequence[tuple[int, float]]]  # counter -> (hour start ms, vehicles)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def channel_id(counter: Asset | str) -> str:
    """A road counter's one channel (it counts every vehicle, both ways), or a bicycle or
    pedestrian counter's channel (the asset itself)."""
    if isinstance(counter, Asset) and counter.kind in CHANNEL_KINDS:
        return counter.id
    return f"{counter.id if isinstance(counter, Asset) else counter}-all"


def _channel(territory: Territory, asset: Asset, hours: Sequence[tuple[int, float]]) -> dict:
    mode = CHANNEL_KINDS[asset.kind][1] if asset.kind in CHANNEL_KINDS else "UNDEFINED"
    row = {
        "channel_id": channel_id(asset), "site_id": asset.site, "mobility_type": mode,
        "counter_transmission_type": "REMOTE TRANSMISSION", "data_provider_name":
        territory.name, "temporality": "PERMANENT", "started_at": _utc(min(hours)[0]),
        "last_updated_at": _utc(max(hours)[0] + HOUR_MS), "time_step": 3600,
    }  # fmt: skip
    if asset.direction:
        row["direction"] = asset.direction
    if asset.direction_name:
        row["provider_direction_name"] = asset.direction_name
    return row


def tables(
    territory: Territory, hourly: Hourly, min_count: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """The three tables for the counters that counted in the period."""
    kinds = (AssetKind.TRAFFIC_COUNTER, *CHANNEL_KINDS)
    counters = {a.id: a for a in territory.assets if a.kind in kinds}
    counted = sorted(c for c in hourly if c in counters and hourly[c])
    sites = {counters[c].site: counters[c] for c in reversed(counted)}  # a site's first channel
    site = [
        {"site_id": s, "site_name": f"{territory.name} - {a.district} - {s}",
         "xlong": round(a.lon, 6), "ylat": round(a.lat, 6)}
        for s, a in sorted(sites.items())
    ]  # fmt: skip
    channel = [_channel(territory, counters[c], hourly[c]) for c in counted]
    measure = [
        {"channel_id": channel_id(counters[c]), "counter_id": c, "start_datetime": _utc(start),
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
    rows = [
        *rows,
        *influxql.query(
            influx,
            f'SELECT sum("sum") AS "flow" FROM {windows} WHERE "territory" = \'{territory}\' '
            "AND (\"metric\" = 'bicycles_count' OR \"metric\" = 'pedestrians_count') AND "
            f'time >= {start_ms}ms AND time < {end_ms}ms GROUP BY time(1h), "device" fill(none)',
        ),
    ]
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
