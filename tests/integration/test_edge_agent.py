"""Integration: the edge agent publishes batches to the real Mosquitto started by the stack."""

import json
import threading
import time

import pytest

from edge.agent import run_agent
from edge.config import AgentConfig
from vigie.contracts import TELEMETRY_BATCH
from vigie.mqtt import make_client

pytestmark = pytest.mark.integration


def _collect(settings, topic_filter, into):
    client = make_client(settings.mqtt, f"collector-{time.monotonic_ns()}")
    client.on_connect = lambda c, *_a: c.subscribe(topic_filter, qos=1)
    client.on_message = lambda _c, _u, m: into.append((m.topic, m.payload))
    client.connect(settings.mqtt.host, settings.mqtt.port)
    client.loop_start()
    time.sleep(0.5)
    return client


def test_agent_batches_and_sequence_continues_after_restart(settings, tmp_path):
    config = AgentConfig.model_validate(
        {
            "territory": "t1",
            "sample_period_s": 0.01,
            "batch_max_readings": 6,
            "state_dir": str(tmp_path / "state"),
            "mqtt": settings.mqtt.model_dump(),
            "asset": {
                "id": "wmeter-00001",
                "kind": "water_meter",
                "district": "d00",
                "lat": 45.0,
                "lon": 5.0,
                "dma": "dma001",
            },
        }
    )
    received: list = []
    prefix = settings.mqtt.prefix
    collector = _collect(settings, f"{prefix}/t1/water/wmeter-00001/#", received)
    try:
        first = run_agent(config, threading.Event(), max_samples=9)  # 18 readings: 3 batches
        second = run_agent(config, threading.Event(), max_samples=3)  # 6 readings: 1 batch
        time.sleep(0.5)
    finally:
        collector.disconnect()
        collector.loop_stop()
    batches = [TELEMETRY_BATCH.validate_json(p) for t, p in received if t.endswith("/telemetry")]
    assert (first, second) == (3, 1)
    assert [b.seq for b in batches] == [0, 1, 2, 3]
    assert all(len(b.readings) == 6 for b in batches)
    assert {r["metric"] for b in batches for r in b.readings} == {"flow_m3h", "volume_index_m3"}
    status = [p for t, p in received if t.endswith("/status")]
    assert status[-1] == b"offline"
    assert json.loads((tmp_path / "state" / "next_seq").read_text()) == 4
