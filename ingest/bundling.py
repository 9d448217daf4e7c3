"""Telemetry records bundle the batches of one partition. Pure.

A stream worker pays a fixed cost for every Kafka record it consumes (faust hands records over
one at a time), whatever its size; devices send batches of a few readings. So each hand-off
turns the accepted batches bound for one (topic, partition) into as few records as their size
allows: one JSON array of the batches as devices sent them (``vigie.contracts.bundle``).
Dead letters stay one record each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.routing import Outbound
from vigie.contracts import RECEIPT_HEADER, bundle

MAX_BUNDLE_BYTES = 512 * 1024  # below Kafka's default 1 MiB message limit


@dataclass
class Bundler:
    """Collects telemetry records per (topic, partition, territory, source: live or backfill,
    receipts asked or not) and makes bundles."""

    max_bytes: int = MAX_BUNDLE_BYTES
    _open: dict[tuple[str, int, bytes, bytes, bytes], list[Outbound]] = field(default_factory=dict)
    _bytes: dict[tuple[str, int, bytes, bytes, bytes], int] = field(default_factory=dict)

    def add(self, out: Outbound, partition: int) -> Outbound | None:
        """Take a telemetry record; returns a full bundle to produce first, if any."""
        headers = dict(out.headers)
        key = (
            out.topic,
            partition,
            headers.get("territory", b""),
            headers.get("source", b""),
            headers.get(RECEIPT_HEADER, b""),
        )
        group = self._open.setdefault(key, [])
        full = None
        if group and self._bytes[key] + len(out.value) + 1 > self.max_bytes:
            full = bundle_record(group)
            group.clear()
            del self._bytes[key]
        group.append(out)
        # a bundle's size: its payloads, a comma or bracket each, and the closing bracket
        self._bytes[key] = self._bytes.get(key, 1) + len(out.value) + 1
        return full

    def drain(self) -> list[tuple[Outbound, int]]:
        """Every open bundle, with its partition; the bundler is empty afterwards."""
        ready = [(bundle_record(g), key[1]) for key, g in self._open.items() if g]
        self._open.clear()
        self._bytes.clear()
        return ready


def bundle_record(outs: list[Outbound]) -> Outbound:
    """One record for batches of one partition: the first one's key and headers, the earliest
    reception time, and how many batches it carries."""
    first = min(int(dict(o.headers)["received_at_ms"]) for o in outs)
    headers = dict(outs[0].headers)
    headers["received_at_ms"] = str(first).encode()
    headers["batches"] = str(len(outs)).encode()
    return Outbound(
        outs[0].topic, outs[0].key, bundle([o.value for o in outs]), list(headers.items())
    )
