"""Pulse counting on a GPIO pin: water meters (litres per pulse) and traffic loops (vehicles).

The counting itself is pure (``PulseTotals``); ``GpioPulses`` wires it to a pin through
gpiozero (installed with ``vigie[edge-hw]``), counting falling edges.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from vigie.errors import MissingDependencyError


@dataclass
class PulseTotals:
    """Turns a running pulse count into an index and a rate."""

    units_per_pulse: float  # m3 per pulse (water) or vehicles per pulse (traffic)
    index_metric: str | None = "volume_index_m3"
    rate_metric: str = "flow_m3h"
    count: int = 0
    _last_count: int = field(default=0, repr=False)

    def add(self, pulses: int = 1) -> None:
        self.count += pulses

    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        new = self.count - self._last_count
        self._last_count = self.count
        rate = new * self.units_per_pulse * 3600 / dt_s if dt_s > 0 else 0.0
        out = [(self.rate_metric, rate)]
        if self.index_metric:
            out.append((self.index_metric, self.count * self.units_per_pulse))
        return out


class GpioPulses(PulseTotals):
    def __init__(
        self, pin: int, units_per_pulse: float, index_metric: str | None, rate_metric: str
    ) -> None:
        super().__init__(units_per_pulse, index_metric, rate_metric)
        try:
            from gpiozero import Button
        except ImportError as exc:
            raise MissingDependencyError(
                "gpiozero is not installed: pip install 'vigie[edge-hw]'"
            ) from exc
        self._lock = threading.Lock()
        self._button: Any = Button(pin, pull_up=True)
        self._button.when_pressed = lambda: self.add(1)
