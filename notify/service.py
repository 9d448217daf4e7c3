"""``vigie alerts run``: a consumer of the ``vigie.alerts`` topic (a Kafka consumer group, so
several notifiers share the partitions) that records every alert event in the store, then
commits; a delivery loop that sends what is due, with back-off, and turns a message no
channel took after ``max_attempts`` into a ``notification_failed`` dead letter; an escalation
loop; the lifecycle written to InfluxDB (``alert_ops``) for the dashboards."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from notify.channels import DeliveryError, redacted, send
from notify.config import NotifyConfig
from notify.messages import render
from notify.store import ACKNOWLEDGED, CLEARED, Batch, Store, Subject, Transition
from vigie import influxql
from vigie.clock import SYSTEM, Clock
from vigie.contracts import DeadLetter, RejectReason
from vigie.contracts.alerts import Alert
from vigie.contracts.storage import LONG_RP, Measurement
from vigie.contracts.topics import KafkaTopics
from vigie.localtime import DEFAULT_TIMEZONE
from vigie.points import Point
from vigie.registries import Registries
from vigie.retry import Backoff
from vigie.settings import Settings

log = logging.getLogger("vigie.notify")


def ops_line(t: Transition) -> str:
    """One lifecycle change as a point (one per subject: alerts of one instant stay apart):
    how many, how long since the alert was raised, and where the alert stands after it (the
    last point of a subject says whether it is open and acknowledged now)."""
    tags = {"territory": t.territory, "kind": t.kind, "district": t.district,
            "subject": t.subject, "state": t.state}  # fmt: skip
    fields: dict[str, float | str] = {"wait_s": t.wait_ms / 1000}
    if t.held:
        fields["held"] = t.held
    ints = {"count": 1, "open": int(t.state != CLEARED), "acked": int(t.state == ACKNOWLEDGED)}
    return Point(Measurement.ALERT_OPS, tags, fields, t.at_ms, ints).line()


class Notifier:
    def __init__(
        self,
        settings: Settings,
        config: NotifyConfig,
        store: Store,
        registries: Registries | None = None,
        clock: Clock = SYSTEM,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.config = config
        self.store = store
        self.registries = registries
        self.clock = clock
        self.rand = rand
        self.backoff = Backoff(
            first_s=settings.notify.retry_first_s, max_s=settings.notify.retry_max_s
        )
        self.topics = KafkaTopics(settings.kafka.topic_prefix)
        self._producer: Any = None
        self._ops: list[str] = []  # lifecycle points waiting for InfluxDB
        self.recorded = self.sent = self.failed = 0

    # -- what an alert is about -----------------------------------------------------------

    def subject(self, alert: Alert) -> Subject:
        assets = self.registries.assets(alert.territory) if self.registries else None
        asset = assets.get(alert.subject) if assets else None
        if asset is None:
            return Subject()
        return Subject(asset.district, str(asset.vertical), asset.lat, asset.lon)

    def timezone(self, territory: str) -> str:
        served = self.registries.territories.get(territory) if self.registries else None
        return served.timezone if served else DEFAULT_TIMEZONE

    # -- the three loops ------------------------------------------------------------------

    async def record(self, values: Sequence[bytes]) -> int:
        """Record a bulk of alert records; an unreadable one becomes a dead letter."""
        queued = 0
        now = self.clock.now_ms()
        for value in values:
            try:
                alert = Alert.from_json(value)
            except (ValueError, KeyError, TypeError) as exc:
                await self._dead_letter(
                    f"kafka:{self.topics.alerts}", RejectReason.UNPROCESSABLE, str(exc), value
                )
                continue
            n, transitions = self.store.record(alert, self.subject(alert), self.config, now)
            queued += n
            self.recorded += 1
            self._ops += [ops_line(t) for t in transitions]
        return queued

    async def deliver(self) -> int:
        """Send every message that is due; returns how many went out."""
        out = 0
        lease_ms = int(self.settings.notify.lease_s * 1000)
        for batch in self.store.due(self.clock.now_ms(), lease_ms=lease_ms):
            if await self._send(batch):
                out += 1
        return out

    async def _send(self, batch: Batch) -> bool:
        first = batch.items[0]
        title, body = render(
            batch.items,
            batch.language,
            self.timezone(first.territory),
            self.config.dashboard_url,
        )
        self.store.attempting(batch, self.clock.now_ms())  # recorded before it goes
        try:
            await asyncio.to_thread(send, batch.channel, title, body)
        except DeliveryError as exc:
            attempts = batch.attempts + 1
            if attempts >= self.settings.notify.max_attempts:
                self.store.failed(batch, str(exc))
                self.failed += 1
                payload = json.dumps(
                    {"title": title, "body": body, "items": [asdict(i) for i in batch.items]}
                ).encode()
                await self._dead_letter(
                    f"notify:{redacted(batch.channel)}",
                    RejectReason.NOTIFICATION_FAILED,
                    f"{attempts} attempts: {exc}",
                    payload,
                )
            else:
                wait_s = self.backoff.delay(attempts - 1, self.rand())
                self.store.retry_at(batch, self.clock.now_ms() + int(wait_s * 1000))
                log.warning(
                    "channel did not take a message, retrying",
                    extra={"channel": redacted(batch.channel), "in_s": round(wait_s, 1)},
                )
            return False
        self.store.sent(batch, self.clock.now_ms())
        self.sent += 1
        return True

    async def escalate(self) -> int:
        return self.store.escalate(self.config, self.clock.now_ms())

    def write_ops(self) -> None:
        """Lifecycle points to InfluxDB; kept for the next round while it is away."""
        if not self._ops:
            return
        lines, self._ops = self._ops, []
        try:
            influxql.write_lines(self.settings.influx, lines, LONG_RP)
        except OSError as exc:
            self._ops = lines + self._ops
            log.warning("influxdb away, alert lifecycle points kept", extra={"error": str(exc)})

    async def _dead_letter(
        self, source: str, reason: RejectReason, detail: str, payload: bytes
    ) -> None:
        letter = DeadLetter.of(source, self.clock.now_ms(), reason, detail, payload)
        log.error("dead letter", extra={"reason": str(reason), "detail": detail[:300]})
        if self._producer is not None:
            await self._producer.send_and_wait(
                self.topics.deadletter, letter.model_dump_json().encode(), key=source.encode()
            )

    # -- the service ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None, tick_s: float = 0.5) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        from vigie.kafka import ensure_topics

        stop = stop or asyncio.Event()
        kafka = self.settings.kafka
        await ensure_topics(kafka)
        consumer = AIOKafkaConsumer(
            self.topics.alerts,
            bootstrap_servers=kafka.bootstrap,
            group_id=self.settings.notify.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
        await consumer.start()
        await self._producer.start()
        log.info("notifier running", extra={"routes": len(self.config.routes)})
        try:
            while not stop.is_set():
                got = await consumer.getmany(timeout_ms=int(tick_s * 1000), max_records=500)
                values = [r.value for records in got.values() for r in records]
                if values:
                    await self.record(values)
                    await consumer.commit()  # only what the store holds
                await self.escalate()
                await self.deliver()
                await asyncio.to_thread(self.write_ops)
        finally:
            await consumer.stop()
            await self._producer.stop()
            self._producer = None
