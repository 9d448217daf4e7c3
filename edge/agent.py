"""The edge agent's main loop: sample, batch, publish with QoS 1, keep sequence numbers.

Sequence numbers are persisted before a batch is published, so they continue across restarts.
The durable store-and-forward queue (batches kept on disk until acknowledged) is not part of
this agent yet: a batch pending when the process dies is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from edge.batcher import Batcher
from edge.config import AgentConfig
from edge.drivers import load_driver
from edge.publisher import BatchPublisher
from vigie.contracts import Channel, DeviceTopic, TelemetryBatch
from vigie.mqtt import connect, make_client

log = logging.getLogger("vigie.edge")


class SequenceStore:
    """The next sequence number, in a file replaced atomically."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "next_seq"

    def load(self) -> int:
        return int(self.path.read_text()) if self.path.exists() else 0

    def save(self, next_seq: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(str(next_seq))
        tmp.replace(self.path)


def run_agent(config: AgentConfig, stop: threading.Event, max_samples: int | None = None) -> int:
    """Run until ``stop`` is set (or max_samples taken); returns the number of batches sent."""
    asset = config.asset
    driver = load_driver(config.driver, asset)
    seqs = SequenceStore(config.state_dir)
    batcher = Batcher(asset.id, config.batch_policy, seqs.load())
    client = make_client(config.mqtt, f"vigie-edge-{asset.id}")
    status = str(
        DeviceTopic(config.territory, asset.vertical, asset.id, Channel.STATUS, config.mqtt.prefix)
    )
    client.will_set(status, b"offline", qos=1, retain=True)
    publisher = BatchPublisher(client, config.territory, config.mqtt.prefix)
    client.on_publish = publisher.on_publish
    client.on_connect = lambda *_a: threading.Thread(
        target=publisher.publish_raw, args=(status, b"online", True), daemon=True
    ).start()
    connect(client, config.mqtt, session_expiry_s=86_400)
    client.loop_start()
    samples = 0
    last = time.time()
    sent = 0
    last_info: mqtt.MQTTMessageInfo | None = None

    def send(batch: TelemetryBatch) -> None:
        nonlocal sent, last_info
        seqs.save(batch.seq + 1)  # before publishing: numbers never repeat after a restart
        last_info = publisher.publish(asset.vertical, batch)
        sent += 1

    try:
        while not stop.is_set() and (max_samples is None or samples < max_samples):
            now = time.time()
            now_ms = int(now * 1000)
            for metric, value in driver.read(now_ms, now - last):
                batch = batcher.add(now_ms, metric, value, now_ms)
                if batch is not None:
                    send(batch)
            last = now
            samples += 1
            stop.wait(config.sample_period_s)
        batch = batcher.flush(int(time.time() * 1000))
        if batch is not None:
            send(batch)
        if last_info is not None:
            last_info.wait_for_publish(10)
        log.info("edge agent stopped", extra={"device": asset.id, "batches": sent})
    finally:
        publisher.publish_raw(status, b"offline", retain=True).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
    return sent
