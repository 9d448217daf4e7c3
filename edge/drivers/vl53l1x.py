"""VL53L1X time-of-flight distance sensor in a bin's lid -> filling level.

The ranging result (register 0x0096, 16 bits, most significant first) is the distance in mm
from the lid to the waste; fill = (empty depth - distance) / (empty depth - full distance).
The sensor's start-up sequence comes from ST's driver (VL53L1X ULD); only the result is read
here.
"""

from __future__ import annotations

from typing import Any

from edge.drivers.i2c import open_bus

RESULT_RANGE_MM = 0x0096


def distance_mm(raw: bytes) -> int:
    """The ranging result's two bytes as millimetres."""
    return int.from_bytes(raw, "big")


def fill_pct(distance: float, empty_mm: float, full_mm: float) -> float:
    """Filling level in %, clamped to 0-100."""
    level = (empty_mm - distance) / (empty_mm - full_mm) * 100
    return min(100.0, max(0.0, level))


class VL53L1X:
    def __init__(
        self, bus: int = 1, address: int = 0x29, empty_mm: float = 1200.0, full_mm: float = 100.0
    ) -> None:
        self.bus: Any = open_bus(bus)
        self.address, self.empty, self.full = address, empty_mm, full_mm

    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        hi, lo = RESULT_RANGE_MM >> 8, RESULT_RANGE_MM & 0xFF
        self.bus.write_i2c_block_data(self.address, hi, [lo])
        raw = bytes(self.bus.read_i2c_block_data(self.address, hi, 2))
        return [("fill_pct", round(fill_pct(distance_mm(raw), self.empty, self.full), 1))]
