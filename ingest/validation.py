"""Validation of one MQTT telemetry message: pure, no I/O, returns a batch or a rejection.

A batch is the unit of the contract: if any reading in it is wrong, the whole batch goes to the
dead-letter topic with its raw bytes, so nothing is lost and it can be replayed once fixed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ingest.schema import batch_of
from vigie.contracts import (
    METRICS,
    Asset,
    Channel,
    DeviceTopic,
    RejectReason,
    TelemetryBatch,
    TopicError,
    Vertical,
)
from vigie.contracts.envelope import MAX_PAYLOAD_BYTES
from vigie.contracts.topics import PLATFORM
from vigie.registries import Registries


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """Limits applied to every incoming message."""

    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    max_clock_skew_s: float = 300.0  # how far in the future a reading may be
    max_age_s: float = 7 * 86400.0  # how far in the past (raw retention)
    prefix: str = "vigie"


@dataclass(frozen=True, slots=True)
class Accepted:
    topic: DeviceTopic
    batch: TelemetryBatch


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: RejectReason
    detail: str


def _schema_rejection(exc: ValidationError, vertical: Vertical) -> Rejected:
    """Map pydantic's first error to a stable reason; the detail lists the first three."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    kind, loc = first["type"], first["loc"]
    if kind in ("json_invalid", "json_type"):
        return Rejected(RejectReason.MALFORMED_JSON, f"payload is not JSON: {first['msg']}")
    if kind == "union_tag_invalid":
        tag = str(first.get("ctx", {}).get("tag", ""))
        if tag in METRICS:
            where = ".".join(str(p) for p in loc)
            return Rejected(
                RejectReason.WRONG_VERTICAL,
                f"{where}.metric: {tag} belongs to {METRICS[tag].vertical}, not {vertical}",
            )
        if not isinstance(first["input"], dict) or not isinstance(
            first["input"].get("metric"), str
        ):
            return _schema_rejection_listed(errors)
        return Rejected(
            RejectReason.UNKNOWN_METRIC,
            f"{'.'.join(str(p) for p in loc)}.metric: {tag!r} is not in the metric catalogue; "
            "declare it in the metrics.toml beside the registry (vigie registry metrics)",
        )
    if kind in _BOUND_ERRORS and loc[0] == "readings" and loc[-1] == "value":
        spec = METRICS[str(loc[-2])]
        return Rejected(
            RejectReason.OUT_OF_BOUNDS,
            f"readings.{loc[1]}.value: {first['input']} "
            f"{spec.unit} outside [{spec.minimum}, {spec.maximum}] for {spec.name}",
        )
    return _schema_rejection_listed(errors)


def _schema_rejection_listed(errors: list[ErrorDetails]) -> Rejected:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in errors[:3]]
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return Rejected(RejectReason.SCHEMA, "; ".join(parts) + more)


_BOUND_ERRORS = frozenset({"less_than_equal", "greater_than_equal"})


def _clock_problem(
    batch: TelemetryBatch, now_ms: int, policy: ValidationPolicy, history: bool = False
) -> Rejected | None:
    """Readings from the future are refused; from the past, beyond ``max_age_s``, unless the
    batch is history imported on the backfill channel (any age since 1970)."""
    stamps = [r["ts_ms"] for r in batch.readings]
    earliest = 0 if history else now_ms - int(policy.max_age_s * 1000)
    latest = now_ms + int(policy.max_clock_skew_s * 1000)
    if earliest <= min(stamps) and max(stamps) <= latest:
        return None
    i, ts = next((i, t) for i, t in enumerate(stamps) if not earliest <= t <= latest)
    return Rejected(
        RejectReason.CLOCK_SKEW,
        f"readings.{i}.ts_ms: {ts} is {(ts - now_ms) / 1000:+.0f} s from reception, beyond "
        f"-{policy.max_age_s:.0f}/+{policy.max_clock_skew_s:.0f} s",
    )


def _duplicate_key(payload: bytes, batch: TelemetryBatch) -> Rejected | None:
    """A JSON object naming one key twice is ambiguous (parsers keep the first or the last):
    refused, so the bytes that reach Kafka mean one thing only.

    Cheap on the fast path: a valid batch's only strings are its keys, its device id and its
    metric names, none of which can hold a ':', so every ':' in its bytes separates a key
    from its value. Counting them tells whether any key came twice; only then is the payload
    parsed again to name the key.
    """
    keys = len(batch.model_fields_set) + 3 * len(batch.readings)
    if payload.count(b":") == keys:
        return None
    repeated: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        names = [k for k, _ in items]
        repeated.extend(k for k in dict.fromkeys(names) if names.count(k) > 1)
        return dict(items)

    json.loads(payload, object_pairs_hook=pairs)
    if not repeated:
        return None
    return Rejected(RejectReason.DUPLICATE_KEY, f"key {repeated[0]!r} appears twice in an object")


INGESTED = frozenset({Channel.TELEMETRY, Channel.BACKFILL})


@functools.lru_cache(maxsize=200_000)
def _parse_topic(topic: str, prefix: str) -> DeviceTopic:
    """Topics repeat for every batch of a device: parse each once (errors are not cached)."""
    return DeviceTopic.parse(topic, prefix)


def not_for_ingest(topic: str, prefix: str) -> bool:
    """Topics under the prefix that carry no telemetry and are no error: device status,
    commands and their acknowledgements, platform components' own status."""
    if topic.startswith(f"{prefix}/{PLATFORM}/"):
        return True
    try:
        return _parse_topic(topic, prefix).channel not in INGESTED
    except TopicError:
        return False


def _where(topic: str, payload: bytes, policy: ValidationPolicy) -> DeviceTopic | Rejected:
    """The device topic a message came on, if it is one the bridge takes, at a size it takes."""
    try:
        parsed = _parse_topic(topic, policy.prefix)
    except TopicError as exc:
        return Rejected(RejectReason.BAD_TOPIC, str(exc))
    if parsed.channel not in INGESTED:
        return Rejected(RejectReason.BAD_TOPIC, f"{topic}: not a telemetry topic")
    if len(payload) > policy.max_payload_bytes:
        return Rejected(
            RejectReason.OVERSIZE,
            f"payload of {len(payload)} bytes exceeds {policy.max_payload_bytes}",
        )
    return parsed


def _read(topic: str, payload: bytes, policy: ValidationPolicy) -> Accepted | Rejected:
    """The topic and the batch as the contract reads them, before the registry is asked."""
    parsed = _where(topic, payload, policy)
    if isinstance(parsed, Rejected):
        return parsed
    try:
        batch = batch_of(parsed.vertical).validate_json(payload)
    except ValidationError as exc:
        return _schema_rejection(exc, parsed.vertical)
    ambiguous = _duplicate_key(payload, batch)
    if ambiguous is not None:
        return ambiguous
    if batch.device_id != parsed.device_id:
        return Rejected(
            RejectReason.SPOOFED_DEVICE,
            f"payload device_id {batch.device_id!r} published on the topic of {parsed.device_id!r}",
        )
    return Accepted(parsed, batch)


def _registry_problem(
    parsed: DeviceTopic,
    batch: TelemetryBatch,
    registry: Mapping[str, Asset] | Registries | None,
) -> Rejected | None:
    """Why the registry refuses the device (a territory not served, a device it does not
    hold, or one of another vertical); None when it is known where it published."""
    if isinstance(registry, Registries):
        served = registry.assets(parsed.territory)
        if served is None:
            return Rejected(
                RejectReason.UNKNOWN_DEVICE,
                f"territory {parsed.territory!r} is not served by this platform (no registry)",
            )
        registry = served
    if registry is None:
        return None
    asset = registry.get(batch.device_id)
    if asset is None:
        return Rejected(
            RejectReason.UNKNOWN_DEVICE,
            f"device {batch.device_id!r} is not in the territory registry",
        )
    if asset.vertical is not parsed.vertical:
        return Rejected(
            RejectReason.WRONG_VERTICAL,
            f"device {batch.device_id!r} is a {asset.kind} ({asset.vertical}), "
            f"published under {parsed.vertical}",
        )
    return None


def validate(
    topic: str,
    payload: bytes,
    now_ms: int,
    policy: ValidationPolicy,
    registry: Mapping[str, Asset] | Registries | None = None,
) -> Accepted | Rejected:
    """Check one telemetry message against the contract, the registry and physics.

    ``registry``: one territory's assets (any territory in the topic), or the registries of
    every territory the platform serves (the topic's territory picks one; a territory the
    platform does not serve is refused)."""
    read = _read(topic, payload, policy)
    if isinstance(read, Rejected):
        return read
    parsed, batch = read.topic, read.batch
    unknown = _registry_problem(parsed, batch, registry)
    if unknown is not None:
        return unknown
    problem = _clock_problem(batch, now_ms, policy, parsed.channel is Channel.BACKFILL)
    return problem if problem is not None else Accepted(parsed, batch)
