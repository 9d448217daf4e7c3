"""The faust application: one agent over every vertical's telemetry topic."""

from __future__ import annotations

import asyncio
import logging

import faust

from streams.processor import TelemetryProcessor
from vigie.contracts import KafkaTopics, Territory
from vigie.kafka import ensure_topics
from vigie.settings import Settings

log = logging.getLogger("vigie.streams")


def create_app(settings: Settings) -> faust.App:
    """Build (not start) the faust app for these settings."""
    app = faust.App(
        settings.streams.app_id,
        broker=f"kafka://{settings.kafka.bootstrap}",
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
    )
    topics = KafkaTopics(settings.kafka.topic_prefix)
    source = app.topic(*topics.all_telemetry, key_type=bytes, value_type=bytes)
    table = app.Table(
        "device-state",
        default=None,
        partitions=settings.kafka.partitions,
        key_type=bytes,
        value_type=bytes,
    )
    registry = Territory.load(settings.registry).by_id() if settings.registry else None
    alerts = app.topic(topics.alerts, key_type=bytes, value_type=bytes)

    async def emit(key: bytes, value: bytes) -> None:
        await alerts.send(key=key, value=value)

    processor = TelemetryProcessor(settings, table, registry, emit)

    @app.agent(source)
    async def telemetry(stream: faust.StreamT) -> None:
        async for events in stream.take_events(
            settings.streams.take_max, within=settings.streams.take_within_s
        ):
            await processor.handle(events)

    @app.on_before_shutdown.connect
    async def close_sink(_app: faust.App, **_kw: object) -> None:
        await processor.close()

    @app.timer(interval=2.0)
    async def idle() -> None:
        await processor.on_idle(settings.streams.idle_close_s)

    @app.timer(interval=30.0)
    async def silences() -> None:
        await processor.check_silences()

    @app.timer(interval=10.0)
    async def report() -> None:
        log.info(
            "streams stats",
            extra={
                "readings": processor.readings,
                "duplicates": processor.duplicates,
                "late": processor.late,
                "alerts": processor.alerts,
            },
        )

    app.processor = processor  # type: ignore[attr-defined]
    return app


def run_worker(settings: Settings, loglevel: str = "WARNING") -> None:
    """Run one worker until SIGTERM/SIGINT; several workers share partitions as one group."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings.kafka))
    app = create_app(settings)
    worker = faust.Worker(
        app,
        loop=loop,
        loglevel=loglevel,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    worker.execute_from_commandline()
