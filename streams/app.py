"""The faust application: one agent over every vertical's telemetry topic."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

import faust
from faust.types import TP, EventT
from pydantic import ValidationError

from streams import transport
from streams.offsets import Admission, OffsetGuard
from streams.processor import TelemetryProcessor
from streams.stall import RecoveryWatch
from vigie.contracts import KafkaTopics, Vertical
from vigie.contracts.platform import PlatformReport
from vigie.exits import Exit
from vigie.kafka import BrokerWatch, ensure_topics
from vigie.registries import Registries
from vigie.settings import Settings, vigie_home

log = logging.getLogger("vigie.streams")


def create_app(
    settings: Settings, watch: BrokerWatch | None = None, registry: Registries | None = None
) -> faust.App:
    """Build (not start) the faust app for these settings.

    The app id (the consumer group, and the prefix of the changelog topics) carries the Kafka
    cluster id: workers on one cluster form one group, and after the embedded broker came back
    empty, fresh workers start a fresh group and changelog rather than meet the members and
    records a dying worker left on the new broker."""
    app = _faust_app(settings, f"{settings.streams.app_id}{_cluster_suffix(watch)}")
    topics = KafkaTopics(settings.kafka.topic_prefix)
    table = app.Table(
        "device-state",
        default=None,
        partitions=settings.kafka.partitions,
        key_type=bytes,
        value_type=bytes,
    )
    if registry is None and settings.registry:  # else the one its caller read
        registry = Registries.load(settings.registry)
    alerts = app.topic(topics.alerts, key_type=bytes, value_type=bytes)
    deadletters = app.topic(topics.deadletter, key_type=bytes, value_type=bytes)

    async def emit(key: bytes, value: bytes) -> None:
        await alerts.send(key=key, value=value)

    async def emit_dead_letter(key: bytes, value: bytes) -> None:
        # delivered before the record it replaces is acknowledged
        await (await deadletters.send(key=key, value=value))

    processor = TelemetryProcessor(settings, table, registry, emit, emit_dead_letter)
    guard = OffsetGuard()
    _consume(app, settings, topics, deadletters, processor, guard)
    _watch(app, settings, processor, guard, watch or BrokerWatch(settings.kafka))
    app.processor = processor  # type: ignore[attr-defined]  # hung on the app for the CLI and tests
    app.offset_guard = guard  # type: ignore[attr-defined]  # as above
    return app


def _faust_app(settings: Settings, app_id: str) -> faust.App:
    """The faust app itself: in-memory tables backed by their changelog, offsets committed
    every second, a killed worker's partitions moved within seconds."""
    # faust's own folder, under Vigie's home rather than wherever the worker was started
    datadir = vigie_home() / "streams" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        datadir=str(datadir),
        broker=f"{transport.SCHEME}://{settings.kafka.bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        table_standby_replicas=0,
        broker_commit_every=500,
        broker_commit_interval=1.0,
        # a killed worker's partitions move to the others within seconds, not a minute
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        # changelog records of a bulk leave together, not one request each
        producer_linger=0.02,
        producer_max_batch_size=262_144,
    )


def _consume(
    app: faust.App,
    settings: Settings,
    topics: KafkaTopics,
    deadletters: faust.TopicT,
    processor: TelemetryProcessor,
    guard: OffsetGuard,
) -> None:
    """The agents: telemetry (one per vertical, offsets guarded), dead letters, platform
    reports; the sink closed before shutdown."""

    async def admit(events: Sequence[EventT[Any]]) -> list[EventT[Any]]:
        """The events that follow on from what this worker saw; seeks back over a gap."""
        kept = []
        for event in events:
            tp, offset = event.message.tp, event.message.offset
            if tp not in guard.parts:
                # the offset faust sought to when the partition was assigned (no public getter)
                guard.start(tp, getattr(app.consumer, "_committed_offset", {}).get(tp))
            verdict = guard.admit(tp, offset, time.monotonic())
            if verdict is Admission.ACCEPT:
                kept.append(event)
            elif verdict is Admission.SEEK:
                target = guard.seek_target(tp)
                log.warning(
                    "offsets jumped, fetching the missing messages again",
                    extra={"partition": str(tp), "expected": target, "received": offset},
                )
                await app.consumer.seek_wait({tp: target})
        return kept

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # faust's hint wants a sync receiver
    async def forget(_app: faust.App, revoked: set[TP], **_kw: object) -> None:
        guard.forget(revoked)

    async def acknowledge(stream: faust.StreamT[Any], events: list[EventT[Any]]) -> None:
        for event in events:
            await stream.ack(event)

    async def telemetry(stream: faust.StreamT[Any]) -> None:
        # acknowledged by hand: only what was processed, after it was written
        with _exit_on_crash(app, "telemetry"):
            async for events in stream.noack_take(  # type: ignore[attr-defined]  # faust-streaming's StreamT protocol lacks it
                settings.streams.take_max, within=settings.streams.take_within_s
            ):
                transport.pace_fetches(app, transport.FETCH_MAX_WAIT_MS)
                kept = await admit(events)
                if kept:
                    await processor.handle(kept, written=partial(acknowledge, stream, kept))

    # one agent per vertical: a vertical's bulks never wait for another's to fill; they share
    # the processor (one bulk folded at a time, one in flight to InfluxDB)
    for vertical in Vertical:
        source = app.topic(topics.telemetry(vertical), key_type=bytes, value_type=bytes)
        app.agent(source, name=f"vigie.streams.telemetry.{vertical}")(telemetry)

    @app.agent(deadletters)
    async def quality(stream: faust.StreamT[Any]) -> None:
        with _exit_on_crash(app, "dead letters"):
            async for events in stream.take_events(500, within=1.0):  # type: ignore[attr-defined]  # as above
                await processor.dead_letters(events)

    @app.agent(app.topic(topics.platform, key_type=bytes, value_type=bytes))
    async def platform(stream: faust.StreamT[Any]) -> None:
        async for value in stream:
            try:
                report = PlatformReport.model_validate_json(value)
            except ValidationError as exc:
                log.error("unreadable platform report", extra={"error": str(exc)[:200]})
                continue
            await processor.platform_report(report)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # faust's hint wants a sync receiver
    async def close_sink(_app: faust.App, **_kw: object) -> None:
        _exit_if_stuck(settings.streams.stop_timeout_s)
        await processor.close()


def _watch(
    app: faust.App,
    settings: Settings,
    processor: TelemetryProcessor,
    guard: OffsetGuard,
    watch: BrokerWatch,
) -> None:
    """The timers: idle closing, stalled table recovery, offsets to fetch again, a broker
    that came back empty, silent devices, late roll-ups and the worker's own figures."""

    @app.timer(interval=2.0)
    async def idle() -> None:
        await processor.on_idle(settings.streams.idle_close_s)
        if processor.idle_s() >= settings.streams.idle_fetch_after_s:
            transport.pace_fetches(app, settings.streams.idle_fetch_wait_ms)

    recovery_watch = RecoveryWatch(settings.streams.recovery_stall_s)

    @app.timer(interval=5.0)
    async def recovery_stalled() -> None:
        recovery = getattr(app.tables, "recovery", None)  # the concrete TableManager's
        if recovery is None:
            return
        position = tuple(sorted((str(tp), o) for tp, o in recovery.active_offsets.items()))
        now = time.monotonic()
        if recovery_watch.stalled(bool(recovery.in_recovery), position, now):
            log.error(
                "table recovery stalled: exiting for a fresh start",
                extra={"stalled_s": round(recovery_watch.stuck_for(now)),
                       "exit_code": int(Exit.RESTART)},
            )  # fmt: skip
            logging.shutdown()
            os._exit(int(Exit.RESTART))

    @app.timer(interval=1.0)
    async def reseek() -> None:
        # a seek can be undone by messages fetched before it (faust drops offsets below the
        # last it delivered): ask again until the missing offset comes
        for tp, target in guard.stalled(time.monotonic(), after_s=2.0).items():
            log.warning("offset still missing, seeking again", extra={"partition": str(tp)})
            await app.consumer.seek_wait({cast(TP, tp): target})

    @app.timer(interval=2.0)
    async def broker_restarted() -> None:
        # the embedded broker came back empty: consumer offsets and this worker's changelog
        # are gone with it. A fresh worker (started again by the service manager) reads the
        # new topics from their start and rebuilds windows from InfluxDB (streams.recovery)
        if await watch.restarted():
            log.error(
                "the kafka-compatible broker restarted empty: exiting for a fresh start",
                extra={"exit_code": int(Exit.RESTART)},
            )
            logging.shutdown()
            os._exit(int(Exit.RESTART))

    @app.timer(interval=30.0)
    async def silences() -> None:
        await processor.check_silences()

    @app.timer(interval=settings.streams.rollup_catchup_s)
    async def rollups() -> None:
        await processor.catch_up_rollups()

    @app.timer(interval=10.0)
    async def report() -> None:
        await processor.report_self()
        log.info(
            "streams stats",
            extra={
                "readings": processor.readings,
                "duplicates": processor.duplicates,
                "late": processor.late,
                "alerts": processor.alerts,
                "rejected": processor.rejected,
                "unprocessable": processor.unprocessable,
                "offset_gaps": guard.gaps,
                "offsets_lost": guard.lost,
            },
        )


@contextmanager
def _exit_on_crash(app: faust.App, agent: str) -> Iterator[None]:
    """An agent that crashed leaves faust running with nothing consuming its topic: exit
    instead, for the service manager to start a fresh worker (what was not acknowledged is
    delivered again). A record that cannot be folded never gets here: it is a dead letter."""
    try:
        yield
    except asyncio.CancelledError:
        raise
    except Exception:
        if app.should_stop:  # stopping anyway: faust ends the agents its own way
            raise
        log.exception("agent crashed: exiting for a fresh start", extra={"agent": agent})
        logging.shutdown()
        os._exit(int(Exit.RESTART))


def _exit_if_stuck(timeout_s: float) -> None:
    """A stop must end: faust waits for a Kafka-compatible broker that may be gone (it once
    ignored SIGTERM for 20 s and more). Nothing is lost by leaving then: what was not written
    and acknowledged is delivered again to the next worker."""

    def leave() -> None:
        time.sleep(timeout_s)
        log.error("stop took too long (is Kafka reachable?): leaving", extra={"after_s": timeout_s})
        logging.shutdown()
        os._exit(int(Exit.FAILED))

    threading.Thread(target=leave, name="vigie-stop-watchdog", daemon=True).start()


def _cluster_suffix(watch: BrokerWatch | None) -> str:
    if watch is None or not watch.first:
        return ""
    return "-" + re.sub(r"[^a-zA-Z0-9_-]", "", watch.first)[:40]


def run_worker(
    settings: Settings, loglevel: str = "WARNING", registry: Registries | None = None
) -> None:
    """Run one worker until SIGTERM/SIGINT; several workers share partitions as one group
    (``registry``: the territories already read, else read from the settings)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings.kafka))
    watch = BrokerWatch(settings.kafka)
    loop.run_until_complete(watch.restarted())  # the broker this worker starts with
    app = create_app(settings, watch, registry)
    worker = faust.Worker(
        app,
        loop=loop,
        loglevel=loglevel,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    worker.execute_from_commandline()
