"""End-to-end: simulator -> real Mosquitto -> ingest bridge -> Tansu -> faust -> InfluxDB 1.x."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from simulators.faults import standard_faults
from simulators.publish import publish
from simulators.simulation import SimulationPlan, run
from simulators.territory import generate
from streams.kernels.reference import tumbling_reference
from vigie import influxql
from vigie.contracts import DeadLetter, KafkaTopics
from vigie.contracts.metrics import METRIC_INDEX, METRIC_NAMES
from vigie.kafka import read_topic
from vigie.stack.components import Components

pytestmark = pytest.mark.e2e


def _wait_for_count(settings, expected, comps, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    found = -1
    while time.monotonic() < deadline:
        comps.check_alive()
        try:
            found = int(
                influxql.scalar(
                    settings.influx.url,
                    settings.influx.database,
                    'SELECT count("value") FROM "raw"."telemetry"',
                )
            )
        except (OSError, RuntimeError):
            found = -1
        if found >= expected:
            return found
        time.sleep(0.5)
    return found


def test_every_reading_arrives_once_and_aggregates_match(stack, settings, isolated, tmp_path):
    territory = generate(250, seed=11, territory_id="e2e")
    registry = tmp_path / "territory.json"
    territory.save(registry)
    env = {**isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": territory.id}
    comps = Components(tmp_path, settings, env)
    now = int(time.time() * 1000)
    plan = SimulationPlan(start_ms=now - 40 * 60_000, duration_s=40 * 60, seed=4)
    emitted = list(run(territory, plan))
    faults = standard_faults(territory, now, settings.mqtt.prefix)
    try:
        comps.start_streams()
        comps.start_ingest()
        report = publish(
            emitted,
            settings.mqtt,
            territory.id,
            start_ms=plan.start_ms,
            total=len(emitted),
            faults=faults,
            keep=True,
            show_progress=False,
        )
        found = _wait_for_count(settings, report.readings, comps)
        # let any straggler or duplicate write land before checking for excess
        time.sleep(2)
        url, db = settings.influx.url, settings.influx.database
        stored = Counter()
        for row in influxql.query(
            url, db, 'SELECT count("value") FROM "raw"."telemetry" GROUP BY "device", "metric"'
        ):
            stored[(row["device"], row["metric"])] = row["count"]
        aggs = influxql.query(
            url,
            db,
            'SELECT "count", "sum", "min", "max", "last" FROM '
            '"long"."agg_1m" GROUP BY "device", "metric"',
        )
        letters = [
            DeadLetter.model_validate_json(r.value)
            for r in asyncio.run(
                read_topic(settings.kafka, KafkaTopics(settings.kafka.topic_prefix).deadletter)
            )
        ]
    finally:
        comps.stop_all()

    sent = Counter()
    devices = sorted({e.batch.device_id for e in emitted})
    dev_idx = {d: i for i, d in enumerate(devices)}
    group, ts, values = [], [], []
    for e in emitted:
        for r in e.batch.readings:
            sent[(e.batch.device_id, r["metric"])] += 1
            group.append(dev_idx[e.batch.device_id] * len(METRIC_NAMES) + METRIC_INDEX[r["metric"]])
            ts.append(r["ts_ms"])
            values.append(r["value"])
    assert found == report.readings == sum(sent.values())
    assert stored == sent, "every reading stored exactly once"

    expected = tumbling_reference(group, ts, values, 60_000)
    got = {}
    for row in aggs:
        g = dev_idx[row["device"]] * len(METRIC_NAMES) + METRIC_INDEX[row["metric"]]
        got[(g, row["time"])] = row
    assert set(got) == set(expected)
    for key, (count, total, lo, hi, _last_ts, last) in expected.items():
        row = got[key]
        assert row["count"] == count
        assert row["sum"] == pytest.approx(total, rel=1e-9, abs=1e-9)
        assert (row["min"], row["max"], row["last"]) == (lo, hi, last)

    assert sorted(lt.reason for lt in letters) == sorted(f.expected for f in faults)
    assert {lt.payload for lt in letters} == {f.payload for f in faults}
