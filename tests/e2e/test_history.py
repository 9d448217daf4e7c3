"""End to end: a CSV of road counts, weeks old, imported as history through the real chain
with the README's own command (``vigie replay``), and the platform's answer checked.

The file holds hourly counts of two counters over 40 days ago and 2 days ago, with a missing
hour, an empty cell and an unknown counter. History goes to each device's backfill channel:
no age limit at the bridge, raw readings older than the raw retention kept in the long
retention policy instead of dropped by InfluxDB, every 1-minute window equal to the file's
value, a missing hour counted on the history fleet view, and the command's last words are
what InfluxDB holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.helpers import running_chain
from vigie import influxql
from vigie.contracts import Asset, AssetKind, District, Territory

pytestmark = pytest.mark.e2e

HOUR = 3_600_000
T = Territory(
    id="lyon",
    name="Lyon",
    lat=45.76,
    lon=4.84,
    timezone="Europe/Paris",
    districts=[District(id="part-dieu", name="Part-Dieu")],
    assets=[
        Asset(
            id=f"counter-{n}",
            kind=AssetKind.TRAFFIC_COUNTER,
            district="part-dieu",
            lat=45.76,
            lon=4.86,
        )
        for n in (1, 2)
    ],
)


def _csv(now_ms: int) -> tuple[str, dict[tuple[str, int], float], int, int]:
    """The file, the values it holds that are valid ((device, ts) -> flow), its rows, and the
    hours missing from it (between its two periods, and counter 2's missing hours)."""
    old = (now_ms - 40 * 86_400_000) // HOUR * HOUR
    recent = (now_ms - 2 * 86_400_000) // HOUR * HOUR
    rows, valid = ["id;hour;flow;occupancy"], {}
    for start in (old, recent):
        for h in range(6):
            ts = start + h * HOUR
            for n in (1, 2):
                if n == 2 and h == 3:
                    continue  # counter 2 missed an hour
                flow = float(100 * n + h)
                cell = "" if (n == 1 and h == 4) else f"{flow}"
                rows.append(f"{n};{ts // 1000};{cell};{5 + h}")
                if cell:
                    valid[(f"counter-{n}", ts)] = flow
    rows.append(f"9;{recent // 1000};50;5")  # not in the registry
    between = (recent - old) // HOUR - 6
    return "\n".join(rows) + "\n", valid, len(rows) - 1, 2 * between + 2


def _files(tmp_path, text: str):  # type: ignore[no-untyped-def]
    """The CSV and the registry, written where the command reads them."""
    source, registry = tmp_path / "counts.csv", tmp_path / "registry.json"
    source.write_text(text)
    T.save(registry)
    return source, registry


def _replay(source, registry, *more_values: str) -> list[str]:  # type: ignore[no-untyped-def]
    """``vigie replay`` of the file, its flows (and ``more_values``) as history."""
    values = [x for v in ("traffic_flow_vehh=flow", *more_values) for x in ("--value", v)]
    return [
        *(sys.executable, "-m", "shell", "replay", str(source), "--registry", str(registry)),
        *("--time", "hour", "--time-format", "epoch_s", "--device", "id"),
        *("--device-template", "counter-{}", "--delimiter", ";", "--wait", "90"),
        *values,
    ]


def test_weeks_old_history_is_stored_whole_with_its_gaps_and_reported(settings, isolated, tmp_path):
    now_ms = int(time.time() * 1000)
    text, valid, n_rows, gaps = _csv(now_ms)
    source, registry = _files(tmp_path, text)
    with running_chain(settings, isolated, tmp_path, T) as chain:
        cmd = _replay(source, registry, "occupancy_pct=occupancy")
        env = {**os.environ, **isolated}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        chain.check_alive()
    said = done.stderr
    assert done.returncode == 0, said
    counted = text.splitlines()[1:]
    readings = len(valid) + sum(1 for line in counted if line.startswith(("1;", "2;")))
    assert f"{n_rows:,} rows read: {readings:,} values kept, 2 values and 1 whole rows" in said
    assert f"the platform stored {readings:,} of {readings:,} readings sent" in said
    assert f"gaps in imported history: {gaps:,} missing periods" in said, said

    def flows(rp: str) -> dict[tuple[str, int], float]:
        rows = influxql.query(
            settings.influx,
            f'SELECT "value" FROM "{rp}"."telemetry" WHERE "metric" = \'traffic_flow_vehh\' '
            'GROUP BY "device"',
        )
        return {(r["device"], int(r["time"])): float(r["value"]) for r in rows}

    raw, kept = flows("raw"), flows("long")
    cutoff = now_ms - 7 * 86_400_000
    assert raw == {k: v for k, v in valid.items() if k[1] >= cutoff}, "recent history: raw"
    assert kept == {k: v for k, v in valid.items() if k[1] < cutoff}, "older: long, not dropped"
    windows = influxql.query(
        settings.influx,
        'SELECT "count", "sum" FROM "minute"."agg_1m" WHERE "metric" = \'traffic_flow_vehh\' '
        'GROUP BY "device"',
    )
    assert {(w["device"], int(w["time"])): (w["count"], w["sum"]) for w in windows} == {
        k: (1, v) for k, v in valid.items()
    }, "every 1-minute window holds its hour's count"
    # the hours and days of the history, rolled up: InfluxDB's continuous queries never ran
    # over them, and they are all that is left of it once the 1-minute windows expire
    hours = influxql.query(
        settings.influx,
        'SELECT "count", "sum" FROM "long"."agg_1h" WHERE "metric" = \'traffic_flow_vehh\' '
        'GROUP BY "device"',
    )
    assert {(w["device"], int(w["time"])): (w["count"], w["sum"]) for w in hours} == {
        k: (1, v) for k, v in valid.items()
    }, "every hour of the file, rolled up"
    days: dict[tuple[str, int], float] = {}
    for (device, ts), v in valid.items():
        days[(device, ts - ts % 86_400_000)] = days.get((device, ts - ts % 86_400_000), 0) + v
    rolled = influxql.query(
        settings.influx,
        'SELECT "sum" FROM "long"."agg_1d" WHERE "metric" = \'traffic_flow_vehh\' '
        'GROUP BY "device"',
    )
    assert {(w["device"], int(w["time"])): w["sum"] for w in rolled} == pytest.approx(days)
    n_days = len({ts - ts % 86_400_000 for _, ts in valid})
    assert f"rolled up {n_days:,} days of history: InfluxDB holds" in said, said
    assert f"holds {readings:,} hourly and" in said, said  # one reading per window
    hops = influxql.query(
        settings.influx,
        'SELECT "count", "sum" FROM "long"."agg_hop_1h" WHERE "metric" = \'traffic_flow_vehh\' '
        'GROUP BY "device"',
    )
    assert hops
    for w in hops:  # a point at t holds the hour before t: "the last hour"
        held = [
            v
            for (d, ts), v in valid.items()
            if d == w["device"] and w["time"] - HOUR <= ts < w["time"]
        ]
        assert (w["count"], w["sum"]) == (len(held), sum(held)), w
    late = influxql.scalar(settings.influx, 'SELECT count("value") FROM "long"."late"')
    assert late == 0
    refused = influxql.query(
        settings.influx, 'SELECT sum("count") FROM "long"."dead_letters" GROUP BY "reason"'
    )
    assert refused == [], "no reading of the file became a dead letter"
    live = influxql.query(settings.influx, 'SELECT count("missing_seq") FROM "minute"."fleet"')
    assert live == [], "history does not touch the devices' live sequence"


def test_the_same_history_imported_twice_is_counted_once(settings, isolated, tmp_path):
    """Batches are numbered by hour: a second import repeats numbers the worker has seen."""
    text, valid, _, _ = _csv(int(time.time() * 1000))
    source, registry = _files(tmp_path, text)
    cmd = _replay(source, registry)
    env = {**os.environ, **isolated}
    with running_chain(settings, isolated, tmp_path, T) as chain:
        for _ in range(2):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        chain.check_alive()
    total = influxql.scalar(
        settings.influx,
        'SELECT sum("count") FROM "minute"."agg_1m" WHERE "metric" = \'traffic_flow_vehh\'',
    )
    assert total == len(valid)
