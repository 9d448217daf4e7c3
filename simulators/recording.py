"""Record an MQTT stream to JSON lines, and read recordings back for replay.

One line per message: ``{"t_ms": ..., "topic": ..., "payload": "<utf-8 text>"}``, or
``"payload_b64"`` when the bytes are not UTF-8, so that malformed payloads replay as they were.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import paho.mqtt.client as mqtt

from simulators.simulation import Emitted
from vigie.contracts import TELEMETRY_BATCH, Channel, DeviceTopic, TopicError
from vigie.mqtt import connect, make_client
from vigie.sections import MqttSettings


@dataclass(frozen=True, slots=True)
class Recorded:
    """One message of a recording: when, where, what bytes."""

    sim_ms: int
    topic: str
    payload: bytes

    def to_line(self) -> str:
        try:
            body: dict[str, object] = {"payload": self.payload.decode()}
        except UnicodeDecodeError:
            body = {"payload_b64": base64.b64encode(self.payload).decode()}
        return json.dumps({"t_ms": self.sim_ms, "topic": self.topic, **body}, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Recorded:
        d = json.loads(line)
        raw = d["payload"].encode() if "payload" in d else base64.b64decode(d["payload_b64"])
        return cls(int(d["t_ms"]), d["topic"], raw)


def from_emitted(
    items: Iterable[Emitted],
    territory: str,
    prefix: str = "vigie",
    channel: Channel = Channel.TELEMETRY,
) -> Iterator[Recorded]:
    """A simulation (or an import) as the messages it publishes."""
    for e in items:
        topic = DeviceTopic(territory, e.vertical, e.batch.device_id, channel, prefix)
        yield Recorded(e.sim_ms, str(topic), e.batch.model_dump_json().encode())


def as_history(record: Recorded, prefix: str = "vigie") -> Recorded:
    """A recorded telemetry message sent again as history (its device's backfill channel)."""
    try:
        topic = DeviceTopic.parse(record.topic, prefix)
    except TopicError:
        return record  # a malformed topic replays as it was, to become a dead letter again
    if topic.channel is not Channel.TELEMETRY:
        return record
    again = DeviceTopic(topic.territory, topic.vertical, topic.device_id, Channel.BACKFILL, prefix)
    return Recorded(record.sim_ms, str(again), record.payload)


def readings_of(records: Iterable[Recorded]) -> tuple[set[str], tuple[int, int], int]:
    """The devices, time span and number of readings of the well-formed batches among
    the records (what the platform can be asked about afterwards)."""
    devices: set[str] = set()
    lo, hi, n = 2**62, -(2**62), 0
    for r in records:
        try:
            batch = TELEMETRY_BATCH.validate_json(r.payload)
        except ValueError:
            continue
        devices.add(batch.device_id)
        stamps = [x["ts_ms"] for x in batch.readings]
        lo, hi, n = min(lo, *stamps), max(hi, *stamps), n + len(stamps)
    return devices, (lo, hi), n


def write(records: Iterable[Recorded], out: IO[str]) -> int:
    """Write records as JSON lines; returns how many."""
    n = 0
    for r in records:
        out.write(r.to_line() + "\n")
        n += 1
    return n


def read(path: Path) -> Iterator[Recorded]:
    """Records of a JSON-lines file, in file order."""
    with Path(path).open() as f:
        for line in f:
            if line.strip():
                yield Recorded.from_line(line)


def record(
    settings: MqttSettings,
    out: IO[str],
    topic_filter: str,
    duration_s: float,
    stop: threading.Event | None = None,
) -> int:
    """Subscribe to topic_filter and write every message until duration_s or stop."""
    count = 0
    lock = threading.Lock()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count
        with lock:
            out.write(
                Recorded(int(time.time() * 1000), msg.topic, bytes(msg.payload)).to_line() + "\n"
            )
            count += 1

    client = make_client(settings, f"vigie-recorder-{int(time.time())}")
    client.on_connect = lambda c, *_a: c.subscribe(topic_filter, qos=1)
    client.on_message = on_message
    connect(client, settings)
    client.loop_start()
    try:
        (stop or threading.Event()).wait(duration_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return count
