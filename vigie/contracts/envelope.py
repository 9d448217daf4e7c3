"""The telemetry batch envelope: what a device publishes, and what ingest hands to Kafka.

A device never sends one reading per message: it sends a versioned batch carrying its id, a
per-device sequence number (loss and duplicate detection), the send time and its readings.
Times are integer milliseconds since the Unix epoch, UTC.

Validation is strict: a number sent as a string (``"15"``) or a boolean is refused, not coerced,
and unknown keys are refused at every level, so what reaches Kafka means one thing only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from vigie.contracts.metrics import METRICS

SCHEMA_VERSION: Literal[1] = 1
MAX_READINGS_PER_BATCH = 10_000
MAX_PAYLOAD_BYTES = 256 * 1024  # ingest's oversize limit; brokers refuse larger payloads

DeviceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


def _known(name: str) -> str:
    if name not in METRICS:  # the catalogue grows with a territory's declared metrics
        raise ValueError(f"{name} is not in the metric catalogue (vigie registry metrics)")
    return name


MetricName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$"), AfterValidator(_known)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
EpochMs = Annotated[int, Field(ge=0, lt=10**13)]


STRICT = ConfigDict(strict=True, extra="forbid")


@with_config(STRICT)
class Reading(TypedDict):
    """One sample: when, what, how much (in the metric's registry unit)."""

    ts_ms: EpochMs
    metric: MetricName
    value: FiniteFloat


class TelemetryBatch(BaseModel):
    """A device's batch of readings, as published on its MQTT telemetry topic."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    v: Annotated[int, Field(ge=SCHEMA_VERSION, le=SCHEMA_VERSION)] = SCHEMA_VERSION
    device_id: DeviceId
    seq: Annotated[int, Field(ge=0, lt=2**63)]
    sent_at_ms: EpochMs
    readings: Annotated[list[Reading], Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)]


TELEMETRY_BATCH = TypeAdapter(TelemetryBatch)
TELEMETRY_BUNDLE = TypeAdapter(list[TelemetryBatch])


def bundle(payloads: Sequence[bytes]) -> bytes:
    """A Kafka telemetry record: validated batches bound for one partition, as a JSON array of
    the payloads as devices sent them (read back with ``TELEMETRY_BUNDLE``). Stream workers
    pay a fixed cost per record, so many batches per record go much further."""
    return b"[" + b",".join(payloads) + b"]"
