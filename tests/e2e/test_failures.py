"""End-to-end under failure: a worker killed mid-stream, InfluxDB down for a while.

Both must end with every reading stored once and every 1-minute aggregate equal to the one an
uninterrupted run computes (the plain reference over the readings sent).
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from shell.stack.components import Components
from simulators.publish import publish
from simulators.simulation import SimulationPlan, run
from simulators.territory import generate
from tests.helpers import check_stored_exactly, wait_for_count
from vigie import influxql
from vigie.errors import StorageError

pytestmark = pytest.mark.e2e
T = generate(300, seed=5, territory_id="fail")


def _setup(settings, isolated, tmp_path, minutes: int):
    registry = tmp_path / "territory.json"
    T.save(registry)
    env = {**isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": T.id}
    now = int(time.time() * 1000)
    plan = SimulationPlan(start_ms=now - minutes * 60_000, duration_s=minutes * 60, seed=9)
    return Components(tmp_path, settings, env), plan, list(run(T, plan))


def _count(settings) -> int:
    try:
        return int(
            influxql.scalar(
                settings.influx,
                'SELECT count("value") FROM "raw"."telemetry"',
            )
        )
    except (OSError, StorageError):
        return 0


def test_worker_killed_mid_stream_ends_with_the_same_aggregates(settings, isolated, tmp_path):
    comps, plan, emitted = _setup(settings, isolated, tmp_path, minutes=180)
    total = sum(len(e.batch.readings) for e in emitted)
    # three simulated hours published over 20 s while the worker runs: it is killed mid-stream
    publisher = threading.Thread(
        target=publish,
        args=(emitted, settings.mqtt, T.id),
        kwargs={"start_ms": plan.start_ms, "speed": 3 * 3600 / 20, "show_progress": False},
    )
    try:
        comps.start_ingest()
        comps.start_streams()
        publisher.start()
        deadline = time.monotonic() + 120
        while _count(settings) < total * 0.2 and time.monotonic() < deadline:
            time.sleep(0.2)
        done_before_kill = _count(settings)
        comps.stop("streams-0", signal.SIGKILL)
        assert 0 < done_before_kill < total, "the kill must land mid-stream"
        # restart once the broker has dropped the dead member (session timeout, 10 s), as a
        # supervisor with a restart delay would: the new worker joins in one rebalance
        time.sleep(11)
        comps.start_streams()
        publisher.join()
        found = wait_for_count(settings, total, comps)
        time.sleep(2)
        check_stored_exactly(settings, emitted)
    finally:
        comps.stop_all()
    assert found == total


def test_influxdb_down_for_a_while_loses_nothing(stack, settings, isolated, tmp_path):
    comps, plan, emitted = _setup(settings, isolated, tmp_path, minutes=60)
    total = sum(len(e.batch.readings) for e in emitted)
    half = len(emitted) // 2
    try:
        comps.start_streams()
        comps.start_ingest()
        publish(
            emitted[:half],
            settings.mqtt,
            T.id,
            start_ms=plan.start_ms,
            show_progress=False,
            client_id="fail-pub-1",
        )
        stack.stop("influxdb")
        publish(
            emitted[half:],
            settings.mqtt,
            T.id,
            start_ms=plan.start_ms,
            show_progress=False,
            client_id="fail-pub-2",
        )
        time.sleep(5)  # the worker retries meanwhile
        comps.check_alive()
        stack.start("influxdb")
        found = wait_for_count(settings, total, comps)
        time.sleep(2)
        check_stored_exactly(settings, emitted)
    finally:
        if not stack.running("influxdb"):
            stack.start("influxdb")
        comps.stop_all()
    assert found == total
