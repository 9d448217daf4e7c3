"""Integration: replay and multi-process simulation through the real Mosquitto."""

import io
import threading
import time
from collections import Counter

import pytest

from simulators import recording
from simulators.publish import publish
from simulators.scale import publish_parallel
from simulators.scenario import Scenario
from simulators.simulation import Simulation, SimulationPlan
from simulators.territory import generate

pytestmark = pytest.mark.integration
T = generate(200, seed=8, territory_id="rep")


def _recorder(settings, stop):
    buf = io.StringIO()
    thread = threading.Thread(
        target=recording.record, args=(settings.mqtt, buf, f"{settings.mqtt.prefix}/#", 120, stop)
    )
    thread.start()
    time.sleep(0.5)
    return buf, thread


def test_record_then_replay_reproduces_the_same_messages(settings, tmp_path):
    start = int(time.time() * 1000) - 3_600_000
    sim = list(Simulation(T, SimulationPlan(start, 1800)))
    path = tmp_path / "run.jsonl"
    with path.open("w") as f:
        recording.write(recording.from_emitted(sim, T.id, settings.mqtt.prefix), f)
    stop = threading.Event()
    buf, thread = _recorder(settings, stop)
    items = list(recording.read(path))
    publish(items, settings.mqtt, T.id, start_ms=items[0].sim_ms, show_progress=False)
    time.sleep(0.5)
    stop.set()
    thread.join()
    heard = [recording.Recorded.from_line(x) for x in buf.getvalue().splitlines()]
    assert Counter((r.topic, r.payload) for r in heard) == Counter(
        (r.topic, r.payload) for r in items
    )


def test_two_processes_publish_everything_once_with_the_same_truth(settings):
    start = int(time.time() * 1000) - 7_200_000
    plan = SimulationPlan(start, 3600)
    scen = Scenario.random(T, start, start + 3_600_000, 2, lamp_failures=2, leaks=1)
    single = Simulation(T, plan, scenario=scen)
    expected = Counter(e.batch.device_id for e in single)
    stop = threading.Event()
    buf, thread = _recorder(settings, stop)
    batches, readings, truth, _ = publish_parallel(T, plan, scen, settings.mqtt, None, 2)
    time.sleep(0.5)
    stop.set()
    thread.join()
    heard = Counter(
        r.topic.split("/")[3]
        for r in map(recording.Recorded.from_line, buf.getvalue().splitlines())
    )
    assert heard == expected and batches == sum(expected.values())
    assert readings == single.truth.readings_sent
    for district, wh in single.truth.district_lighting_wh.items():
        assert truth.district_lighting_wh[district] == pytest.approx(wh)
    assert truth.leak_volume_m3 == pytest.approx(single.truth.leak_volume_m3)
