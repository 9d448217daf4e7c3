"""What one MQTT message becomes on Kafka: a telemetry record, a dead letter, or nothing.

No I/O: the bridge produces what ``Router.route`` returns. Counting and de-duplication
happen here so that the bridge and the benchmark run the very same path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiokafka.partitioner import DefaultPartitioner

from ingest.dedup import SequenceTracker, SeqVerdict
from ingest.stats import BridgeStats
from ingest.validation import Accepted, ValidationPolicy, not_for_ingest, validate
from vigie.contracts import RECEIPT_HEADER, Asset, Channel, DeadLetter, KafkaTopics
from vigie.registries import Registries

log = logging.getLogger("vigie.ingest")
_PARTITIONER = DefaultPartitioner()

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Inbound:
    """One MQTT message as received."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at_ms: int
    receipt: bool = False  # the sender asked for storage receipts (``vigie.contracts.receipts``)


@dataclass(frozen=True, slots=True)
class Outbound:
    """One Kafka record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers
    # (territory, device, seq) of a batch the bridge journals until its storage receipt
    pending: tuple[str, str, int] | None = None


@dataclass
class Router:
    """Validates, de-duplicates and routes messages; keeps the counters."""

    topics: KafkaTopics
    policy: ValidationPolicy
    registry: Mapping[str, Asset] | Registries | None
    tracker: SequenceTracker
    stats: BridgeStats
    instance: str = "0"
    # journal what publishers that keep nothing themselves sent (``ingest.journal``): their
    # batches ask the worker for storage receipts as an agent's do
    journal: bool = False
    _partitions: dict[tuple[bytes, int], int] = field(default_factory=dict)

    def partition_of(self, key: bytes, partitions: list[int]) -> int:
        """Kafka's default (murmur2) partition of a key, remembered: keys repeat per device."""
        cached = self._partitions.get((key, len(partitions)))
        if cached is None:
            if len(self._partitions) > 1_000_000:
                self._partitions.clear()
            cached = _PARTITIONER(key, partitions, partitions)
            self._partitions[(key, len(partitions))] = cached
        return cached

    def route_all(self, item: Inbound) -> list[Outbound]:
        """Every record one message becomes (a source translated into Vigie's batches may
        give a batch and a dead letter for what it could not keep)."""
        out = self.route(item)
        return [] if out is None else [out]

    def settle(self) -> None:
        """Kafka acknowledged the bulk routed since the last call (before MQTT is told)."""

    def route(self, item: Inbound) -> Outbound | None:
        """The record this message becomes; None for a status, command or acknowledgement seen
        under the prefix (acknowledged, not produced).

        A repeated (device, seq) is counted and still produced: an edge agent sends a batch
        again when no storage receipt named it, which happens when what the bridge handed on
        was lost further down (the embedded Kafka-compatible broker restarted) or when its
        receipt was; the stream worker, which sees every batch of a device, recognises a true
        repeat, drops it and receipts it again."""
        if not_for_ingest(item.topic, self.policy.prefix):
            self.stats.ignored += 1
            return None
        self.stats.received += 1
        self.stats.bytes_in += len(item.payload)
        verdict = validate(
            item.topic, item.payload, item.received_at_ms, self.policy, self.registry
        )
        if not isinstance(verdict, Accepted):
            self.stats.rejected[verdict.reason] += 1
            log.warning(
                "rejected",
                extra={
                    "topic": item.topic,
                    "reason": verdict.reason,
                    "detail": verdict.detail[:200],
                },
            )
            letter = DeadLetter.of(
                item.topic, item.received_at_ms, verdict.reason, verdict.detail, item.payload
            )
            return Outbound(
                self.topics.deadletter,
                item.topic.encode(),
                letter.model_dump_json().encode(),
                [("reason", verdict.reason.encode())],
            )
        batch = verdict.batch
        history = verdict.topic.channel is Channel.BACKFILL
        # history numbers its batches apart from the device's own: it is tracked downstream
        seen = None if history else self.tracker.observe(batch.device_id, batch.seq)
        self.stats.duplicates += seen is SeqVerdict.DUPLICATE
        self.stats.stale += seen is SeqVerdict.STALE
        self.stats.accepted += 1
        self.stats.readings += len(batch.readings)
        vertical = str(verdict.topic.vertical)
        self.stats.by_vertical[(vertical, "messages_in")] += 1
        self.stats.by_vertical[(vertical, "bytes_in")] += len(item.payload)
        self.stats.by_vertical[(vertical, "readings")] += len(batch.readings)
        headers = [
            ("territory", verdict.topic.territory.encode()),
            ("source", b"backfill" if history else b"live"),
            ("received_at_ms", str(item.received_at_ms).encode()),
            ("ingest", self.instance.encode()),
        ]
        pending = None
        if self.journal and not history and not item.receipt:
            pending = (verdict.topic.territory, batch.device_id, batch.seq)
        if (item.receipt or pending) and not history:
            headers.append((RECEIPT_HEADER, b"1"))
        assets = (
            self.registry.assets(verdict.topic.territory)
            if isinstance(self.registry, Registries)
            else self.registry
        )
        asset = assets.get(batch.device_id) if assets is not None else None
        key = asset.partition_key if asset is not None else batch.device_id
        return Outbound(
            self.topics.telemetry(verdict.topic.vertical),
            key.encode(),
            item.payload,
            headers,
            pending,
        )
