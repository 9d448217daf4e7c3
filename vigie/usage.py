"""A process's own resource use, as deltas between two readings (for self-measurement)."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field


@dataclass
class ProcessUsage:
    """CPU seconds used since the previous ``sample`` and the peak resident memory."""

    _cpu: float = field(default_factory=lambda: ProcessUsage.cpu_now())  # noqa: PLW0108  # defined below
    _at: float = field(default_factory=time.monotonic)

    @staticmethod
    def cpu_now() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def sample(self) -> tuple[float, float, int]:
        """(CPU seconds since the last sample, wall seconds since then, peak RSS in kB)."""
        cpu, at = self.cpu_now(), time.monotonic()
        delta, wall = cpu - self._cpu, at - self._at
        self._cpu, self._at = cpu, at
        return delta, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
