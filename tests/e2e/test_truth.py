"""End-to-end against ground truth: attribution and alerts through the real chain.

Simulator -> Mosquitto -> ingest -> Tansu -> faust -> InfluxDB 1.x, then InfluxQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from dashboards.spec import Viz
from shell.stack.components import Components
from simulators.faults import standard_faults
from simulators.publish import publish
from simulators.simulation import Emitted, Simulation, SimulationPlan
from tests import browser
from tests.unit.test_pipeline import HOURS, START, T, _leaky_scenario
from vigie import influxql
from vigie.contracts import AssetKind, TelemetryBatch
from vigie.errors import StorageError

pytestmark = pytest.mark.e2e


def _poll(settings, query, ready, timeout_s=180, settle_s=0):
    """The rows once ``ready`` holds and they have not changed for ``settle_s`` seconds
    (windows still closing add to sums that already pass a threshold)."""
    deadline = time.monotonic() + timeout_s
    rows: list = []
    same_since = None
    while time.monotonic() < deadline:
        try:
            latest = influxql.query(settings.influx, query)
        except (OSError, StorageError):
            latest = []
        if latest != rows:
            rows, same_since = latest, time.monotonic()
        if ready(rows) and time.monotonic() - same_since >= settle_s:
            return rows
        time.sleep(1)
    return rows


def test_attribution_and_alerts_match_the_ground_truth(stack, settings, isolated, tmp_path):
    registry = tmp_path / "territory.json"
    T.save(registry)
    now = int(time.time() * 1000)
    start, hours = _span(now)
    env = {
        **isolated,
        "VIGIE_REGISTRY": str(registry),
        "VIGIE_TERRITORY": T.id,
        "VIGIE_STREAMS__IDLE_CLOSE_S": "3",
        # readings from a week ago are accepted (their raw points fall out of the 7-day raw
        # retention, their aggregates stay), and the week-long pause is no silence
        "VIGIE_INGEST__MAX_AGE_S": str(9 * 86400),
        "VIGIE_STREAMS__SILENT_AFTER_S": str(30 * 86400),
    }
    scenario = shift_scenario(_leaky_scenario(), start - START)  # same faults, this run's times
    # the notifier beside the workers: one failed lamp under planned works, the other told
    works, attended = (f.lamp_id for f in scenario.lamp_failures)
    notify = tmp_path / "notify.json"
    notify.write_text(
        json.dumps(
            {
                "group_window_s": 0,
                "routes": [{"name": "all", "channels": [f"file://{tmp_path / 'told.jsonl'}"]}],
                "maintenance": [
                    {"territory": T.id, "asset": works, "start_ms": start, "end_ms": now}
                ],
            }
        )
    )
    env |= {
        "VIGIE_NOTIFY__CONFIG": str(notify),
        "VIGIE_NOTIFY__STATE": str(tmp_path / "notify.sqlite"),
        "VIGIE_NOTIFY__GROUP": f"notify-{isolated['VIGIE_KAFKA__TOPIC_PREFIX']}",
    }
    comps = Components(tmp_path, settings, env)
    sim = Simulation(
        T, SimulationPlan(start, hours * 3600, period_s=300, first_seq=1000), scenario=scenario
    )
    # an hour around midday a week earlier (sent first, so that nothing is late), for the
    # week comparison; midday keeps it out of the water night window
    hour, week = 3_600_000, 7 * 86_400_000
    then = now - week - 86_400_000
    then += hour - then % hour
    while not (10 <= then // hour % 24 <= 14 and then + hour <= now - week):
        then += hour
    week_ago = Simulation(T, SimulationPlan(then, 3600, 300))
    faults = standard_faults(T, now, settings.mqtt.prefix)
    try:
        comps.start_streams()
        comps.start_ingest()
        comps.start_notifier()
        earlier = publish(
            week_ago, settings.mqtt, T.id, start_ms=week_ago.plan.start_ms, show_progress=False
        )
        report = publish(
            sim, settings.mqtt, T.id, start_ms=start, show_progress=False, faults=faults
        )
        assert earlier.readings > 0
        # and one batch that comes an hour after its window closed: counted as late
        lamp = next(a for a in T.assets if a.kind is AssetKind.LAMP)
        late = TelemetryBatch(
            device_id=lamp.id,
            seq=900_000,
            sent_at_ms=now,
            readings=[{"ts_ms": start + 3_600_000 + 1, "metric": "power_w", "value": 1.0}],
        )
        late_report = publish(
            [Emitted(now, lamp.vertical, late)],
            settings.mqtt,
            T.id,
            start_ms=now,
            show_progress=False,
            client_id="late-pub",
        )
        report.readings += late_report.readings
        truth = sim.truth
        _poll(
            settings,
            f'SELECT count("value") FROM "raw"."telemetry" WHERE time >= {start}ms',
            lambda rows: bool(rows) and rows[0]["count"] >= report.readings,
        )
        expected_alerts = len(scenario.lamp_failures) + len(scenario.leaks) + len(scenario.tappings)
        alerts = _poll(
            settings,
            'SELECT "open", "kind", "device" FROM "long"."alerts"',
            lambda rows: (
                len({(r["kind"], r["device"]) for r in rows if r["open"] == 1}) >= expected_alerts
            ),
        )
        # the on-duty agent takes the attended lamp in hand once the notifier has it
        _until_open(tmp_path / "notify.sqlite", attended)
        ack = subprocess.run(
            [sys.executable, "-m", "shell", "alerts", "ack", T.id, "lamp_failure", attended,
             "--by", "agent.martin"],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ack.returncode == 0, ack.stdout + ack.stderr
        attribution = _poll(
            settings,
            f'SELECT sum("attributed_wh") FROM "long"."energy_attribution" WHERE time >= {start}ms '
            'GROUP BY "district"',
            lambda rows: (
                sum(r["sum"] for r in rows) >= 0.97 * sum(truth.district_lighting_wh.values())
            ),
            settle_s=10,
        )
        # the day balances: footprint against savings, from what the platform stored
        time.sleep(11)  # at least one report from each process on itself
        from reports.footprint import compute, write

        balances = []
        for day_ms in range(then - then % 86_400_000, now + 1, 86_400_000):
            balance = compute(settings.influx, T.id, day_ms, settings.footprint, assets=T.assets)
            write(settings.influx, balance)
            if day_ms + 86_400_000 > start:
                balances.append(balance)
        leak_alerts = influxql.query(
            settings.influx,
            'SELECT "open", "device" FROM "long"."alerts" WHERE "kind" = \'suspected_leak\' '
            'AND "open" = 1',
        )
        # every dashboard panel's query returns data after this run
        from dashboards.catalog import ALL
        from dashboards.spec import render

        # (but the one comparing with a year earlier: the simulated stretch has no past year)
        empty = [
            f"{d.title}: {p.title}"
            for d in ALL
            for p in d.panels
            if p.key != "bicycles_year_ago"
            and not influxql.query(settings.influx, render(p.query, T.id, since="60d"))
        ]
        marks = {
            d.uid: influxql.query(settings.influx, render(d.annotations[0].query, T.id, "60d"))
            for d in ALL
            if d.annotations
        }
        # the static bulletin from the same queries, as a browser shows it from its file
        from reports.bulletin import write_snapshot

        page = write_snapshot(settings.influx, ALL, T.id, "60d", tmp_path / "bulletin.html")
        dom, shot, console = browser.load(page, browser.artefact("bulletin.png"))
        audit = browser.audit(page)  # WCAG 2.1 A and AA, on the page drawn from this run
        shapes = [
            f"{d.title}: {p.title}"
            for d in ALL
            for p in d.panels
            if p.key != "bicycles_year_ago"
            and not _shaped(p, influxql.query(settings.influx, render(p.query, T.id, since="60d")))
        ]
        stored = influxql.scalar(
            settings.influx,
            f'SELECT count("value") FROM "raw"."telemetry" WHERE time >= {start}ms',
        )
        comps.check_alive()
    finally:
        comps.stop_all()
    assert stored == report.readings
    assert not empty, f"panels without data: {empty}"
    # alerts marked on the vertical dashboards' time axes, with their text and tags
    lamps_marked = {r["device"] for r in marks["vigie-lighting"] if r["kind"] == "lamp_failure"}
    assert lamps_marked == {works, attended}
    assert any(r["kind"] == "suspected_leak" for r in marks["vigie-water"])
    assert all(r["detail"] is not None and r["state"] for m in marks.values() for r in m)
    told = (tmp_path / "told.jsonl").read_text()
    assert attended in told and works not in told, "planned works: recorded, nobody told"
    panels = sum(len(d.panels) for d in ALL)
    assert dom.count('<div class="panel') == panels
    assert dom.count('class="empty"') == 1, "only the year-earlier panel says it has no data"
    assert dom.count("<svg") >= sum(
        p.viz in (Viz.TIMESERIES, Viz.BARGAUGE, Viz.GEOMAP) for d in ALL for p in d.panels
    )
    assert "Hyperviseur" in dom and "Hypervisor" in dom  # French and English
    assert console == [], f"browser console: {console}"
    assert audit.violations == [], audit.violations
    assert not shapes, f"panels whose rows do not fit their visualisation: {shapes}"
    colours = np.unique((shot[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, "the screenshot shows charts, not a blank page"
    # savings against the ground truth: lighting dimming, and water saved by early leak finds
    dimming_truth = sum(
        truth.lamp_full_power_wh[lamp] - truth.lamp_wh[lamp] for lamp in truth.lamp_wh
    )
    dimming = sum(b.savings_wh.get("lighting", 0.0) for b in balances)
    assert dimming == pytest.approx(dimming_truth, rel=0.05)
    found = {r["device"]: r["time"] for r in leak_alerts}
    meters = {a.dma: a.id for a in T.assets if a.kind is AssetKind.WATER_METER}
    baseline_h = settings.footprint.leak_baseline_days * 24
    water_truth = sum(
        x.flow_m3h * (baseline_h - (found[meters[x.dma]] - x.start_ms) / 3_600_000)
        for x in scenario.leaks
    )
    water = sum(b.water_saved_m3 for b in balances)
    assert water == pytest.approx(water_truth, rel=0.05)
    # the platform ran today (its own reports are stamped with the wall clock)
    today = balances[-1]
    assert today.devices == len(T.assets) and today.messages > 0 and today.cpu_s > 0
    assert today.footprint.servers_wh > 0 and today.footprint.network_wh > 0
    # the fleet by device class, with its manufacturing spread over the day, and the range
    assert today.fleet is not None and sum(today.fleet.counts.values()) >= len(T.assets)
    assert 0 < today.manufacturing_gco2e.low < today.manufacturing_gco2e.high
    assert today.net_gco2e.low < today.net_gco2e.mid < today.net_gco2e.high
    stored = influxql.query(
        settings.influx,
        'SELECT last("net_gco2e_low") AS "low", last("net_gco2e_high") AS "high" '
        f'FROM "long"."balance" WHERE "territory" = \'{T.id}\'',
    )
    assert stored and stored[0]["low"] < stored[0]["high"]
    got = {r["district"]: r["sum"] for r in attribution}
    for district, wh in truth.district_lighting_wh.items():
        assert got[district] == pytest.approx(wh, rel=0.02), district
    raised = {(r["kind"], r["device"]) for r in alerts if r["open"] == 1}
    meter_of = {a.dma: a.id for a in T.assets if a.kind is AssetKind.WATER_METER}
    expected = {("lamp_failure", f.lamp_id) for f in scenario.lamp_failures}
    expected |= {("suspected_leak", meter_of[x.dma]) for x in scenario.leaks}
    expected |= {("attribution_remainder", x.cabinet_id) for x in scenario.tappings}
    faults = {"lamp_failure", "suspected_leak", "attribution_remainder", "device_silent"}
    assert {r for r in raised if r[0] in faults} == expected


def _span(now: int) -> tuple[int, int]:
    """The simulated stretch: from 11:00 UTC, as in the unit test (the scenario's faults keep
    their time of day), at least ``HOURS`` long, ending at least an hour ago and, whatever the
    hour the test runs, less than 20 h ago, so that the last-24-hours panels have hours to show."""
    hour = 3_600_000
    start = now - HOURS * hour - hour
    start -= start % 86_400_000 - 11 * hour
    if start + HOURS * hour > now - hour:  # that 11:00 was today: the one before
        start -= 86_400_000
    extra = max(0, -(-(now - 20 * hour - (start + HOURS * hour)) // hour))
    return start, HOURS + extra


def test_the_simulated_span_ends_within_the_last_day_at_any_hour():
    for minute in range(0, 24 * 60, 7):
        now = START + 5 * 86_400_000 + minute * 60_000
        start, hours = _span(now)
        end = start + hours * 3_600_000
        assert start % 86_400_000 == START % 86_400_000 and hours >= HOURS
        assert now - 20 * 3_600_000 <= end <= now - 3_600_000, minute


def _until_open(state: Path, subject: str, timeout_s: float = 120) -> None:
    """Until the notifier's store holds an open alert about ``subject``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if state.exists():
            with sqlite3.connect(state) as db:
                row = db.execute(
                    "SELECT 1 FROM alerts WHERE subject = ? AND state = 'open'", (subject,)
                ).fetchone()
            if row:
                return
        time.sleep(1)
    raise AssertionError(f"the notifier did not record the alert on {subject}")


def _shaped(panel, rows) -> bool:
    """Rows a panel's visualisation can show: times for charts, coordinates for the map."""
    if panel.viz is Viz.GEOMAP:
        return all(-90 <= r["lat"] <= 90 and -180 <= r["lon"] <= 180 for r in rows)
    values = [v for r in rows for k, v in r.items() if k != "time" and not isinstance(v, str)]
    if not values or not all(v is None or isinstance(v, int | float) for v in values):
        return False
    if panel.viz is Viz.TIMESERIES:
        return all(isinstance(r.get("time"), int) for r in rows)
    return True


def shift_scenario(scenario, shift_ms: int):
    by = defaultdict(list)
    for f in scenario.lamp_failures:
        by["lamp_failures"].append(f.model_copy(update={"at_ms": f.at_ms + shift_ms}))
    for x in scenario.leaks:
        by["leaks"].append(x.model_copy(update={"start_ms": x.start_ms + shift_ms}))
    for x in scenario.tappings:
        by["tappings"].append(x.model_copy(update={"start_ms": x.start_ms + shift_ms}))
    return scenario.model_copy(update=dict(by))
