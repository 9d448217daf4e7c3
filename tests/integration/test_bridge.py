"""Integration: ingest bridges against the real Mosquitto and Tansu started by the stack."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import threading
import time
import urllib.request
from collections import Counter

import pytest

from shell.stack.components import Components
from shell.stack.services import free_port
from simulators.faults import Fault, standard_faults
from simulators.publish import publish
from simulators.simulation import SimulationPlan, run
from simulators.territory import generate
from vigie.contracts import TELEMETRY_BUNDLE, DeadLetter, KafkaTopics, RejectReason
from vigie.contracts.envelope import MAX_PAYLOAD_BYTES
from vigie.contracts.topics import platform_status
from vigie.kafka import read_topic
from vigie.mqtt import wait_for_status

pytestmark = pytest.mark.integration

TERRITORY = generate(120, seed=21, territory_id="bridge")


def _components(settings, isolated, tmp_path) -> Components:
    registry = tmp_path / "territory.json"
    TERRITORY.save(registry)
    env = {**isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": TERRITORY.id}
    return Components(tmp_path, settings, env)


def _emitted(minutes: int, start_ms: int):
    plan = SimulationPlan(start_ms=start_ms, duration_s=minutes * 60, seed=3)
    return list(run(TERRITORY, plan))


def _records(settings, topic: str) -> list:
    return asyncio.run(read_topic(settings.kafka, topic, timeout_s=30))


def _telemetry(settings) -> list[tuple[str, int, str]]:
    topics = KafkaTopics(settings.kafka.topic_prefix)
    out = []
    for topic in topics.all_telemetry:
        for r in _records(settings, topic):
            ingest = dict(r.headers)["ingest"].decode()
            bundled = TELEMETRY_BUNDLE.validate_json(r.value)
            assert int(dict(r.headers)["batches"]) == len(bundled)
            out += [(b.device_id, b.seq, ingest) for b in bundled]
    return out


def _wait_all(settings, expected: set, timeout_s: float = 60) -> list[tuple[str, int, str]]:
    deadline = time.monotonic() + timeout_s
    got: list[tuple[str, int, str]] = []
    while time.monotonic() < deadline:
        got = _telemetry(settings)
        if {(d, s) for d, s, _ in got} >= expected:
            return got
        time.sleep(1)
    return got


def _hostile(now_ms: int, prefix: str) -> list[tuple[str, bytes, set[RejectReason]]]:
    """Malformed payloads of every kind the issue names, with acceptable reasons."""
    rng = random.Random(7)
    lamp = next(a for a in TERRITORY.assets if a.kind == "lamp")
    topic = f"{prefix}/{TERRITORY.id}/lighting/{lamp.id}/telemetry"

    def body(value: object = 40.0, ts: int = now_ms, **over: object) -> bytes:
        doc = {
            "v": 1,
            "device_id": lamp.id,
            "seq": 10**9 + rng.randrange(10**6),
            "sent_at_ms": now_ms,
            "readings": [{"ts_ms": ts, "metric": "power_w", "value": value}],
        }
        doc.update(over)
        return json.dumps(doc).encode()

    bad_json = {RejectReason.MALFORMED_JSON, RejectReason.SCHEMA}
    cases = [
        (topic, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))), bad_json)
        for _ in range(20)
    ]
    cases += [
        (topic, body()[:37], {RejectReason.MALFORMED_JSON}),
        (topic, b"[" * 50_000 + b"]" * 50_000, bad_json),
        (topic, body().replace(b"40.0", b"NaN"), bad_json),
        (topic, body().replace(b"40.0", b"Infinity"), bad_json),
        (topic, body().replace(b"40.0", b"1e999"), bad_json),
        (topic, body(value=1e300), {RejectReason.OUT_OF_BOUNDS}),
        (topic, body(value=[1, 2]), {RejectReason.SCHEMA}),
        (topic, body(seq="seven"), {RejectReason.SCHEMA}),
        (topic, body(ts=now_ms + 10 * 86_400_000), {RejectReason.CLOCK_SKEW}),
        (topic, body(ts=now_ms - 400 * 86_400_000), {RejectReason.CLOCK_SKEW}),
        (topic, b"{" + b" " * (MAX_PAYLOAD_BYTES + 100) + b"}", {RejectReason.OVERSIZE}),
        (
            f"{prefix}/{TERRITORY.id}/lighting/nope/telemetry",
            body(device_id="nope"),
            {RejectReason.UNKNOWN_DEVICE},
        ),
        (f"{prefix}/{TERRITORY.id}/sewage/{lamp.id}/telemetry", body(), {RejectReason.BAD_TOPIC}),
    ]
    return cases


def test_hostile_payloads_go_to_dead_letters_and_valid_ones_all_arrive(
    settings, isolated, tmp_path
):
    comps = _components(settings, isolated, tmp_path)
    now = int(time.time() * 1000)
    emitted = _emitted(30, now - 30 * 60_000)
    hostile = _hostile(now, settings.mqtt.prefix)
    faults = standard_faults(TERRITORY, now, settings.mqtt.prefix)
    injected = [Fault(t, p, next(iter(r)), "hostile") for t, p, r in hostile] + faults
    metrics_port = free_port()
    comps.env["VIGIE_INGEST__METRICS_PORT"] = str(metrics_port)
    try:
        comps.start_ingest()
        publish(
            emitted,
            settings.mqtt,
            TERRITORY.id,
            start_ms=now,
            total=len(emitted),
            faults=injected,
            show_progress=False,
        )
        expected = {(e.batch.device_id, e.batch.seq) for e in emitted}
        got = _wait_all(settings, expected)
        comps.check_alive()
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
            metrics = resp.read().decode()
    finally:
        comps.stop_all()
    scraped = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line and not line.startswith("#")
    }
    assert scraped['vigie_ingest_accepted_total{instance="0"}'] == len(emitted)
    assert scraped['vigie_ingest_registry_checks{instance="0"}'] == 1
    rejected = sum(v for k, v in scraped.items() if k.startswith("vigie_ingest_rejected_total"))
    assert rejected == len(injected)
    assert {(d, s) for d, s, _ in got} == expected
    assert len(got) == len(expected), "no batch produced twice"
    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in _records(settings, KafkaTopics(settings.kafka.topic_prefix).deadletter)
    ]
    assert len(letters) == len(injected)
    by_payload = {lt.payload: lt for lt in letters}
    for topic, payload, reasons in hostile:
        letter = by_payload[payload]
        assert letter.reason in reasons, (payload[:60], letter.reason, letter.detail)
        assert letter.mqtt_topic == topic and letter.detail
    for fault in faults:
        assert by_payload[fault.payload].reason is fault.expected


def test_bridge_killed_mid_stream_loses_nothing(settings, isolated, tmp_path):
    comps = _components(settings, isolated, tmp_path)
    now = int(time.time() * 1000)
    emitted = _emitted(90, now - 90 * 60_000)
    status = platform_status(settings.mqtt.prefix, "ingest-0")
    errors: list[BaseException] = []

    def publisher() -> None:
        try:
            # paced so that the kill lands mid-stream: ~4 s of publishing
            publish(
                emitted,
                settings.mqtt,
                TERRITORY.id,
                start_ms=emitted[0].sim_ms,
                speed=(emitted[-1].sim_ms - emitted[0].sim_ms) / 1000 / 4,
                total=len(emitted),
                show_progress=False,
                client_id="killtest-pub",
            )
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    try:
        comps.start_ingest("0")
        thread = threading.Thread(target=publisher)
        thread.start()
        time.sleep(1.5)
        comps.stop("ingest-0", signal.SIGKILL)
        assert wait_for_status(settings.mqtt, status, b"offline", timeout_s=10)
        time.sleep(1.0)
        comps.start_ingest("0")
        thread.join(60)
        assert not errors, errors
        expected = {(e.batch.device_id, e.batch.seq) for e in emitted}
        got = _wait_all(settings, expected)
    finally:
        comps.stop_all()
    assert {(d, s) for d, s, _ in got} >= expected, "every valid batch reached Kafka"
    duplicates = len(got) - len({(d, s) for d, s, _ in got})
    # redelivered batches are possible (at-least-once); the stream processors drop them
    assert duplicates <= len(emitted)


def test_two_bridges_split_the_load_without_loss_or_double_counting(settings, isolated, tmp_path):
    comps = _components(settings, isolated, tmp_path)
    comps.env["VIGIE_INGEST__COMPRESSION"] = "gzip"  # compressed record batches, too
    now = int(time.time() * 1000)
    emitted = _emitted(30, now - 30 * 60_000)
    try:
        comps.start_ingest("a")
        comps.start_ingest("b")
        publish(
            emitted,
            settings.mqtt,
            TERRITORY.id,
            start_ms=now,
            total=len(emitted),
            show_progress=False,
        )
        expected = {(e.batch.device_id, e.batch.seq) for e in emitted}
        got = _wait_all(settings, expected)
    finally:
        comps.stop_all()
    assert {(d, s) for d, s, _ in got} == expected
    assert len(got) == len(expected), "no batch produced twice"
    share = Counter(bridge for _, _, bridge in got)
    assert set(share) == {"a", "b"}
    assert min(share.values()) > 0.2 * len(got), share
