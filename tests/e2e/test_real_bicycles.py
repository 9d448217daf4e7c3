"""End to end on real public data: seven weeks of a two-channel bicycle counter, the Fremont
Bridge in Seattle (``tests/data/seattle-fremont-bridge-2023-03-06-to-04-23.csv``, see
tests/data/README.md).

As a technical service would: the counting site's two channels become a registry (``vigie
registry import``), each channel's column is imported as history (``vigie replay``, naive
local times written ``03/06/2023 12:00:00 AM``), then every stored hour, the daily totals the
mobility dashboard shows and the national counting schema's tables are compared with an
independent reading of the file (the csv and zoneinfo modules, nothing of Vigie's). The hour
the spring change skips is listed with empty cells and is refused as a time that does not
exist; the 11-hour outage's empty cells are refused row by row; nothing else is lost.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboards.catalog import MOBILITY
from dashboards.spec import render
from tests.helpers import running_chain
from vigie import influxql
from vigie.contracts import Territory

pytestmark = pytest.mark.e2e
DATA = Path(__file__).parents[1] / "data" / "seattle-fremont-bridge-2023-03-06-to-04-23.csv"
ZONE = "America/Los_Angeles"
SITE = "Fremont Bridge Sidewalks, south of N 34th St"
CHANNELS = {  # device -> (its column, where its users head, the site's words)
    "fremont-west": (f"{SITE} Cyclist West Sidewalk", "N", "West sidewalk"),
    "fremont-east": (f"{SITE} Cyclist East Sidewalk", "S", "East sidewalk"),
}
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def _vigie(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "shell", *args]
    return subprocess.run(
        cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )


def _expected() -> tuple[dict[str, dict[int, int]], int, list[int]]:
    """Per channel, the count of each hour (UTC ms of its start); the rows; the lines of the
    local times that do not exist (skipped by the spring change)."""
    zone = ZoneInfo(ZONE)
    counts: dict[str, dict[int, int]] = {device: {} for device in CHANNELS}
    skipped = []
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for line, row in enumerate(rows, start=2):
        wall = dt.datetime.strptime(row["Date"], TIME_FORMAT)  # noqa: DTZ007  # naive: local
        aware = wall.replace(tzinfo=zone)
        there_and_back = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
        if there_and_back != wall:
            skipped.append(line)
            continue
        start_ms = int(aware.timestamp() * 1000)
        for device, (column, _, _) in CHANNELS.items():
            if row[column]:
                counts[device][start_ms] = int(row[column])
    return counts, len(rows), skipped


def _registry(tmp_path: Path, env: dict[str, str]) -> Path:
    inventory = tmp_path / "channels.csv"
    with inventory.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["channel", "site", "heading", "words", "lat", "lon"])
        for device, (_, heading, words) in CHANNELS.items():
            out.writerow([device, "Fremont Bridge", heading, words, "47.64767", "-122.34980"])
    registry = tmp_path / "seattle.json"
    made = _vigie(
        "registry", "import", str(inventory), "--into", str(registry),
        "--kind", "bicycle_counter", "--id", "channel", "--district-value", "fremont",
        "--lat", "lat", "--lon", "lon", "--counter-site", "site", "--direction", "heading",
        "--direction-name", "words", "--territory", "seattle", "--name", "Seattle",
        "--centre", "47.6062,-122.3321", "--timezone", ZONE,
        env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "2 bicycle_counter assets added (2 surveyed positions), 0 rows refused" in (
        " ".join(made.stderr.split())
    )
    return registry


def test_seven_weeks_of_a_real_bicycle_counter_imported_and_checked_against_the_file(
    settings, isolated, tmp_path
):
    counts, rows, skipped = _expected()
    assert len(skipped) == 1 and {len(c) for c in counts.values()} == {rows - 12}
    registry = _registry(tmp_path, isolated)
    territory = Territory.load(registry)
    assert {a.id: (a.site, a.direction) for a in territory.assets} == {
        "fremont-west": ("fremont-bridge", "N"),
        "fremont-east": ("fremont-bridge", "S"),
    }
    with running_chain(settings, isolated, tmp_path, territory) as chain:
        said = []
        for device, (column, _, _) in CHANNELS.items():
            done = _vigie(
                "replay", str(DATA), "--registry", str(registry), "--time", "Date",
                "--time-format", TIME_FORMAT, "--timezone", ZONE, "--device-value", device,
                "--value", f"bicycles_count={column}", "--wait", "120",
                env=isolated,
            )  # fmt: skip
            chain.check_alive()
            assert done.returncode == 0, done.stderr
            said.append(" ".join(done.stderr.split()))
    kept = rows - 12
    for text in said:
        assert f"{rows:,} rows read: {kept:,} values kept, 0 values and 12 whole rows refused" in (
            text
        )
        assert f"line {skipped[0]}:" in text and "does not exist" in text
        assert f"the platform stored {kept:,} of {kept:,} readings sent" in text
        assert "dead letters since the replay began: none" in text
        assert "gaps in imported history: 11 missing periods" in text, "the outage, visible"

    # every hour of each channel: one window holding the published count
    windows = influxql.query(
        settings.influx,
        'SELECT "count", "sum" FROM "minute"."agg_1m", "long"."agg_1m" WHERE '
        '"metric" = \'bicycles_count\' GROUP BY "device"',
    )
    stored: dict[str, dict[int, int]] = {device: {} for device in CHANNELS}
    for w in windows:
        assert w["count"] == 1, "one reading per hour, counted once"
        stored[w["device"]][int(w["time"])] = int(w["sum"])
    assert stored == counts, "every hour of each channel is the published count"

    # the dashboard's daily totals are local days of Seattle, both channels together
    panel = next(p for p in MOBILITY.panels if p.title == "Bicycles counted per day")
    query = render(panel.query, "seattle", time_filter="time >= 1677657600000ms", timezone=ZONE)
    per_day = {
        dt.datetime.fromtimestamp(int(r["time"]) / 1000, ZoneInfo(ZONE)).date(): r["sum"]
        for r in influxql.query(settings.influx, query)
        if r.get("sum") is not None
    }
    expected_days: Counter[dt.date] = Counter()
    for hours in counts.values():
        for start_ms, n in hours.items():
            expected_days[dt.datetime.fromtimestamp(start_ms / 1000, ZoneInfo(ZONE)).date()] += n
    assert per_day == dict(expected_days), "each local day's total, the spring day included"

    # the national counting schema: one site, two BIKE channels with their directions
    from frictionless import validate

    from reports.interop.comptage import read_hourly, tables, write

    start, end = min(counts["fremont-west"]), max(counts["fremont-west"]) + 3_600_000
    hourly = read_hourly(settings.influx, "seattle", start, end)
    national = tmp_path / "comptage-mobilites"
    written = write(tables(territory, hourly, 10), national)
    assert written == {"site": 1, "channel": 2, "measure": 2 * kept}
    report = validate(national / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    with (national / "channel.csv").open() as f:
        channels = {r["channel_id"]: r for r in csv.DictReader(f)}
    assert {c: (r["mobility_type"], r["direction"]) for c, r in channels.items()} == {
        "fremont-west": ("BIKE", "N"),
        "fremont-east": ("BIKE", "S"),
    }
    with (national / "measure.csv").open() as f:
        published = Counter()
        for r in csv.DictReader(f):
            published[r["channel_id"]] += int(r["count"] or 0)
    assert published == {
        d: sum(n for n in hours.values() if n >= 10) for d, hours in counts.items()
    }, "each channel's hours on the national schema, small counts left empty"
