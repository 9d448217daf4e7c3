"""End to end: an agent's queue flushed after a day-long outage, through the real bridge and
worker. InfluxDB's continuous queries roll up only the last two hours, so the outage's hours
came too late for them: the worker notes them in the device's state and rolls them up itself
(``streams.catchup``), and the hourly and daily windows hold every reading. Without that, those
hours would be gone with their 1-minute windows after 400 days."""

from __future__ import annotations

import signal
import time

import pytest

from simulators.publish import publish
from simulators.simulation import Emitted
from tests.helpers import counter_territory, running_chain
from vigie import influxql
from vigie.contracts import TelemetryBatch, Vertical
from vigie.errors import StorageError

pytestmark = pytest.mark.e2e
H, DAY = 3_600_000, 86_400_000


def _rows(settings, query: str) -> list[dict]:
    try:
        return influxql.query(settings.influx, query)
    except (OSError, StorageError):
        return []


def _stored(settings) -> int:
    rows = _rows(settings, 'SELECT count("value") FROM "raw"."telemetry"')
    return int(rows[0]["count"]) if rows else 0


@pytest.mark.parametrize("killed", [False, True], ids=["running", "worker-killed-first"])
def test_a_queue_flushed_after_an_outage_is_rolled_up_hour_by_hour(
    settings, isolated, tmp_path, killed
):
    """``killed``: the worker that noted the hours is killed (SIGKILL) once the readings are
    stored and before any catch-up ran; the next worker finds the notes in the states it
    reads back and rolls the hours up."""
    territory = counter_territory("late")
    now = int(time.time() * 1000)
    # every 10 minutes from 30 hours ago to now, sent in order once the link is back
    stamps = list(range(now - now % H - 30 * H, now - 60_000, 600_000))
    batches = [
        TelemetryBatch(
            device_id="ctr-1",
            seq=n,
            sent_at_ms=now,
            readings=[{"ts_ms": t, "metric": "traffic_flow_vehh", "value": float(n % 17)}],
        )
        for n, t in enumerate(stamps, 1)
    ]
    env = {**isolated, "VIGIE_STREAMS__ROLLUP_CATCHUP_S": "100000" if killed else "2"}
    expected: dict[int, tuple[int, float]] = {}
    for b in batches:
        r = b.readings[0]
        hour = r["ts_ms"] - r["ts_ms"] % H
        count, total = expected.get(hour, (0, 0.0))
        expected[hour] = (count + 1, total + r["value"])
    late = {h: v for h, v in expected.items() if h < now - now % H - H}  # the queries' past
    with running_chain(settings, env, tmp_path, territory) as chain:
        report = publish(
            [Emitted(now, Vertical.MOBILITY, b) for b in batches],
            settings.mqtt,
            territory.id,
            start_ms=now,
            show_progress=False,
        )
        assert report.readings == len(stamps)
        if killed:
            deadline = time.monotonic() + 120
            while _stored(settings) < len(stamps) and time.monotonic() < deadline:
                time.sleep(1)
            assert _stored(settings) == len(stamps)
            before = _rows(settings, 'SELECT "count" FROM "long"."agg_1h"')
            assert not [r for r in before if r["time"] in late], "no catch-up yet"
            chain.stop("streams-0", signal.SIGKILL)
            chain.env["VIGIE_STREAMS__ROLLUP_CATCHUP_S"] = "2"
            chain.start_streams()
        deadline, hours = time.monotonic() + 180, {}
        while time.monotonic() < deadline:
            rows = _rows(settings, 'SELECT "count", "sum" FROM "long"."agg_1h" GROUP BY "device"')
            hours = {r["time"]: (r["count"], r["sum"]) for r in rows}
            if all(h in hours for h in late):
                break
            time.sleep(1)
        time.sleep(3)  # one more catch-up run: nothing more, nothing twice
        chain.check_alive()
        hours = {
            r["time"]: (r["count"], r["sum"])
            for r in _rows(settings, 'SELECT "count", "sum" FROM "long"."agg_1h"')
        }
        days = {
            r["time"]: r["sum"]
            for r in _rows(settings, 'SELECT "sum" FROM "long"."agg_1d" GROUP BY "device"')
        }
    assert len(late) >= 28
    assert {h: hours.get(h) for h in late} == late, "every hour of the outage, rolled up"
    by_day: dict[int, float] = {}
    for h, (_, total) in late.items():
        by_day[h - h % DAY] = by_day.get(h - h % DAY, 0.0) + total
    # a day the outage began in holds its late hours; a later one, its late hours too (the
    # continuous query adds the recent ones to today's when it runs)
    for day, total in by_day.items():
        assert days.get(day, 0.0) >= total - 1e-9, (day, days.get(day), total)
