"""End to end on real public data: one hour of the City of Paris's permanent road counters
(``tests/data/paris-comptages-routiers-2026-06-21T00.csv``, ODbL, see tests/data/README.md).

With the README's commands, as a technical service would: the counter list becomes a registry
(``vigie registry import``), the hour is imported as history through the real chain
(``vigie replay``), then every stored aggregate, traffic state and open-data cell is compared
with an independent computation from the file (the csv module, nothing of Vigie's). Half the
counters have no flow that hour and some no occupancy: each empty cell is refused alone, the
row's other value kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards.catalog import MOBILITY
from dashboards.spec import render
from reports.opendata.datasets import DATASETS
from reports.opendata.export import export
from tests.helpers import running_chain
from vigie import influxql
from vigie.contracts import Territory
from vigie.localtime import LocalClock

pytestmark = pytest.mark.e2e
DATA = Path(__file__).parents[1] / "data" / "paris-comptages-routiers-2026-06-21T00.csv"
STATES = ((15.0, 0), (30.0, 1), (50.0, 2))  # the Paris thresholds: fluid, dense, saturated


def _vigie(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "shell", *args]
    return subprocess.run(
        cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )


def _expected() -> tuple[dict[str, float], dict[str, float], int]:
    """Per counter: flow and occupancy published that hour (empty cells left out), and rows."""
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    flows = {f"paris-{r['iu_ac']}": float(r["q"]) for r in rows if r["q"]}
    occupancy = {f"paris-{r['iu_ac']}": float(r["k"]) for r in rows if r["k"]}
    return flows, occupancy, len(rows)


def _state(k: float) -> int:
    return next((s for limit, s in STATES if k < limit), 3)


def test_an_hour_of_paris_counters_imported_and_checked_against_the_file(
    settings, isolated, tmp_path
):
    flows, occupancy, rows = _expected()
    registry = tmp_path / "paris.json"
    made = _vigie(
        "registry", "import", str(DATA), "--into", str(registry), "--kind", "traffic_counter",
        "--id", "iu_ac", "--id-template", "paris-{}", "--district-value", "paris",
        "--lat", "lat", "--lon", "lon", "--delimiter", ";", "--territory", "paris",
        "--name", "Paris", "--centre", "48.8566,2.3522",
        env=isolated,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "100 traffic_counter assets added (100 surveyed positions), 0 rows refused" in (
        " ".join(made.stderr.split())
    )
    territory = Territory.load(registry)
    with running_chain(settings, isolated, tmp_path, territory) as chain:
        done = _vigie(
            "replay", str(DATA), "--registry", str(registry), "--time", "t_1h",
            "--device", "iu_ac", "--device-template", "paris-{}", "--delimiter", ";",
            "--value", "traffic_flow_vehh=q", "--value", "occupancy_pct=k", "--wait", "90",
            env=isolated,
        )  # fmt: skip
        chain.check_alive()
    said = " ".join(done.stderr.split())
    assert done.returncode == 0, done.stderr
    kept = len(flows) + len(occupancy)
    empty_rows = rows - len(set(flows) | set(occupancy))
    refused_values = 2 * rows - kept - 2 * empty_rows
    assert (
        f"{rows} rows read: {kept} values kept, {refused_values} values and {empty_rows} whole "
        "rows refused"
    ) in said
    assert f"the platform stored {kept} of {kept} readings sent" in said
    # one reading per counter and metric in the hour: as many hourly and daily windows
    assert (
        f"rolled up 1 day of history: InfluxDB holds {kept} hourly and {kept} daily windows"
    ) in said

    windows = influxql.query(
        settings.influx,
        'SELECT "count", "sum" FROM "minute"."agg_1m" GROUP BY "device", "metric"',
    )
    stored = {(w["device"], w["metric"]): (w["count"], w["sum"]) for w in windows}
    assert stored == {
        **{(d, "traffic_flow_vehh"): (1, v) for d, v in flows.items()},
        **{(d, "occupancy_pct"): (1, v) for d, v in occupancy.items()},
    }, "every 1-minute aggregate is the published value"
    states = influxql.query(
        settings.influx, 'SELECT "state" FROM "long"."road_state" GROUP BY "device"'
    )
    assert {s["device"]: s["state"] for s in states} == {
        d: _state(k) for d, k in occupancy.items()
    }, "each counter's traffic state from its occupancy, with the Paris thresholds"
    local_midnight = (dt.date(2026, 6, 21) - dt.date(1970, 1, 1)).days * 86_400_000
    start = LocalClock("Europe/Paris").utc_of_local(local_midnight)  # the file's hour
    export(
        settings.influx,
        [d for d in DATASETS if d.vertical == "mobility"],
        "paris",
        start,
        start + 3_600_000,
        tmp_path / "opendata",
        "1h",
        10,
        LocalClock("Europe/Paris"),
        {"paris": len(territory.assets)},
    )
    with (tmp_path / "opendata" / "mobility-counts.csv").open() as f:
        (cell,) = list(csv.DictReader(f))
    assert cell["time"] == "2026-06-21T00:00:00+02:00"
    assert int(cell["vehicles"]) == round(sum(flows.values()))
    assert float(cell["coverage"]) == round(len(flows) / 100, 4)
    # the same hour on the national schema for mobility counts, valid against the kept schema
    from frictionless import validate

    from reports.interop.comptage import read_hourly, tables, write

    national = tmp_path / "opendata" / "comptage-mobilites"
    hourly = read_hourly(settings.influx, "paris", start, start + 3_600_000)
    written = write(tables(territory, hourly, 10), national)
    report = validate(national / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    assert written == {"site": len(flows), "channel": len(flows), "measure": len(flows)}
    with (national / "measure.csv").open() as f:
        counted = {r["counter_id"]: r["count"] for r in csv.DictReader(f)}
    assert counted == {d: str(round(v)) if v >= 10 else "" for d, v in flows.items()}, (
        "each counter's published count, small counts left empty"
    )
    # the mobility dashboard says how many counters its district sums cover
    panel = next(p for p in MOBILITY.panels if p.title.startswith("Counters reporting"))
    reporting = influxql.query(settings.influx, render(panel.query, "paris", since="1000d"))
    assert {r["count"] for r in reporting if r["count"]} == {len(flows)}
    assert len([r for r in reporting if r["count"]]) == 4  # the hour, seen every 15 minutes
