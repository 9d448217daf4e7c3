"""Kafka topic set-up shared by the ingest bridge and the stream processors."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from vigie.contracts.topics import KafkaTopics
from vigie.errors import ConnectError, RestartError
from vigie.retry import Backoff, retrying
from vigie.sections import KafkaSettings

log = logging.getLogger("vigie.kafka")


async def ensure_topics(settings: KafkaSettings, attempts: int = 20) -> list[str]:
    """Create Vigie's topics when missing (telemetry per vertical, dead letters, alerts...)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topics = KafkaTopics(settings.topic_prefix)
    wanted = [
        *topics.all_telemetry,
        topics.deadletter,
        topics.alerts,
        topics.platform,
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    try:  # a broker still starting answers within a few seconds
        await retrying(
            admin.start,
            Backoff(first_s=0.5, max_s=0.5, jitter=0.0, max_attempts=attempts),
            transient=lambda _exc: True,
            where=settings.bootstrap,
            server="kafka",
        )
    except Exception as exc:
        raise ConnectError(
            f"Kafka at {settings.bootstrap} does not answer ({exc}). "
            "Is the stack up? Try: vigie stack up"
        ) from exc
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            await admin.create_topics([NewTopic(t, settings.partitions, 1) for t in missing])
            log.info("created kafka topics", extra={"topics": missing})
        return missing
    finally:
        await admin.close()


class BrokerRestartedError(RestartError):
    """The Kafka-compatible broker answering is not the one that was (its cluster id changed):
    the embedded broker keeps data in memory, so what it acknowledged before may be gone."""


async def cluster_id(client: Any) -> str | None:
    """The cluster id the broker reports (one metadata request, well under a millisecond
    locally); the local stack starts Tansu with a new id each time, so a change tells that
    the broker came back empty."""
    from aiokafka.protocol.metadata import MetadataRequest

    node = client.get_random_node()
    response = await client.send(node, MetadataRequest([], allow_auto_topic_creation=False))
    return getattr(response, "cluster_id", None)


class BrokerWatch:
    """Tells when the Kafka-compatible broker is no longer the one first seen (cluster id);
    a broker that does not answer is not a new one (yet)."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._client: Any = None
        self.first: str | None = None

    async def restarted(self) -> bool:
        from aiokafka.client import AIOKafkaClient

        try:
            if self._client is None:
                client = AIOKafkaClient(bootstrap_servers=self.settings.bootstrap)
                await client.bootstrap()
                self._client = client
            current = await cluster_id(self._client)
        except Exception as exc:  # away or restarting: asked again at the next tick
            log.info("kafka cluster id not read", extra={"error": str(exc)[:200]})
            return False
        if self.first is None:
            self.first = current
        return current != self.first

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


async def read_topic(settings: KafkaSettings, topic: str, timeout_s: float = 10.0) -> list:
    """Every record currently in a topic, from the beginning to the end offsets."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetches cluster metadata
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= end[tp] for pos, tp in zip(positions, tps, strict=True)):
                break
            batch = await consumer.getmany(*tps, timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()
