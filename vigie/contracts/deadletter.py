"""Dead-letter records: every rejected payload, why, and its raw bytes. Nothing is lost."""

from __future__ import annotations

import base64
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class RejectReason(StrEnum):
    """Stable reason codes: operators grep for them and dashboards group by them."""

    BAD_TOPIC = "bad_topic"
    OVERSIZE = "oversize"
    MALFORMED_JSON = "malformed_json"
    SCHEMA = "schema"
    OUT_OF_BOUNDS = "out_of_bounds"
    WRONG_VERTICAL = "wrong_vertical"
    UNKNOWN_METRIC = "unknown_metric"  # not in the catalogue, built-in or declared
    SPOOFED_DEVICE = "spoofed_device"
    UNKNOWN_DEVICE = "unknown_device"
    CLOCK_SKEW = "clock_skew"
    DUPLICATE_KEY = "duplicate_key"  # a JSON object naming one key twice: ambiguous bytes
    UNPROCESSABLE = "unprocessable"  # a Kafka record a stream worker could not decode or fold
    STORAGE_REFUSED = "storage_refused"  # lines InfluxDB would not keep (a partial write)
    NOTIFICATION_FAILED = "notification_failed"  # a channel refused a message past its retries
    # a LoRaWAN uplink (ingest.lorawan): its bytes fit no decoder, or its fields no metric
    UNDECODABLE = "undecodable"
    UNMAPPED_FIELD = "unmapped_field"


class DeadLetter(BaseModel):
    """What ingest writes to the dead-letter topic for one rejected MQTT message."""

    model_config = ConfigDict(frozen=True)

    mqtt_topic: str
    received_at_ms: int
    reason: RejectReason
    detail: str
    payload_b64: str

    @classmethod
    def of(
        cls, topic: str, received_at_ms: int, reason: RejectReason, detail: str, payload: bytes
    ) -> DeadLetter:
        return cls(
            mqtt_topic=topic,
            received_at_ms=received_at_ms,
            reason=reason,
            detail=detail[:2000],
            payload_b64=base64.b64encode(payload).decode(),
        )

    @property
    def payload(self) -> bytes:
        return base64.b64decode(self.payload_b64)
