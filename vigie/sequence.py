"""A sliding window over one device's sequence numbers: which were seen, which are repeats.

Memory and time are O(window) whatever a device sends: a jump past the window restarts the
bit set instead of shifting it by the jump (a hostile ``seq`` of 2**63-1 costs nothing more
than a jump of one window).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SeqVerdict(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    STALE = "stale"  # older than the window: cannot tell, passed on (downstream is idempotent)


SEQ_WINDOW = 512  # sequence numbers remembered per device, at the bridge and in the worker


@dataclass(slots=True)
class SeqWindow:
    """Bit i of ``bits`` set: sequence number ``high - i`` has been seen."""

    high: int
    bits: int = 1
    size: int = SEQ_WINDOW

    def observe(self, seq: int) -> tuple[SeqVerdict, int]:
        """Record seq; returns the verdict and the change in the count of missing numbers."""
        if seq > self.high:
            shift = seq - self.high
            if shift >= self.size:
                self.bits = 1
            else:
                self.bits = ((self.bits << shift) | 1) & ((1 << self.size) - 1)
            self.high = seq
            return SeqVerdict.NEW, shift - 1
        age = self.high - seq
        if age >= self.size:
            return SeqVerdict.STALE, 0
        if self.bits >> age & 1:
            return SeqVerdict.DUPLICATE, 0
        self.bits |= 1 << age
        return SeqVerdict.NEW, -1
