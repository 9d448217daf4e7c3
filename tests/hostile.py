"""Named hostile inputs: payloads and topics at the edges of every type of the contract.

Each case says what it must become: a dead letter with one stable reason, or (``None``) a
batch accepted and stored exactly as sent. The unit suite runs them through ``validate``;
the integration suite publishes them through the real bridge and worker, a canary after each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigie.contracts import RejectReason
from vigie.contracts.envelope import MAX_PAYLOAD_BYTES

R = RejectReason


@dataclass(frozen=True)
class Case:
    label: str
    topic: str
    payload: bytes
    expected: RejectReason | None  # None: accepted


def hostile_cases(prefix: str, territory: str, lamp: str, meter: str, now_ms: int) -> list[Case]:
    """At least forty cases for a territory holding lamp ``lamp`` and water meter ``meter``."""
    topic = f"{prefix}/{territory}/lighting/{lamp}/telemetry"
    seqs = iter(range(1_000, 10_000))

    def doc(**over: Any) -> dict[str, Any]:
        seq = next(seqs)  # each case its own reading time, so accepted ones are stored apart
        reading = {"ts_ms": now_ms - 60_000 + seq, "metric": "power_w", "value": 42.5}
        reading.update(over.pop("reading", {}))
        d: dict[str, Any] = {
            "v": 1,
            "device_id": lamp,
            "seq": seq,
            "sent_at_ms": now_ms,
            "readings": [reading],
        }
        d.update(over)
        return d

    def body(**over: Any) -> bytes:
        return json.dumps(doc(**over)).encode()

    def raw(text: Callable[[int], str]) -> bytes:
        """A hand-written payload (for what json.dumps cannot produce), with a fresh seq."""
        return text(next(seqs)).encode()

    r = f'{{"ts_ms": {now_ms - 60_000}, "metric": "power_w", "value": 40.0}}'
    head = f'"device_id": "{lamp}", "sent_at_ms": {now_ms}'
    cases = [
        # values: strict types, finite, within physical bounds
        Case("value as a string", topic, body(reading={"value": "15"}), R.SCHEMA),
        Case("value true", topic, body(reading={"value": True}), R.SCHEMA),
        Case("value false", topic, body(reading={"value": False}), R.SCHEMA),
        Case("value null", topic, body(reading={"value": None}), R.SCHEMA),
        Case("value as a list", topic, body(reading={"value": [1]}), R.SCHEMA),
        Case("value NaN", topic, raw(lambda s: _one(head, s, "NaN", now_ms)), R.SCHEMA),
        Case("value Infinity", topic, raw(lambda s: _one(head, s, "Infinity", now_ms)), R.SCHEMA),
        Case("value 1e400", topic, raw(lambda s: _one(head, s, "1e400", now_ms)), R.SCHEMA),
        Case(
            "value a 400-digit integer",
            topic,
            raw(lambda s: _one(head, s, "9" * 400, now_ms)),
            R.SCHEMA,
        ),
        Case("power below zero", topic, body(reading={"value": -1.0}), R.OUT_OF_BOUNDS),
        Case("power of a power station", topic, body(reading={"value": 1e9}), R.OUT_OF_BOUNDS),
        Case("power at zero, its lower bound", topic, body(reading={"value": 0.0}), None),
        Case("value an integer", topic, body(reading={"value": 40}), None),
        # sequence numbers
        Case("seq as a string", topic, body(seq="17"), R.SCHEMA),
        Case("seq as a float", topic, body(seq=17.0), R.SCHEMA),
        Case("seq negative", topic, body(seq=-1), R.SCHEMA),
        Case("seq of 2**63", topic, body(seq=2**63), R.SCHEMA),
        Case("seq true", topic, body(seq=True), R.SCHEMA),
        # envelope
        Case("version true", topic, body(v=True), R.SCHEMA),
        Case("version 2", topic, body(v=2), R.SCHEMA),
        Case("version as a string", topic, body(v="1"), R.SCHEMA),
        Case("unknown envelope key", topic, body(extra=1), R.SCHEMA),
        Case("unknown reading key", topic, body(reading={"unit": "W"}), R.SCHEMA),
        Case("no readings", topic, body(readings=[]), R.SCHEMA),
        Case("readings an object", topic, body(readings={"a": 1}), R.SCHEMA),
        Case("sent_at_ms as a string", topic, body(sent_at_ms=str(now_ms)), R.SCHEMA),
        Case("device id in capitals", topic, body(device_id=lamp.upper()), R.SCHEMA),
        Case("device id of 65 characters", topic, body(device_id="a" * 65), R.SCHEMA),
        Case("metric unknown", topic, body(reading={"metric": "power_kw"}), R.UNKNOWN_METRIC),
        Case("metric a number", topic, body(reading={"metric": 7}), R.SCHEMA),
        Case(
            "metric of another vertical",
            topic,
            body(reading={"metric": "flow_m3h"}),
            R.WRONG_VERTICAL,
        ),
        # duplicate keys: ambiguous bytes
        Case(
            "value twice",
            topic,
            raw(lambda s: _one(head, s, '1.0, "value": 2.0', now_ms)),
            R.DUPLICATE_KEY,
        ),
        Case(
            "seq twice",
            topic,
            raw(lambda s: f'{{"v": 1, {head}, "seq": {s}, "seq": {s + 1}, "readings": [{r}]}}'),
            R.DUPLICATE_KEY,
        ),
        Case(
            "device id twice",
            topic,
            raw(
                lambda s: (
                    f'{{"v": 1, {head}, "device_id": "{meter}", "seq": {s}, "readings": [{r}]}}'
                )
            ),
            R.DUPLICATE_KEY,
        ),
        Case(
            "key twice under an escape",
            topic,
            raw(lambda s: _one(head, s, '1.0, "v\\u0061lue": 2.0', now_ms)),
            R.DUPLICATE_KEY,
        ),
        # times
        Case("reading time negative", topic, body(reading={"ts_ms": -1}), R.SCHEMA),
        Case("reading time in the year 2286", topic, body(reading={"ts_ms": 10**13}), R.SCHEMA),
        Case("reading time a float", topic, body(reading={"ts_ms": now_ms + 0.5}), R.SCHEMA),
        Case(
            "reading a day ahead", topic, body(reading={"ts_ms": now_ms + 86_400_000}), R.CLOCK_SKEW
        ),
        Case(
            "reading a year old",
            topic,
            body(reading={"ts_ms": now_ms - 365 * 86_400_000}),
            R.CLOCK_SKEW,
        ),
        # bytes
        Case("not JSON", topic, b"power=42", R.MALFORMED_JSON),
        Case("truncated JSON", topic, body()[:-5], R.MALFORMED_JSON),
        Case("empty payload", topic, b"", R.MALFORMED_JSON),
        Case("invalid UTF-8", topic, b'{"v": 1, "device_id": "\xff\xfe"}', R.MALFORMED_JSON),
        Case("a JSON array", topic, b"[1, 2, 3]", R.SCHEMA),
        Case("deep nesting", topic, b"[" * 5_000 + b"]" * 5_000, R.MALFORMED_JSON),
        Case(
            "just over the size limit",
            topic,
            b"{" + b" " * (MAX_PAYLOAD_BYTES + 100) + b"}",
            R.OVERSIZE,
        ),
        Case("valid with surrounding blanks", topic, b"\n  " + body() + b"  \n", None),
        # identities and topics
        Case("another device's id", topic, body(device_id=meter), R.SPOOFED_DEVICE),
        Case(
            "unknown device",
            f"{prefix}/{territory}/lighting/nobody/telemetry",
            body(device_id="nobody"),
            R.UNKNOWN_DEVICE,
        ),
        Case(
            "device under another vertical",
            f"{prefix}/{territory}/water/{lamp}/telemetry",
            body(reading={"metric": "flow_m3h", "value": 1.0}),
            R.WRONG_VERTICAL,
        ),
        Case("topic with a level too many", f"{topic}/x", body(), R.BAD_TOPIC),
        Case(
            "topic with a level too few",
            f"{prefix}/{territory}/lighting/telemetry",
            body(),
            R.BAD_TOPIC,
        ),
        Case(
            "topic of an unknown vertical",
            f"{prefix}/{territory}/sewage/{lamp}/telemetry",
            body(),
            R.BAD_TOPIC,
        ),
        Case(
            "topic of an unknown channel",
            f"{prefix}/{territory}/lighting/{lamp}/telemetri",
            body(),
            R.BAD_TOPIC,
        ),
        Case(
            "topic with a device in capitals",
            f"{prefix}/{territory}/lighting/{lamp.upper()}/telemetry",
            body(),
            R.BAD_TOPIC,
        ),
        Case("the largest sequence number", topic, body(seq=2**63 - 1), None),
    ]
    return cases


def _one(head: str, seq: int, value: str, now_ms: int) -> str:
    reading = f'{{"ts_ms": {now_ms - 60_000 + seq}, "metric": "power_w", "value": {value}}}'
    return f'{{"v": 1, {head}, "seq": {seq}, "readings": [{reading}]}}'
