"""Offset continuity per partition: a message the Kafka client dropped is fetched again. Pure.

Vigie's telemetry topics are neither compacted nor transactional, so a partition's offsets
arrive one after another. When a worker sees an offset jump, messages were lost between the
client's fetcher and the stream (faust clears its channel queues when flow resumes after a
rebalance or a recovery, and messages fetched meanwhile are gone). The guard names the first
missing offset to seek back to and holds back what comes after it until that offset arrives;
events held back are not acknowledged, so their offsets are not committed, and the sequence
de-duplication downstream absorbs whatever is delivered twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Admission(StrEnum):
    ACCEPT = "accept"
    SEEK = "seek"  # a gap: seek back to ``OffsetGuard.seek_target(tp)``, hold this event back
    HOLD = "hold"  # waiting for the sought offset: hold this event back


@dataclass
class _Partition:
    next: int | None = None  # offset expected next
    target: int | None = None  # offset sought back to, not seen yet
    held: int = 0  # events held back since the seek
    first_held: int = 0  # lowest offset held back since the seek
    since: float = 0.0  # when the seek was asked for


@dataclass
class OffsetGuard:
    """Follows the offsets a worker receives, per partition.

    ``give_up_after`` bounds the wait for a sought offset: if that many events are held back
    without it arriving (the offset is gone, for example past the topic's retention), the guard
    counts the offsets in between as ``lost`` and seeks to the lowest offset it held back.
    """

    give_up_after: int = 20_000  # a few times faust's channel queue (4096)
    parts: dict[Hashable, _Partition] = field(default_factory=dict)
    gaps: int = 0
    lost: int = 0

    def start(self, tp: Hashable, committed: int | None) -> None:
        """A partition was assigned; its first offset should be the committed one (if any)."""
        self.parts[tp] = _Partition(next=committed)

    def forget(self, tps: Iterable[Hashable]) -> None:
        """Partitions were revoked."""
        for tp in tps:
            self.parts.pop(tp, None)

    def seek_target(self, tp: Hashable) -> int:
        target = self.parts[tp].target
        if target is None:
            raise KeyError(f"no seek asked on {tp}")
        return target

    def stalled(self, now: float, after_s: float) -> dict[Hashable, int]:
        """Seeks asked for more than ``after_s`` ago whose offset has not come: ask again."""
        due = {}
        for tp, part in self.parts.items():
            if part.target is not None and now - part.since >= after_s:
                part.since = now
                due[tp] = part.target
        return due

    def admit(self, tp: Hashable, offset: int, now: float = 0.0) -> Admission:
        part = self.parts.setdefault(tp, _Partition())
        if part.target is not None:
            if offset <= part.target:
                part.target, part.held, part.next = None, 0, offset + 1
                return Admission.ACCEPT
            part.held += 1
            part.first_held = min(part.first_held, offset)
            if part.held < self.give_up_after:
                return Admission.HOLD
            self.lost += part.first_held - part.target
            part.target, part.held, part.since = part.first_held, 1, now
            return Admission.SEEK
        if part.next is not None and offset > part.next:
            self.gaps += 1
            part.target, part.held, part.first_held, part.since = part.next, 1, offset, now
            return Admission.SEEK
        part.next = offset + 1
        return Admission.ACCEPT
