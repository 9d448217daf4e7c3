"""The MQTT -> Kafka bridge: subscribe (shared), validate, produce, then acknowledge.

An MQTT message is acknowledged only once Kafka has acknowledged what it became (a record on
its vertical's topic, or a dead letter), so a bridge killed at any moment loses nothing: the
broker redelivers what was not acknowledged, and (device, seq) de-duplication drops repeats.

With several bridges behind one shared subscription, a device's batches are spread over them:
each bridge's duplicate and gap counters see only its share. The stream processors, which see
every batch of a device in order on its partition, hold the authoritative de-duplication and
missing-sequence counts.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from ingest.dedup import SequenceTracker
from ingest.handoff import produce, send_again
from ingest.inbox import Inbox
from ingest.journal import Journal
from ingest.routing import Inbound, Outbound, Router
from ingest.stats import BridgeStats, StatsCollector
from ingest.validation import ValidationPolicy
from vigie.clock import SYSTEM, Clock
from vigie.contracts import KafkaTopics, Receipt
from vigie.contracts.platform import PlatformReport
from vigie.contracts.topics import DeviceTopic, everything_filter, platform_status, shared
from vigie.errors import UsageError
from vigie.kafka import BrokerRestartedError, cluster_id, ensure_topics
from vigie.mqtt import MqttConnectError, asks_receipt, connect, make_client
from vigie.registries import Registries
from vigie.retry import SERVER, Backoff
from vigie.settings import Settings, vigie_home
from vigie.usage import ProcessUsage

log = logging.getLogger("vigie.ingest")


@dataclass(frozen=True)
class BridgePolicy:
    """Batching of the hand-off, MQTT flow control and producer settings."""

    max_batch: int = 2000
    # after a bulk's first message, wait this long for more: each bulk costs a fixed round
    # trip to Kafka (and the worker a fixed cost per record), so at a few hundred messages a
    # second, bulks of one message cost several times what gathered ones do
    gather_s: float = 0.05
    receive_maximum: int = 4000  # unacknowledged messages the broker may have in flight to us
    session_expiry_s: int = 3600
    stats_every_s: float = 10.0
    linger_ms: int = 5
    leave_timeout_s: float = 10.0  # graceful stop: at most this long to hand back the share
    leave_quiet_s: float = 0.5  # ... and done once nothing came for this long
    # Kafka away: the bulk waits (unacknowledged on MQTT) and is sent again, forever
    kafka_retry: Backoff = field(default_factory=lambda: SERVER.model_copy(update={"max_s": 5.0}))
    kafka_request_timeout_ms: int = 10_000
    mqtt_reconnect_s: tuple[float, float] = (0.1, 2.0)  # first and largest reconnection delay
    # after each bulk, ask the broker's cluster id: a broker that came back empty (the
    # embedded one keeps data in memory) gets the bulk again before MQTT is acknowledged
    verify_broker: bool = True
    compression: str | None = None  # "gzip" where the broker supports it
    # a graceful stop hands the share back and ends the MQTT session (other bridges of the
    # shared subscription take over); a sole subscriber keeps its session instead, so that
    # the broker queues what comes while it is away
    hand_back: bool = True
    # with the journal: how often to ask whether the Kafka-compatible broker came back empty
    # while no bulk asks it (and to prune the journal)
    journal_check_s: float = 5.0


def _default_policy(settings: Settings) -> BridgePolicy:
    """A bridge's policy from its settings: a sole subscriber keeps its session across a
    graceful stop, for as long as ingest accepts a message's age, so that the broker queues
    what comes while it is away."""
    if settings.ingest.shared:
        return BridgePolicy(compression=settings.ingest.compression)
    return BridgePolicy(
        compression=settings.ingest.compression,
        hand_back=False,
        session_expiry_s=int(settings.ingest.max_age_s),
    )


class NoRegistryError(UsageError):
    """A bridge asked to run without a territory registry, and not told to accept any device."""


def make_router(settings: Settings, instance: str) -> Router:
    """The bridge's validation and routing, from settings. Without a registry the bridge
    cannot tell a known device from a stranger: it refuses to start unless told explicitly
    to accept any device, and then says so in its log and its metrics."""
    ingest = settings.ingest
    registry = Registries.load(settings.registry) if settings.registry else None
    if registry is None and not ingest.accept_any_device:
        raise NoRegistryError(
            "no territory registry: set VIGIE_REGISTRY to the territory file, or a folder of "
            "them, one per territory served (devices not in "
            "it become unknown_device dead letters), or VIGIE_INGEST__ACCEPT_ANY_DEVICE=true "
            "to accept every device id (tests and replays only)"
        )
    if registry is None:
        log.warning(
            "registry checks off: every device id is accepted", extra={"instance": instance}
        )
    return Router(
        topics=KafkaTopics(settings.kafka.topic_prefix),
        policy=ValidationPolicy(
            ingest.max_payload_bytes,
            ingest.max_clock_skew_s,
            ingest.max_age_s,
            settings.mqtt.prefix,
        ),
        registry=registry,
        tracker=SequenceTracker(window=settings.sequence_window),
        stats=BridgeStats(),
        instance=instance,
    )


class Bridge:
    """One bridge instance; several share the load through an MQTT v5 shared subscription."""

    def __init__(
        self,
        settings: Settings,
        instance: str = "0",
        policy: BridgePolicy | None = None,
        clock: Clock = SYSTEM,
        router: Router | None = None,
        filters: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.instance = instance
        self.policy = policy or _default_policy(settings)
        self.router = router or make_router(settings, instance)
        self.stats = self.router.stats
        self.status_topic = platform_status(settings.mqtt.prefix, f"ingest-{instance}")
        self._inbox: Inbox[Inbound] = Inbox()
        everything = everything_filter(settings.mqtt.prefix)
        self.filters = filters or [
            shared(everything, settings.ingest.share_group)
            if settings.ingest.shared
            else everything
        ]
        self._unsubscribed = asyncio.Event()
        self._partitions: dict[str, list[int]] = {}
        self._cluster: str | None = None  # the Kafka cluster id this bridge sends to
        self._producer: Any = None
        self._stopping = asyncio.Event()
        self._error: BaseException | None = None
        self.journal: Journal | None = None
        self._resend_due = False
        if settings.ingest.journal:
            self.journal = Journal(vigie_home() / "ingest" / f"{instance}.journal.db")
            self.router.journal = True
            # receipts come to every bridge that may hold the batch: not through the share
            receipts = f"{settings.mqtt.prefix}/+/+/+/receipt"
            if everything not in self.filters:
                self.filters = [*self.filters, receipts]

    # -- MQTT side (paho thread) ----------------------------------------------------------

    def _mqtt_client(self, loop: asyncio.AbstractEventLoop) -> mqtt.Client:
        client = make_client(self.settings.mqtt, f"vigie-ingest-{self.instance}", manual_ack=True)
        # everything under the prefix, so that a payload on a malformed topic becomes a dead
        # letter; status, commands and acknowledgements are acknowledged and left alone
        filters = self.filters

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
            c.subscribe([(f, 1) for f in filters])
            c.publish(self.status_topic, b"online", qos=1, retain=True)
            log.info("mqtt connected", extra={"filter": ", ".join(filters)})

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            item = Inbound(
                msg.topic,
                bytes(msg.payload),
                msg.mid,
                msg.qos,
                self.clock.now_ms(),
                asks_receipt(msg),
            )
            self._inbox.put(item)

        def on_unsubscribe(*_args: object) -> None:
            loop.call_soon_threadsafe(self._unsubscribed.set)

        client.on_connect = on_connect
        client.on_message = on_message
        client.on_unsubscribe = on_unsubscribe
        client.reconnect_delay_set(*self.policy.mqtt_reconnect_s)  # type: ignore[arg-type]  # paho sleeps float seconds; its hint says int
        client.will_set(self.status_topic, b"offline", qos=1, retain=True)
        return client

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        self._stop()

    def _stop(self) -> None:
        self._stopping.set()
        self._inbox.nudge()

    # -- Kafka side (asyncio) -------------------------------------------------------------

    async def run(self) -> None:
        """Run until stopped by a signal or a fatal error; raises that error."""
        from aiokafka import AIOKafkaProducer

        loop = asyncio.get_running_loop()
        self._inbox.attach(loop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop)
        self._serve_metrics()
        await ensure_topics(self.settings.kafka)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka.bootstrap,
            acks="all",
            linger_ms=self.policy.linger_ms,
            compression_type=self.policy.compression,
            max_batch_size=1 << 20,
            max_request_size=4 << 20,
            request_timeout_ms=self.policy.kafka_request_timeout_ms,
        )
        await producer.start()
        self._producer = producer
        self._cluster = await cluster_id(producer.client)
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
        stats_task = asyncio.create_task(self._report_stats(producer))
        watch_task = asyncio.create_task(self._watch_journal()) if self.journal else None
        try:
            await self._pump(producer, client)
            if self._error is None and self.policy.hand_back:
                await self._leave(producer, client)
        finally:
            stats_task.cancel()
            if watch_task is not None:
                watch_task.cancel()
            client.publish(self.status_topic, b"offline", qos=1, retain=True)
            client.disconnect()
            client.loop_stop()
            await producer.stop()
            if self.journal is not None:
                self.journal.close()
            log.info("bridge stopped", extra=self.stats.as_fields())
        if self._error is not None:
            raise self._error

    async def _pump(self, producer: Any, client: mqtt.Client) -> None:
        while not self._stopping.is_set():
            if await self._inbox.wait(stop=lambda: self._stopping.is_set() or self._resend_due):
                await self._hand_off(producer, client)
            if self._resend_due and not self._stopping.is_set():
                await self._resend(producer)

    async def _hand_off(self, producer: Any, client: mqtt.Client) -> None:
        """Produce a bulk (what came within ``gather_s`` of the first message waiting, at
        most ``max_batch``), then acknowledge it to MQTT."""
        if len(self._inbox) < self.policy.max_batch and not self._stopping.is_set():
            await asyncio.sleep(self.policy.gather_s)  # I/O pacing, not event time
        items = self._inbox.take(self.policy.max_batch)
        if self.journal is not None:
            self._settle(items)
        await produce(
            self.router,
            items,
            producer,
            partitions=self._partitions,
            retry=self.policy.kafka_retry,
            before_retry=self._recreate_topics,
            verify=self._same_broker if self.policy.verify_broker else None,
            before_send=self._journal_write if self.journal is not None else None,
        )
        for item in items:  # in reception order, as MQTT requires
            client.ack(item.mid, item.qos)

    async def _same_broker(self) -> None:
        """Raise when the broker that acknowledged the bulk is not the one this bridge knew."""
        current = await cluster_id(self._producer.client)
        if self._cluster is None:
            self._cluster = current
        elif current != self._cluster:
            was, self._cluster = self._cluster, current
            log.error(
                "the kafka-compatible broker restarted empty: sending the bulk again",
                extra={"was": was, "now": current},
            )
            self._partitions.clear()
            self._resend_due = self.journal is not None
            raise BrokerRestartedError(f"cluster id {current}, was {was}")

    # -- the journal (publishers without receipts) -------------------------------------------

    def _journal_write(self, outs: list[Outbound]) -> None:
        if self.journal is not None:
            self.journal.add(outs, self.clock.now_ms())

    def _settle(self, items: list[Inbound]) -> None:
        """Storage receipts among the messages: forget the journaled batches they name."""
        if self.journal is None:
            return
        prefix = self.settings.mqtt.prefix
        for item in items:
            if not item.topic.endswith("/receipt"):
                continue
            try:
                topic = DeviceTopic.parse(item.topic, prefix)
                receipt = Receipt.model_validate_json(item.payload)
            except ValueError:
                continue  # not ours to judge: the router counts it as ignored
            self.journal.settle(topic.territory, topic.device_id, receipt.stored)

    async def _resend(self, producer: Any) -> None:
        """Send every journaled batch again: the Kafka-compatible broker lost what it held."""
        self._resend_due = False
        if self.journal is None:
            return
        sent = 0
        for chunk in self.journal.pending():
            sent += len(chunk)
            await send_again(
                self.router,
                chunk,
                producer,
                partitions=self._partitions,
                retry=self.policy.kafka_retry,
                before_retry=self._recreate_topics,
            )
        self.stats.resent += sent
        log.warning(
            "journal sent again: the kafka-compatible broker came back empty",
            extra={"batches": sent},
        )

    async def _watch_journal(self) -> None:
        """While batches wait for receipts and no bulk comes to ask, ask whether the broker
        came back empty; prune the journal past its bounds."""
        journal = self.journal
        if journal is None:
            return
        while True:
            await asyncio.sleep(self.policy.journal_check_s)
            dropped = journal.prune(self.clock.now_ms())
            if dropped:
                log.error(
                    "journal full or too old: oldest batches given up",
                    extra={"dropped": dropped, "dropped_total": journal.dropped},
                )
            if not len(journal) or self._producer is None:
                continue
            try:
                current = await cluster_id(self._producer.client)
            except Exception:  # away: the next bulk or look finds out  # noqa: S112
                continue
            if self._cluster is not None and current != self._cluster:
                log.error(
                    "the kafka-compatible broker restarted empty: the journal goes again",
                    extra={"was": self._cluster, "now": current},
                )
                self._cluster = current
                self._partitions.clear()
                self._resend_due = True
                self._inbox.nudge()

    async def _recreate_topics(self) -> None:
        """The Kafka-compatible broker may be back empty (Tansu keeps data in memory): create
        the topics again before sending the bulk again."""
        try:
            created = await ensure_topics(self.settings.kafka, attempts=1)
        except Exception as exc:  # still away: the retry loop waits and comes back
            log.info("kafka topics not checked", extra={"error": str(exc)[:200]})
            return
        if created:
            log.warning("kafka topics were gone, created again", extra={"topics": created})

    async def _leave(self, producer: Any, client: mqtt.Client) -> None:
        """A graceful stop hands this instance's share back: unsubscribe, hand off and
        acknowledge what the broker had already sent or queued for us, then end the session,
        so that the broker routes nothing more to a stopped instance. If the hand-off does not
        finish in time, the session is kept and a restarted instance resumes it."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self._unsubscribed.clear()
        client.unsubscribe(self.filters)
        try:
            await asyncio.wait_for(self._unsubscribed.wait(), self.policy.leave_timeout_s)
        except TimeoutError:
            log.warning("no unsubscribe acknowledgement: the session is kept")
            return
        deadline = self.clock.monotonic() + self.policy.leave_timeout_s
        while self.clock.monotonic() < deadline:
            # queued messages keep coming as in-flight ones are acknowledged
            if not await self._inbox.wait(self.policy.leave_quiet_s):
                props = Properties(PacketTypes.DISCONNECT)
                props.SessionExpiryInterval = 0
                client.publish(self.status_topic, b"offline", qos=1, retain=True)
                client.disconnect(properties=props)
                log.info("share handed back, session ended", extra=self.stats.as_fields())
                return
            await self._hand_off(producer, client)
        log.warning("hand-off not finished in time: the session is kept for a restart")

    def _serve_metrics(self) -> None:
        port = self.settings.ingest.metrics_port
        if not port:
            return
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry()
        registry.register(
            StatsCollector(
                self.stats,
                self.router.tracker.gaps,
                self.instance,
                registry_checks=self.router.registry is not None,
            )
        )
        host = self.settings.ingest.metrics_host
        try:
            start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            raise UsageError(
                f"cannot serve metrics on {host}:{port} ({exc.strerror}): another program uses "
                "it; give the bridge another port (VIGIE_INGEST__METRICS_PORT; a site: "
                "[site.ports] metrics_first)"
            ) from None
        log.info("prometheus metrics", extra={"url": f"http://{host}:{port}/metrics"})

    async def _report_stats(self, producer: Any) -> None:
        """Log the counters, and send the platform topic what this bridge moved and used."""
        usage = ProcessUsage()
        before, before_vertical = self.stats.traffic(), Counter(self.stats.by_vertical)
        topic = KafkaTopics(self.settings.kafka.topic_prefix).platform
        while True:
            await asyncio.sleep(self.policy.stats_every_s)
            log.info("bridge stats", extra=self.stats.as_fields())
            now, now_vertical = self.stats.traffic(), Counter(self.stats.by_vertical)
            report = PlatformReport.of(
                "ingest",
                self.instance,
                self.settings.territory,
                usage.sample(),
                now - before,
                now_vertical - before_vertical,
                self.clock.now_ms(),
            )
            before, before_vertical = now, now_vertical
            try:
                await producer.send_and_wait(topic, report.model_dump_json().encode())
            except Exception as exc:  # the bridge's own figures never stop the bridge
                log.warning("platform report not sent", extra={"error": str(exc)})
