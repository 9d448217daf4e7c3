"""Whether a worker's table recovery has stopped moving. Pure.

After a rebalance a faust worker reads its tables' changelog partitions before it processes
anything (``in_recovery``). Under load with workers joining and leaving, faust can stay in
recovery for good without reading another changelog record (a hang faust's own log reports as
"No event received for active tp ... since recovery start"): the worker's partitions then wait
in Kafka, nothing lost, nothing processed. The worker watches its recovery's offsets and, when
they have not moved for ``stall_after_s`` while recovering, exits for a fresh start (exit code
75, which the service manager and ``vigie stack`` start again): a fresh worker recovers afresh.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass
class RecoveryWatch:
    stall_after_s: float
    _since: float | None = None
    _mark: Hashable = None

    def stalled(self, recovering: bool, position: Hashable, now: float) -> bool:
        """True once ``position`` (the recovery's offsets) stayed the same for
        ``stall_after_s`` while ``recovering``."""
        if not recovering:
            self._since = None
            return False
        if self._since is None or position != self._mark:
            self._since, self._mark = now, position
            return False
        return now - self._since >= self.stall_after_s

    def stuck_for(self, now: float) -> float:
        return 0.0 if self._since is None else now - self._since
