"""Storage receipts go to the batches that asked for them: the MQTT 5 user property on the
publish, the bridge's Kafka header, the bundle that keeps asked and plain batches apart, and the
worker's fold that receipts only what asked (or everything, when told to)."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import paho.mqtt.client as mqtt

from ingest.bridge import make_router
from ingest.bundling import Bundler
from ingest.routing import Inbound
from streams.processor import TelemetryProcessor
from vigie.contracts import RECEIPT_HEADER, TELEMETRY_BUNDLE
from vigie.mqtt import asks_receipt, receipt_request
from vigie.settings import Settings

NOW = int(time.time() * 1000)


def _body(device: str, seq: int) -> bytes:
    reading = {"ts_ms": NOW, "metric": "power_w", "value": 40.0}
    return json.dumps(
        {"v": 1, "device_id": device, "seq": seq, "sent_at_ms": NOW, "readings": [reading]}
    ).encode()


def _router():  # type: ignore[no-untyped-def]
    return make_router(Settings(registry=None, ingest={"accept_any_device": True}), "0")


def test_the_request_is_a_user_property_the_bridge_reads_back():
    asked, plain = mqtt.MQTTMessage(), mqtt.MQTTMessage()
    asked.properties = receipt_request()
    assert asks_receipt(asked)
    assert not asks_receipt(plain), "a publish without properties asks for nothing"


def test_the_bridge_marks_the_records_that_asked_and_never_history():
    router = _router()
    live = "vigie/t/lighting/{}/telemetry"
    marks = {}
    for device, topic, asked in [
        ("lamp-1", live.format("lamp-1"), True),
        ("lamp-2", live.format("lamp-2"), False),
        ("lamp-3", "vigie/t/lighting/lamp-3/backfill", True),
    ]:
        out = router.route(Inbound(topic, _body(device, 0), 1, 1, NOW, asked))
        assert out is not None and out.topic.endswith("telemetry.lighting")
        marks[device] = dict(out.headers).get(RECEIPT_HEADER)
    assert marks == {"lamp-1": b"1", "lamp-2": None, "lamp-3": None}


def test_asked_and_plain_batches_of_one_partition_travel_in_separate_records():
    router, bundler = _router(), Bundler()
    for seq in range(4):
        device = f"lamp-{seq}"
        topic = f"vigie/t/lighting/{device}/telemetry"
        out = router.route(Inbound(topic, _body(device, 0), seq, 1, NOW, seq % 2 == 0))
        assert out is not None and bundler.add(out, partition=0) is None
    records = {
        dict(out.headers).get(RECEIPT_HEADER): [
            b.device_id for b in TELEMETRY_BUNDLE.validate_json(out.value)
        ]
        for out, _ in bundler.drain()
    }
    assert records == {b"1": ["lamp-0", "lamp-2"], None: ["lamp-1", "lamp-3"]}


class _Table:
    """The worker's faust table, as a dict (no Kafka here: only the fold runs)."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}


def _event(devices: list[str], offset: int, asked: bool) -> SimpleNamespace:
    headers = [("territory", b"t"), ("source", b"live")]
    headers += [(RECEIPT_HEADER, b"1")] if asked else []
    value = b"[" + b",".join(_body(d, 7) for d in devices) + b"]"
    message = SimpleNamespace(
        topic="vigie.telemetry.lighting",
        partition=0,
        offset=offset,
        timestamp=NOW / 1000,
        headers=headers,
    )
    return SimpleNamespace(value=value, message=message)


async def _receipted(to_all: bool) -> set[str]:
    settings = Settings(
        territory="t",
        registry=None,
        streams={"receipts": False, "rebuild_from_store": False, "receipts_to_all": to_all},
    )
    processor = TelemetryProcessor(settings, _Table(), None)
    events = [_event(["lamp-1", "lamp-2"], 0, True), _event(["lamp-3"], 1, False)]
    decoded = await processor._decode(events)
    folded = processor._fold(decoded, {})
    assert folded.out.readings == 3, "asked or not, every batch is folded and stored"
    return {device for (_t, _v, device), seqs in folded.receipts.seqs.items() if seqs == [7]}


def test_the_worker_receipts_the_batches_that_asked():
    assert asyncio.run(_receipted(to_all=False)) == {"lamp-1", "lamp-2"}


def test_receipts_to_all_serve_agents_that_predate_the_request():
    assert asyncio.run(_receipted(to_all=True)) == {"lamp-1", "lamp-2", "lamp-3"}
