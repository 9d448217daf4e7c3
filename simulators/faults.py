"""Malformed and hostile payloads to inject in a stream, each with the rejection it must get."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vigie.contracts import Channel, DeviceTopic, RejectReason, Territory, Vertical


@dataclass(frozen=True, slots=True)
class Fault:
    topic: str
    payload: bytes
    expected: RejectReason
    label: str


def standard_faults(territory: Territory, now_ms: int, prefix: str = "vigie") -> list[Fault]:
    """One fault of each common kind, aimed at real devices of the territory."""
    lamp = next(a for a in territory.assets if a.vertical is Vertical.LIGHTING)
    other = next(a for a in territory.assets if a.vertical is Vertical.LIGHTING and a.id != lamp.id)

    def topic(device: str, vertical: Vertical = Vertical.LIGHTING) -> str:
        return str(DeviceTopic(territory.id, vertical, device, Channel.TELEMETRY, prefix))

    def body(device: str, value: object = 42.0, metric: str = "power_w", ts: int = now_ms) -> bytes:
        return json.dumps(
            {
                "v": 1,
                "device_id": device,
                "seq": 10**9,
                "sent_at_ms": ts,
                "readings": [{"ts_ms": ts, "metric": metric, "value": value}],
            }
        ).encode()

    return [
        Fault(
            topic(lamp.id),
            b'{"v": 1, "device_id": "' + lamp.id.encode() + b'", "seq": ',
            RejectReason.MALFORMED_JSON,
            "truncated JSON",
        ),
        Fault(topic(lamp.id), body(lamp.id, value="bright"), RejectReason.SCHEMA, "wrong type"),
        Fault(
            topic(lamp.id), body(lamp.id, value=1e9), RejectReason.OUT_OF_BOUNDS, "impossible power"
        ),
        Fault(
            topic(lamp.id), body(other.id), RejectReason.SPOOFED_DEVICE, "device id of another lamp"
        ),
        Fault(
            topic("lamp-99999"),
            body("lamp-99999"),
            RejectReason.UNKNOWN_DEVICE,
            "device not in the registry",
        ),
        Fault(
            topic(lamp.id),
            body(lamp.id, ts=now_ms + 86_400_000),
            RejectReason.CLOCK_SKEW,
            "reading a day in the future",
        ),
    ]
