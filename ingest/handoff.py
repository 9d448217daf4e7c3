"""The bridge's hand-off of one bulk to Kafka: route once, send (and send again) until Kafka
acknowledged every record. The MQTT side acknowledges the bulk only after ``produce`` returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ingest.bundling import Bundler
from ingest.routing import Inbound, Outbound, Router
from vigie.kafka import BrokerRestartedError
from vigie.retry import Backoff, retrying


def _kafka_transient(exc: BaseException) -> bool:
    """Errors a retry can mend: the broker away, restarting, or electing; not a record that
    is too large (that is a bug to fix, and retrying would loop)."""
    from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError

    if isinstance(exc, MessageSizeTooLargeError | RecordTooLargeError):
        return False
    return isinstance(exc, KafkaError | OSError | TimeoutError | BrokerRestartedError)


async def produce(
    router: Router,
    items: list[Inbound],
    producer: Any,
    *,
    partitions: dict[str, list[int]] | None = None,
    retry: Backoff | None = None,
    before_retry: Callable[[], Awaitable[object]] | None = None,
    verify: Callable[[], Awaitable[None]] | None = None,
    before_send: Callable[[list[Outbound]], object] | None = None,
) -> None:
    """Route a bulk of messages and wait until Kafka acknowledged every record.

    Accepted batches bound for one partition (Kafka's default murmur2 partitioner on their
    key) travel as one bundle record (``ingest.bundling``); records go in one batch per
    (topic, partition), each sent once: far less work per reading than one ``send`` each.
    Routing (validation, de-duplication, counting) happens once; sending is retried with
    ``retry`` while Kafka is away, ``before_retry`` first (re-creating topics after the
    broker came back empty). ``verify`` runs once Kafka acknowledged the bulk and raises
    ``BrokerRestartedError`` when the broker is not the one it was, which sends the bulk
    again. ``before_send`` sees the routed records once, before Kafka does (the journal).
    Nothing is acknowledged to MQTT before this returns.
    """
    t0 = time.perf_counter()
    outs = [out for item in items for out in router.route_all(item)]
    if before_send is not None:
        before_send(outs)
    messages, size = await _until_acknowledged(
        router, outs, producer, known_partitions(partitions), retry, before_retry, verify
    )
    router.settle()
    router.stats.messages_out += messages
    router.stats.bytes_out += size
    router.stats.produce_seconds += time.perf_counter() - t0
    router.stats.produced_bulks += 1


async def send_again(
    router: Router,
    outs: list[Outbound],
    producer: Any,
    *,
    partitions: dict[str, list[int]],
    retry: Backoff,
    before_retry: Callable[[], Awaitable[object]] | None = None,
) -> int:
    """Send records already routed (the journal's) until Kafka acknowledged them all."""
    sent, _ = await _until_acknowledged(router, outs, producer, partitions, retry, before_retry)
    return sent


def known_partitions(partitions: dict[str, list[int]] | None) -> dict[str, list[int]]:
    """The caller's partition cache, or a fresh one."""
    return partitions if partitions is not None else {}


async def _until_acknowledged(
    router: Router,
    outs: list[Outbound],
    producer: Any,
    partitions: dict[str, list[int]],
    retry: Backoff | None,
    before_retry: Callable[[], Awaitable[object]] | None = None,
    verify: Callable[[], Awaitable[None]] | None = None,
) -> tuple[int, int]:
    """Send, and send again while Kafka is away (``before_retry`` first), until every record
    is acknowledged and ``verify`` finds the broker it knew; (records, bytes)."""
    attempts = 0

    async def send() -> tuple[int, int]:
        nonlocal attempts
        if attempts and before_retry is not None:
            await before_retry()
        attempts += 1
        sent = await _send(router, outs, producer, partitions)
        if verify is not None:
            await verify()
        return sent

    policy = retry or Backoff(max_attempts=1)
    return await retrying(send, policy, _kafka_transient, "kafka", server="kafka")


async def _send(
    router: Router, outs: list[Outbound], producer: Any, partitions_of: dict[str, list[int]]
) -> tuple[int, int]:
    """Bundle and send the records of one bulk; (records, bytes) once Kafka has them all."""
    batches: dict[tuple[str, int], Any] = {}
    bundler = Bundler()
    pending = []
    sent = [0, 0]

    async def add(out: Outbound, partition: int) -> None:
        sent[0] += 1
        sent[1] += len(out.key) + len(out.value)
        batch = batches.get((out.topic, partition))
        if batch is None:
            batch = batches[(out.topic, partition)] = producer.create_batch()
        if batch.append(timestamp=None, key=out.key, value=out.value, headers=out.headers) is None:
            pending.append(await producer.send_batch(batch, out.topic, partition=partition))
            batch = batches[(out.topic, partition)] = producer.create_batch()
            batch.append(timestamp=None, key=out.key, value=out.value, headers=out.headers)

    for out in outs:
        partitions = partitions_of.get(out.topic)
        if partitions is None:
            partitions = partitions_of[out.topic] = sorted(await producer.partitions_for(out.topic))
        partition = router.partition_of(out.key, partitions)
        if out.topic == router.topics.deadletter:
            await add(out, partition)
        elif (full := bundler.add(out, partition)) is not None:
            await add(full, partition)
    for out, partition in bundler.drain():
        await add(out, partition)
    for (topic, partition), batch in batches.items():
        if batch.record_count():
            pending.append(await producer.send_batch(batch, topic, partition=partition))
    if pending:
        await asyncio.gather(*pending)
    return sent[0], sent[1]
