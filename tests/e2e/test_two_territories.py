"""End to end: one bridge and one worker serve two territories at once, with the same device
ids, their own registries and time zones, and no cross-talk.

``nord`` (Europe/Paris) and ``sud`` (America/Cayenne, UTC-3) each have a road counter called
``ctr-1`` and a lamp ``lamp-1``; a third territory, ``ouest``, has no registry. Each counter's
windows, sequence marks and traffic states are stored under its own territory, the ``ouest``
batch is a dead letter, and the open-data export of each territory holds only its counts,
in its own local time.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time

import pytest

from reports.opendata.datasets import DATASETS
from reports.opendata.export import export
from shell.stack.components import Components
from tests.helpers import counter_territory, wait_for_count
from vigie import influxql
from vigie.localtime import LocalClock
from vigie.mqtt import connect, make_client

pytestmark = pytest.mark.e2e
HOUR = 3_600_000


_territory = counter_territory


def test_two_territories_one_bridge_one_worker_no_cross_talk(settings, isolated, tmp_path):
    folder = tmp_path / "registries"
    folder.mkdir()
    nord, sud = _territory("nord", "Europe/Paris"), _territory("sud", "America/Cayenne")
    for t in (nord, sud):
        t.save(folder / f"{t.id}.json")
    env = {**isolated, "VIGIE_REGISTRY": str(folder), "VIGIE_TERRITORY": "nord"}
    comps = Components(tmp_path, settings, env)
    hour = (int(time.time() * 1000) // HOUR - 2) * HOUR
    flows = {"nord": [400.0, 420.0], "sud": [30.0, 35.0, 40.0]}
    client = make_client(settings.mqtt, "two-territories")
    try:
        comps.start_streams()
        comps.start_ingest()
        connect(client, settings.mqtt)
        client.loop_start()
        for tid in ("nord", "sud", "ouest"):
            values = flows.get(tid, [1.0])
            batch = {
                "v": 1,
                "device_id": "ctr-1",
                "seq": 0,
                "sent_at_ms": hour,
                "readings": [
                    {"ts_ms": hour + i * 60_000, "metric": "traffic_flow_vehh", "value": v}
                    for i, v in enumerate(values)
                ]
                + [{"ts_ms": hour, "metric": "occupancy_pct", "value": 20.0}],
            }
            topic = f"{settings.mqtt.prefix}/{tid}/mobility/ctr-1/telemetry"
            client.publish(topic, json.dumps(batch).encode(), qos=1).wait_for_publish(10)
        expected = sum(len(v) + 1 for v in flows.values())
        assert wait_for_count(settings, expected, comps) == expected
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not influxql.query(
            settings.influx, 'SELECT count("count") FROM "long"."dead_letters"'
        ):
            time.sleep(0.5)
        comps.check_alive()
    finally:
        client.disconnect()
        client.loop_stop()
        comps.stop_all()

    windows = influxql.query(
        settings.influx,
        'SELECT sum("count") AS n, sum("sum") AS s FROM "minute"."agg_1m" '
        'WHERE "metric" = \'traffic_flow_vehh\' GROUP BY "territory"',
    )
    assert {w["territory"]: (w["n"], w["s"]) for w in windows} == {
        t: (len(v), sum(v)) for t, v in flows.items()
    }, "each territory's counter counted alone"
    fleet = influxql.query(
        settings.influx, 'SELECT last("last_seq") FROM "minute"."fleet" GROUP BY "territory"'
    )
    assert {f["territory"] for f in fleet} == {"nord", "sud"}
    letters = influxql.query(
        settings.influx, 'SELECT sum("count") FROM "long"."dead_letters" GROUP BY "territory"'
    )
    assert [(r["territory"], r["sum"]) for r in letters] == [("ouest", 1)]
    for t in (nord, sud):
        clock = LocalClock(t.timezone)
        out = tmp_path / t.id
        export(
            settings.influx,
            [d for d in DATASETS if d.vertical == "mobility"],
            t.id,
            hour,
            hour + HOUR,
            out,
            "1h",
            0,
            clock,
            {"centre": 1},
        )
        with (out / "mobility-counts.csv").open() as f:
            (cell,) = list(csv.DictReader(f))
        assert int(cell["vehicles"]) == round(sum(flows[t.id]) / len(flows[t.id]))
        local = dt.datetime.fromtimestamp(hour / 1000, clock.zone).isoformat()
        assert cell["time"] == local, "in the territory's own local time"
    # the command line, for the territory that is not the platform's own
    day = dt.datetime.fromtimestamp(hour / 1000, LocalClock(sud.timezone).zone).date()
    run = [sys.executable, "-m", "shell", "opendata", "export", "--territory", "sud"]
    run += ["--from", day.isoformat(), "--to", day.isoformat(), "--min-count", "0"]
    run += ["--vertical", "mobility", "--out", str(tmp_path / "cli")]
    wide = {**os.environ, **env, "COLUMNS": "200"}
    done = subprocess.run(run, env=wide, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "days are local days of America/Cayenne" in done.stderr  # the report goes to stderr
    with (tmp_path / "cli" / "mobility-counts.csv").open() as f:
        cells = [c for c in csv.DictReader(f) if c["vehicles"]]
    assert [int(c["vehicles"]) for c in cells] == [round(sum(flows["sud"]) / len(flows["sud"]))]
    refused = subprocess.run(
        [*run[:6], "ouest", *run[7:]], env=wide, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "serves nord, sud" in refused.stdout + refused.stderr
