"""What crosses process boundaries: payloads, metrics, topics, the device registry."""

from vigie.contracts.deadletter import DeadLetter, RejectReason
from vigie.contracts.envelope import (
    TELEMETRY_BATCH,
    TELEMETRY_BUNDLE,
    Reading,
    TelemetryBatch,
    bundle,
)
from vigie.contracts.metrics import METRICS, MetricKind, MetricSpec, Vertical
from vigie.contracts.receipts import RECEIPT_ASKED, RECEIPT_HEADER, Receipt
from vigie.contracts.registry import Asset, AssetKind, District, Territory
from vigie.contracts.topics import Channel, DeviceTopic, KafkaTopics, TopicError

__all__ = [
    "METRICS",
    "RECEIPT_ASKED",
    "RECEIPT_HEADER",
    "TELEMETRY_BATCH",
    "TELEMETRY_BUNDLE",
    "Asset",
    "AssetKind",
    "Channel",
    "DeadLetter",
    "DeviceTopic",
    "District",
    "KafkaTopics",
    "MetricKind",
    "MetricSpec",
    "Reading",
    "Receipt",
    "RejectReason",
    "TelemetryBatch",
    "Territory",
    "TopicError",
    "Vertical",
    "bundle",
]
