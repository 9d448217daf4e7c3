"""End-to-end: simulator -> real Mosquitto -> ingest bridge -> Tansu -> faust -> InfluxDB 1.x."""

from __future__ import annotations

import asyncio
import time

import pytest

from shell.cardinality import series_of
from shell.stack.components import Components
from simulators.faults import standard_faults
from simulators.publish import publish
from simulators.simulation import SimulationPlan, run
from simulators.territory import generate
from tests.helpers import check_stored_exactly, wait_for_count
from vigie import influxql
from vigie.contracts import DeadLetter, KafkaTopics
from vigie.kafka import read_topic

pytestmark = pytest.mark.e2e


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
        found = wait_for_count(settings, report.readings, comps)
        # let any straggler or duplicate write land before checking for excess
        time.sleep(2)
        check_stored_exactly(settings, emitted)
        series = influxql.query(settings.influx, "SHOW SERIES")
        letters = [
            DeadLetter.model_validate_json(r.value)
            for r in asyncio.run(
                read_topic(settings.kafka, KafkaTopics(settings.kafka.topic_prefix).deadletter)
            )
        ]
    finally:
        comps.stop_all()

    assert found == report.readings
    # the series budget checked at registry import is an upper bound of what was made
    estimate = series_of(territory).total
    print(f"\n{len(series):,} InfluxDB series made, {estimate:,} estimated at most")
    assert 0 < len(series) <= estimate
    assert sorted(lt.reason for lt in letters) == sorted(f.expected for f in faults)
    assert {lt.payload for lt in letters} == {f.payload for f in faults}
