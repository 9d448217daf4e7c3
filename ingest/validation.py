"""Validation of one MQTT telemetry message: pure, no I/O, returns a batch or a rejection.

A batch is the unit of the contract: if any reading in it is wrong, the whole batch goes to the
dead-letter topic with its raw bytes, so nothing is lost and it can be replayed once fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from vigie.contracts import (
    METRICS,
    TELEMETRY_BATCH,
    Asset,
    Channel,
    DeviceTopic,
    RejectReason,
    TelemetryBatch,
    TopicError,
)


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """Limits applied to every incoming message."""

    max_payload_bytes: int = 256 * 1024
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


def _schema_detail(exc: ValidationError) -> tuple[RejectReason, str]:
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] in ("json_invalid", "json_type"):
        return RejectReason.MALFORMED_JSON, f"payload is not JSON: {errors[0]['msg']}"
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in errors[:3]]
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return RejectReason.SCHEMA, "; ".join(parts) + more


def _reading_problem(
    batch: TelemetryBatch, topic: DeviceTopic, now_ms: int, policy: ValidationPolicy
) -> Rejected | None:
    latest = now_ms + int(policy.max_clock_skew_s * 1000)
    earliest = now_ms - int(policy.max_age_s * 1000)
    for i, reading in enumerate(batch.readings):
        spec = METRICS[reading["metric"]]
        if spec.vertical is not topic.vertical:
            return Rejected(
                RejectReason.WRONG_VERTICAL,
                f"readings.{i}.metric: {spec.name} belongs to {spec.vertical}, "
                f"not {topic.vertical}",
            )
        value = reading["value"]
        if not spec.minimum <= value <= spec.maximum:
            return Rejected(
                RejectReason.OUT_OF_BOUNDS,
                f"readings.{i}.value: {value} {spec.unit} outside "
                f"[{spec.minimum}, {spec.maximum}] for {spec.name}",
            )
        ts = reading["ts_ms"]
        if not earliest <= ts <= latest:
            return Rejected(
                RejectReason.CLOCK_SKEW,
                f"readings.{i}.ts_ms: {ts} is {(ts - now_ms) / 1000:+.0f} s from "
                f"reception, beyond -{policy.max_age_s:.0f}/+"
                f"{policy.max_clock_skew_s:.0f} s",
            )
    return None


def validate(
    topic: str,
    payload: bytes,
    now_ms: int,
    policy: ValidationPolicy,
    registry: Mapping[str, Asset] | None = None,
) -> Accepted | Rejected:
    """Check one telemetry message against the contract, the registry and physics."""
    try:
        parsed = DeviceTopic.parse(topic, policy.prefix)
    except TopicError as exc:
        return Rejected(RejectReason.BAD_TOPIC, str(exc))
    if parsed.channel is not Channel.TELEMETRY:
        return Rejected(RejectReason.BAD_TOPIC, f"{topic}: not a telemetry topic")
    if len(payload) > policy.max_payload_bytes:
        return Rejected(
            RejectReason.OVERSIZE,
            f"payload of {len(payload)} bytes exceeds {policy.max_payload_bytes}",
        )
    try:
        batch = TELEMETRY_BATCH.validate_json(payload)
    except ValidationError as exc:
        return Rejected(*_schema_detail(exc))
    if batch.device_id != parsed.device_id:
        return Rejected(
            RejectReason.SPOOFED_DEVICE,
            f"payload device_id {batch.device_id!r} published on the topic of {parsed.device_id!r}",
        )
    if registry is not None:
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
    problem = _reading_problem(batch, parsed, now_ms, policy)
    return problem if problem is not None else Accepted(parsed, batch)
