"""Network-server events as Vigie reads them: ChirpStack v4 and The Things Stack v3 (pure).

ChirpStack v4 publishes ``application/{application_id}/device/{dev_eui}/event/{event}`` with
the protobuf JSON of its ``integration.UplinkEvent`` (camelCase: ``deviceInfo.devEui``,
``fCnt``, ``fPort``, ``data`` in base64, ``object`` when a codec decoded it, ``rxInfo``).
The Things Stack v3 publishes ``v3/{application_id}@{tenant}/devices/{device_id}/{event}``
with ``end_device_ids.dev_eui`` and ``uplink_message`` (``f_cnt``, ``f_port``,
``frm_payload`` in base64, ``decoded_payload``, ``rx_metadata``). Both follow proto3's JSON
mapping, which leaves out fields at their default: a missing frame counter or port is 0.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from vigie.contracts import RejectReason
from vigie.errors import DataError

Network = Literal["chirpstack", "tts"]

# the subscriptions of each network server's MQTT integration: uplinks and joins
FILTERS: dict[str, tuple[str, ...]] = {
    "chirpstack": ("application/+/device/+/event/up", "application/+/device/+/event/join"),
    "tts": ("v3/+/devices/+/up", "v3/+/devices/+/join"),
}


@dataclass(frozen=True, slots=True)
class Uplink:
    """One uplink frame, whichever server delivered it."""

    dev_eui: str  # 16 lowercase hex digits
    f_cnt: int
    f_port: int
    time_ms: int
    data: bytes | None  # the application payload, when the server forwarded it
    decoded: dict[str, Any] | None  # what the server's own codec made of it
    rssi_dbm: float | None  # best gateway
    snr_db: float | None


@dataclass(frozen=True, slots=True)
class Join:
    """A device (re)joined: its frame counter starts again."""

    dev_eui: str
    time_ms: int


class UplinkError(DataError):
    """An event Vigie cannot read; its reason becomes the dead letter's."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def event_of(network: Network, topic: str) -> str | None:
    """The event name a topic carries (``up``, ``join``...), None when it is not one."""
    parts = topic.split("/")
    if network == "chirpstack":
        ok = len(parts) == 6 and parts[0] == "application" and parts[2] == "device"
        return parts[5] if ok and parts[4] == "event" else None
    ok = len(parts) == 5 and parts[0] == "v3" and parts[2] == "devices"
    return parts[4] if ok else None


def parse(
    network: Network, topic: str, payload: bytes, received_at_ms: int
) -> Uplink | Join | None:
    """The event on ``topic``; None for the events Vigie leaves alone (status, acks, logs).
    Raises UplinkError naming what is wrong."""
    event = event_of(network, topic)
    if event is None:
        raise UplinkError(RejectReason.BAD_TOPIC, f"{topic!r} is no {network} event topic")
    if event not in ("up", "join"):
        return None
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UplinkError(
            RejectReason.MALFORMED_JSON, f"{network} event is not JSON: {exc}"
        ) from None
    if not isinstance(body, dict):
        raise UplinkError(RejectReason.SCHEMA, f"{network} event is not a JSON object")
    try:
        if network == "chirpstack":
            return _chirpstack(event, body, received_at_ms)
        return _tts(event, body, received_at_ms)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        if isinstance(exc, UplinkError):
            raise
        raise UplinkError(
            RejectReason.SCHEMA, f"{network} {event} event: {type(exc).__name__} {exc}"
        ) from None


def _chirpstack(event: str, body: dict[str, Any], received_at_ms: int) -> Uplink | Join:
    dev_eui = _eui(body["deviceInfo"]["devEui"])
    time_ms = _time_ms(body.get("time"), received_at_ms)
    if event == "join":
        return Join(dev_eui, time_ms)
    rx = body.get("rxInfo") or []
    best: dict[str, Any] = max(rx, key=lambda r: r.get("rssi", -1000), default={})
    return Uplink(
        dev_eui,
        _count(body.get("fCnt", 0), "fCnt"),
        _count(body.get("fPort", 0), "fPort"),
        time_ms,
        base64.b64decode(body["data"], validate=True) if body.get("data") else None,
        _object(body.get("object")),
        _number(best.get("rssi")),
        _number(best.get("snr")),
    )


def _tts(event: str, body: dict[str, Any], received_at_ms: int) -> Uplink | Join:
    ids = body["end_device_ids"]
    if not ids.get("dev_eui"):
        raise UplinkError(
            RejectReason.UNKNOWN_DEVICE,
            f"device {ids.get('device_id')!r} has no DevEUI: set it in The Things Stack",
        )
    dev_eui = _eui(ids["dev_eui"])
    if event == "join":
        return Join(dev_eui, _time_ms(body.get("received_at"), received_at_ms))
    up = body["uplink_message"]
    time_ms = _time_ms(up.get("received_at") or body.get("received_at"), received_at_ms)
    rx = up.get("rx_metadata") or []
    best: dict[str, Any] = max(
        rx, key=lambda r: r.get("rssi", r.get("channel_rssi", -1000)), default={}
    )
    return Uplink(
        dev_eui,
        _count(up.get("f_cnt", 0), "f_cnt"),
        _count(up.get("f_port", 0), "f_port"),
        time_ms,
        base64.b64decode(up["frm_payload"], validate=True) if up.get("frm_payload") else None,
        _object(up.get("decoded_payload")),
        _number(best.get("rssi", best.get("channel_rssi"))),
        _number(best.get("snr")),
    )


def _eui(value: object) -> str:
    text = str(value).lower()
    if len(text) != 16 or any(c not in "0123456789abcdef" for c in text):
        raise UplinkError(RejectReason.SCHEMA, f"DevEUI {value!r} is not 16 hexadecimal digits")
    return text


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise UplinkError(RejectReason.SCHEMA, f"{name} {value!r} is not a 32-bit counter")
    return value


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _object(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value else None


def _time_ms(value: object, fallback_ms: int) -> int:
    """RFC 3339 with up to nanoseconds (as both servers write it); the reception time of
    the bridge when the server gave none."""
    if not value:
        return fallback_ms
    text = str(value).replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:digits][:6].ljust(6, "0") + rest[digits:]
        text = f"{head}.{rest}"
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone")
    return int(stamp.timestamp() * 1000)
