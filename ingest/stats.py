"""What the bridge counts, for logs, the Prometheus endpoint and the demo summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class BridgeStats:
    received: int = 0
    accepted: int = 0
    readings: int = 0
    duplicates: int = 0
    stale: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_fields(self) -> dict[str, object]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "readings": self.readings,
            "duplicates": self.duplicates,
            "stale": self.stale,
            "rejected": dict(self.rejected),
        }
