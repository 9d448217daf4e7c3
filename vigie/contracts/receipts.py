"""Storage receipts: the platform tells a device which of its batches are stored for good.

MQTT's PUBACK only says the broker has a message, and the broker (or the embedded Kafka-
compatible broker, which keeps data in memory) may still lose it. A stream worker publishes a
receipt on the device's own ``receipt`` topic once InfluxDB has acknowledged the results of a
bulk: the sequence numbers of that device's batches the bulk held, new or repeated, as closed
ranges. A Vigie edge agent deletes a batch from its durable queue only then, and sends again
what stays without a receipt, so nothing is lost whichever server fails; repeats are absorbed
by (device, seq) de-duplication, and a repeat is receipted again.

A device asks for receipts: it publishes its telemetry with the MQTT 5 user property
``receipt=1`` (``RECEIPT_ASKED``). The bridge carries the request on the Kafka record (the
``receipt`` header, ``RECEIPT_HEADER``) and the worker receipts only the batches that asked, so
plain publishers (a LoRaWAN network server's adapter, a replay) cost no receipt traffic nobody
reads. ``VIGIE_STREAMS__RECEIPTS_TO_ALL`` receipts every device, for agents that predate the
property.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

RECEIPT_ASKED = ("receipt", "1")  # the MQTT 5 user property of a telemetry publish
RECEIPT_HEADER = "receipt"  # the Kafka header of a record whose batches asked (value b"1")


class Receipt(BaseModel):
    """``{"stored": [[first, last], ...]}``: every seq in each closed range is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stored: list[tuple[int, int]]

    @classmethod
    def of(cls, seqs: Iterable[int]) -> Receipt:
        """Sequence numbers folded into as few closed ranges as they allow."""
        ranges: list[tuple[int, int]] = []
        for seq in sorted(set(seqs)):
            if ranges and seq == ranges[-1][1] + 1:
                ranges[-1] = (ranges[-1][0], seq)
            else:
                ranges.append((seq, seq))
        return cls(stored=ranges)
