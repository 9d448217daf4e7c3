"""Integration: every named hostile input through the real bridge and worker, a canary after
each. Each case ends as a dead letter with its reason or stored exactly; the bridge and the
worker keep running, and every canary arrives. A record that reaches Kafka undecodable (not
through the bridge) becomes an ``unprocessable`` dead letter at the worker, never a crash loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from shell.stack.components import Components
from simulators.territory import generate
from tests.helpers import read_topic_letters, wait_for_count
from tests.hostile import hostile_cases
from vigie import influxql
from vigie.contracts import DeadLetter, KafkaTopics, RejectReason
from vigie.mqtt import connect, make_client

pytestmark = pytest.mark.integration

TERRITORY = generate(200, seed=8, territory_id="hostile")
LAMPS = [a.id for a in TERRITORY.assets if a.kind == "lamp"]
METER = next(a.id for a in TERRITORY.assets if a.vertical == "water")


def _canary(device: str, seq: int, ts_ms: int, value: float) -> bytes:
    reading = {"ts_ms": ts_ms, "metric": "power_w", "value": value}
    return json.dumps(
        {"v": 1, "device_id": device, "seq": seq, "sent_at_ms": ts_ms, "readings": [reading]}
    ).encode()


def _publish_all(settings, messages: list[tuple[str, bytes]]) -> None:
    client = make_client(settings.mqtt, "hostile-publisher")
    connect(client, settings.mqtt)
    client.loop_start()
    try:
        infos = [client.publish(t, p, qos=1) for t, p in messages]
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


async def _produce_raw(settings, topic: str, key: bytes, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def _huge_payloads_refused(settings, count: int, size: int) -> int:
    """Publish ``count`` payloads of ``size`` bytes, each from a fresh connection; how many
    were refused (the broker closed the connection and never acknowledged the message)."""
    import threading

    refused = 0
    for i in range(count):
        closed = threading.Event()
        client = make_client(settings.mqtt, f"hostile-huge-{i}")
        client.reconnect_delay_set(60, 60)  # one try: the broker's answer is what we read
        client.on_disconnect = lambda *_a, closed=closed: closed.set()
        connect(client, settings.mqtt)
        client.loop_start()
        info = client.publish(
            f"{settings.mqtt.prefix}/x/lighting/huge/telemetry", b"0" * size, qos=1
        )
        refused += closed.wait(10) and not info.is_published()
        client.loop_stop()
    return refused


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS")))


def _letters(settings) -> list[DeadLetter]:
    return read_topic_letters(settings)


def test_each_hostile_input_ends_as_its_verdict_and_every_canary_arrives(
    stack, settings, isolated, tmp_path
):
    registry = tmp_path / "territory.json"
    TERRITORY.save(registry)
    env = {**isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": TERRITORY.id}
    comps = Components(tmp_path, settings, env)
    prefix = settings.mqtt.prefix
    now = int(time.time() * 1000)
    cases = hostile_cases(prefix, TERRITORY.id, LAMPS[0], METER, now)
    canary_dev = LAMPS[1]
    canary_topic = f"{prefix}/{TERRITORY.id}/lighting/{canary_dev}/telemetry"
    messages: list[tuple[str, bytes]] = []
    canaries = []
    for i, case in enumerate(cases):
        messages.append((case.topic, case.payload))
        ts = now - 3_000_000 + i * 1000
        canaries.append((ts, 10.0 + i))
        messages.append((canary_topic, _canary(canary_dev, i + 1, ts, 10.0 + i)))
    # chatter under the prefix that is not telemetry: acknowledged, neither stored nor rejected
    messages.append((f"{prefix}/{TERRITORY.id}/lighting/{canary_dev}/status", b"online"))
    messages.append((f"{prefix}/{TERRITORY.id}/lighting/{canary_dev}/ack", b'{"id": 1}'))
    accepted = [c for c in cases if c.expected is None]
    rejected = [c for c in cases if c.expected is not None]
    try:
        comps.start_streams()
        comps.start_ingest()
        _publish_all(settings, messages)
        # payloads far over the limit: refused by the broker, which keeps none of them
        broker_kb = _rss_kb(stack.pid("mosquitto"))
        refusals = _huge_payloads_refused(settings, count=10, size=5 * 1024 * 1024)
        broker_growth_kb = _rss_kb(stack.pid("mosquitto")) - broker_kb
        # a record no bridge would produce, straight onto a telemetry topic, then a canary
        topics = KafkaTopics(settings.kafka.topic_prefix)
        asyncio.run(
            _produce_raw(settings, topics.telemetry("lighting"), canary_dev.encode(), b"[{]")
        )
        last_ts = now - 3_000_000 + len(cases) * 1000
        _publish_all(settings, [(canary_topic, _canary(canary_dev, len(cases) + 1, last_ts, 1.5))])
        expected_raw = len(canaries) + 1 + len(accepted)
        found = wait_for_count(settings, expected_raw, comps, timeout_s=120)
        deadline = time.monotonic() + 60
        letters = _letters(settings)
        while len(letters) < len(rejected) + 1 and time.monotonic() < deadline:
            time.sleep(1)
            letters = _letters(settings)
        comps.check_alive()
        stored = {
            (row["device"], row["time"]): row["value"]
            for row in influxql.query(
                settings.influx,
                'SELECT "value" FROM "raw"."telemetry" GROUP BY "device"',
            )
        }
        counted = _dead_letter_points(settings, len(rejected) + 1)
    finally:
        comps.stop_all()
    assert refusals == 10
    assert broker_growth_kb < 20 * 1024, "payloads of 5 MiB once stayed in the broker for good"
    assert found == expected_raw, "every canary and every accepted case stored, nothing more"
    for ts, value in [*canaries, (last_ts, 1.5)]:
        assert stored[(canary_dev, ts)] == value
    for case in accepted:
        reading = json.loads(case.payload)["readings"][0]
        assert stored[(LAMPS[0], reading["ts_ms"])] == reading["value"], case.label
    by_payload = {letter.payload: letter for letter in letters}
    for case in rejected:
        letter = by_payload.get(case.payload)
        assert letter is not None, f"{case.label}: no dead letter"
        assert letter.reason is case.expected, (case.label, letter.reason, letter.detail)
        assert letter.mqtt_topic == case.topic and letter.detail
    unusable = [lt for lt in letters if lt.reason is RejectReason.UNPROCESSABLE]
    assert [lt.payload for lt in unusable] == [b"[{]"]
    assert unusable[0].mqtt_topic.startswith(f"kafka:{topics.telemetry('lighting')}/")
    assert len(letters) == len(rejected) + 1, "status and acknowledgements are no dead letters"
    # one point per dead letter on the data-quality view: none overwrote another
    assert counted == len(rejected) + 1


def _dead_letter_points(settings, expected: int, timeout_s: float = 30) -> int:
    """The dead letters counted on the data-quality view, once ``expected`` are there."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = influxql.query(settings.influx, 'SELECT count("count") FROM "long"."dead_letters"')
        counted = int(rows[0]["count"]) if rows else 0
        if counted >= expected or time.monotonic() > deadline:
            return counted
        time.sleep(0.5)
