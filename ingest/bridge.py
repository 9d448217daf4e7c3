"""The MQTT -> Kafka bridge: subscribe (shared), validate, produce, then acknowledge.

An MQTT message is acknowledged only once Kafka has acknowledged what it became (a record on
its vertical's topic, or a dead letter), so a bridge killed at any moment loses nothing: the
broker redelivers what was not acknowledged, and (device, seq) de-duplication drops repeats.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from ingest.dedup import SequenceTracker, SeqVerdict
from ingest.stats import BridgeStats
from ingest.validation import Accepted, ValidationPolicy, validate
from vigie.contracts import Asset, DeadLetter, KafkaTopics, Territory
from vigie.contracts.topics import shared, telemetry_filter
from vigie.kafka import ensure_topics
from vigie.mqtt import MqttConnectError, connect, make_client, platform_status_topic
from vigie.settings import Settings

log = logging.getLogger("vigie.ingest")


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at_ms: int


@dataclass(frozen=True)
class BridgePolicy:
    """Batching of the hand-off and MQTT flow control."""

    max_batch: int = 1000
    receive_maximum: int = 2000  # unacknowledged messages the broker may have in flight to us
    session_expiry_s: int = 3600
    stats_every_s: float = 10.0


class Bridge:
    """One bridge instance; several share the load through an MQTT v5 shared subscription."""

    def __init__(
        self, settings: Settings, instance: str = "0", policy: BridgePolicy | None = None
    ) -> None:
        self.settings = settings
        self.instance = instance
        self.policy = policy or BridgePolicy()
        self.topics = KafkaTopics(settings.kafka.topic_prefix)
        self.validation = ValidationPolicy(
            settings.ingest.max_payload_bytes,
            settings.ingest.max_clock_skew_s,
            settings.ingest.max_age_s,
            settings.mqtt.prefix,
        )
        self.registry: Mapping[str, Asset] | None = (
            Territory.load(settings.registry).by_id() if settings.registry else None
        )
        self.tracker = SequenceTracker(window=settings.ingest.dedup_window)
        self.stats = BridgeStats()
        self._queue: asyncio.Queue[Inbound] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self.status_topic = platform_status_topic(settings.mqtt.prefix, f"ingest-{instance}")

    # -- MQTT side (paho thread) ----------------------------------------------------------

    def _mqtt_client(self, loop: asyncio.AbstractEventLoop) -> mqtt.Client:
        client = make_client(self.settings.mqtt, f"vigie-ingest-{self.instance}", manual_ack=True)
        filter_ = shared(
            telemetry_filter(self.settings.mqtt.prefix), self.settings.ingest.share_group
        )

        def on_connect(
            c: mqtt.Client, _u: object, _f: object, rc: mqtt.ReasonCode, _p: object
        ) -> None:
            if rc.is_failure:
                log.error("mqtt connection refused", extra={"reason": str(rc)})
                loop.call_soon_threadsafe(
                    self._fail,
                    MqttConnectError(
                        f"broker refused the bridge: {rc}. Check VIGIE_MQTT__USERNAME and the "
                        "password file."
                    ),
                )
                return
            c.subscribe(filter_, qos=1)
            c.publish(self.status_topic, b"online", qos=1, retain=True)
            loop.call_soon_threadsafe(self._connected.set)
            log.info("mqtt connected", extra={"filter": filter_})

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            item = Inbound(msg.topic, msg.payload, msg.mid, msg.qos, int(time.time() * 1000))
            loop.call_soon_threadsafe(self._queue.put_nowait, item)

        client.on_connect = on_connect
        client.on_message = on_message
        client.will_set(self.status_topic, b"offline", qos=1, retain=True)
        return client

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        self._stopping.set()

    # -- Kafka side (asyncio) -------------------------------------------------------------

    async def _handle(self, items: list[Inbound], producer: object, client: mqtt.Client) -> None:
        pending = []
        for item in items:
            self.stats.received += 1
            verdict = validate(
                item.topic, item.payload, item.received_at_ms, self.validation, self.registry
            )
            if isinstance(verdict, Accepted):
                batch = verdict.batch
                seen = self.tracker.observe(batch.device_id, batch.seq)
                if seen is SeqVerdict.DUPLICATE:
                    self.stats.duplicates += 1
                    continue
                self.stats.stale += seen is SeqVerdict.STALE
                self.stats.accepted += 1
                self.stats.readings += len(batch.readings)
                headers = [
                    ("territory", verdict.topic.territory.encode()),
                    ("received_at_ms", str(item.received_at_ms).encode()),
                ]
                pending.append(
                    await producer.send(  # type: ignore[attr-defined]
                        self.topics.telemetry(verdict.topic.vertical),
                        value=item.payload,
                        key=batch.device_id.encode(),
                        headers=headers,
                    )
                )
            else:
                self.stats.rejected[verdict.reason] += 1
                letter = DeadLetter.of(
                    item.topic, item.received_at_ms, verdict.reason, verdict.detail, item.payload
                )
                log.warning(
                    "rejected",
                    extra={
                        "topic": item.topic,
                        "reason": verdict.reason,
                        "detail": verdict.detail[:200],
                    },
                )
                pending.append(
                    await producer.send(  # type: ignore[attr-defined]
                        self.topics.deadletter,
                        value=letter.model_dump_json().encode(),
                        key=item.topic.encode(),
                        headers=[("reason", verdict.reason.encode())],
                    )
                )
        if pending:
            await asyncio.gather(*pending)
        for item in items:
            client.ack(item.mid, item.qos)

    async def run(self) -> None:
        """Run until stopped by a signal or a fatal error; raises that error."""
        from aiokafka import AIOKafkaProducer

        self._error: BaseException | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        await ensure_topics(self.settings.kafka)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka.bootstrap,
            acks="all",
            linger_ms=5,
            max_batch_size=1 << 20,
            max_request_size=4 << 20,
        )
        await producer.start()
        client = self._mqtt_client(loop)
        try:
            connect(
                client,
                self.settings.mqtt,
                session_expiry_s=self.policy.session_expiry_s,
                receive_maximum=self.policy.receive_maximum,
            )
        except MqttConnectError:
            await producer.stop()
            raise
        client.loop_start()
        stats_task = asyncio.create_task(self._report_stats())
        try:
            await self._pump(producer, client)
        finally:
            stats_task.cancel()
            client.publish(self.status_topic, b"offline", qos=1, retain=True)
            client.disconnect()
            client.loop_stop()
            await producer.stop()
            log.info("bridge stopped", extra=self.stats.as_fields())
        if self._error is not None:
            raise self._error

    async def _pump(self, producer: object, client: mqtt.Client) -> None:
        stop = asyncio.create_task(self._stopping.wait())
        while not self._stopping.is_set():
            get = asyncio.create_task(self._queue.get())
            done, _ = await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                break
            items = [get.result()]
            while len(items) < self.policy.max_batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            await self._handle(items, producer, client)

    async def _report_stats(self) -> None:
        while True:
            await asyncio.sleep(self.policy.stats_every_s)
            log.info("bridge stats", extra=self.stats.as_fields())
