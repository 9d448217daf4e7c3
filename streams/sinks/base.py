"""What every sink is: the ``Sink`` protocol both InfluxDB sinks implement, the retention of
the two policies they write (raw readings short, everything else long). ``sink_for``
(``streams.sinks.choice``) picks and configures one from the settings.

A sink is an async context manager: entering it connects and prepares the schema, leaving it
closes the connection. ``write`` chunks, retries transient failures with the server back-off
and returns once the server acknowledged every line; lines the server acknowledged but would
not keep (a partial write) are appended to ``refused`` for the worker to turn into dead
letters. The one-bulk-in-flight rule is the worker's, which also orders the state saves and
Kafka acknowledgements after a write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

from vigie.contracts.storage import LONG_RP, MINUTE_RP, RAW_RP
from vigie.sections import retention_seconds

if TYPE_CHECKING:
    pass

__all__ = ["Refused", "Retention", "Sink", "retention_seconds"]

Refused = tuple[str, str, bytes]  # retention policy, the server's words, the request's lines


@dataclass(frozen=True)
class Retention:
    """How long each retention policy keeps its points (InfluxQL durations; INF: forever)."""

    raw: str = "7d"
    aggregate: str = "INF"
    minute: str = "400d"
    rollup_every: str = "1h"  # how often InfluxDB 1.x rolls the 1-minute windows up

    def of(self, rp: str) -> str:
        return {RAW_RP: self.raw, MINUTE_RP: self.minute, LONG_RP: self.aggregate}[rp]


class Sink(Protocol):
    refused: list[Refused]
    lines_written: int

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def write(self, lines: Sequence[str], rp: str, precision: str = "ms") -> None:
        """Store the lines in a retention policy; returns once all are acknowledged."""
