"""The clock a long-running process reads, passed in so that tests and replays can set it.

``now_ms`` is wall-clock time (what stamps points and judges readings' age); ``monotonic`` is
for durations and idleness, immune to clock steps."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The machine's clocks."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM = SystemClock()
