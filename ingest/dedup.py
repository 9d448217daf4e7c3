"""Duplicate and gap detection on (device, sequence number), in bounded memory."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from vigie.sequence import SEQ_WINDOW, SeqVerdict, SeqWindow

__all__ = ["SeqVerdict", "SequenceTracker"]


@dataclass
class SequenceTracker:
    """Remembers the last ``window`` sequence numbers of up to ``max_devices`` devices.

    ``gaps`` counts, per device, sequence numbers skipped and not (yet) seen; a late arrival
    inside the window fills its gap again.
    """

    window: int = SEQ_WINDOW
    max_devices: int = 1_000_000
    gaps: dict[str, int] = field(default_factory=dict)
    _seen: OrderedDict[str, SeqWindow] = field(default_factory=OrderedDict)

    def observe(self, device: str, seq: int) -> SeqVerdict:
        """Record one (device, seq) and say whether it is new."""
        win = self._seen.get(device)
        if win is None:
            self._seen[device] = SeqWindow(seq, size=self.window)
            if len(self._seen) > self.max_devices:
                evicted, _ = self._seen.popitem(last=False)
                self.gaps.pop(evicted, None)
            return SeqVerdict.NEW
        self._seen.move_to_end(device)
        verdict, missing = win.observe(seq)
        if missing:
            self.gaps[device] = max(0, self.gaps.get(device, 0) + missing)
        return verdict
