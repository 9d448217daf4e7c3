"""LoRaWAN frame counters as Vigie sequence numbers (pure).

A device's sequence number is ``base + fCnt``. The network server reports the 32-bit uplink
counter; ``base`` grows when the counter starts again, so that numbers keep increasing and
the stream worker's de-duplication and gap counting work unchanged:

- a join (OTAA, or a counter reset the server let through) starts a new session: the base
  moves past the last number given, so the new session continues where the old one ended;
- a server that reports only 16 bits wraps at 65,536: the base grows by 65,536.

A frame counter that goes down with a later uplink time is a new session even when its join
was not seen (the bridge was away); one that goes down with an earlier time is a late or
repeated frame and keeps its old number. An uplink seen again (the same counter and time,
as the broker delivers it again after a crash) always gets the number it got the first
time, whatever happened in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WRAP16 = 1 << 16
_NEAR_WRAP = 256  # a 16-bit counter within this of its end, then this near 0, wrapped
MEMO = 64  # uplinks per device remembered with their number


@dataclass
class DeviceCounter:
    base: int = 0
    last: int = -1  # last frame counter of the current session; -1: none yet
    last_time_ms: int = -1
    join_time_ms: int = -1  # the last join seen
    joined: bool = False  # a join came after the last uplink
    memo: dict[tuple[int, int], int] = field(default_factory=dict)

    def as_row(self) -> dict[str, object]:
        return {
            "base": self.base,
            "last": self.last,
            "last_time_ms": self.last_time_ms,
            "join_time_ms": self.join_time_ms,
            "joined": self.joined,
            "memo": [[f, t, s] for (f, t), s in self.memo.items()],
        }

    @classmethod
    def of_row(cls, row: dict[str, object]) -> DeviceCounter:
        memo = row.get("memo")
        if not isinstance(memo, list):
            memo = []
        return cls(
            int(str(row["base"])),
            int(str(row["last"])),
            int(str(row["last_time_ms"])),
            int(str(row["join_time_ms"])),
            bool(row["joined"]),
            {(int(f), int(t)): int(s) for f, t, s in memo},
        )


@dataclass
class FrameCounters:
    """Every device's counter state; ``dirty`` names the devices changed since ``take``."""

    devices: dict[str, DeviceCounter] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    resets: int = 0
    wraps: int = 0

    def join(self, dev_eui: str, time_ms: int) -> None:
        """A join: the next uplink opens a new session. A join seen again is ignored."""
        state = self.devices.setdefault(dev_eui, DeviceCounter())
        if time_ms <= state.join_time_ms:
            return
        state.join_time_ms, state.joined = time_ms, state.last >= 0
        self.dirty.add(dev_eui)

    def seq(self, dev_eui: str, f_cnt: int, time_ms: int) -> int:
        """The sequence number of one uplink."""
        state = self.devices.setdefault(dev_eui, DeviceCounter())
        known = state.memo.get((f_cnt, time_ms))
        if known is not None:
            return known
        if state.last < 0:
            state.last = f_cnt
        elif state.joined:
            state.base += state.last + 1
            state.last = f_cnt
            self.resets += 1
        elif f_cnt > state.last:
            state.last = f_cnt
        elif f_cnt < state.last and time_ms >= state.last_time_ms:
            if state.last < WRAP16 and state.last >= WRAP16 - _NEAR_WRAP and f_cnt < _NEAR_WRAP:
                state.base += WRAP16
                self.wraps += 1
            else:
                state.base += state.last + 1
                self.resets += 1
            state.last = f_cnt
        # else: the same counter again (a retransmission), or a late frame: its own number
        state.joined = False
        state.last_time_ms = max(state.last_time_ms, time_ms)
        number = state.base + f_cnt
        state.memo[(f_cnt, time_ms)] = number
        if len(state.memo) > MEMO:
            del state.memo[next(iter(state.memo))]
        self.dirty.add(dev_eui)
        return number

    def take(self) -> dict[str, DeviceCounter]:
        """The states changed since the last call (to persist them)."""
        out = {dev: self.devices[dev] for dev in self.dirty}
        self.dirty = set()
        return out
