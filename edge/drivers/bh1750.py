"""BH1750FVI ambient light sensor, ROHM datasheet: lux = (high byte x 256 + low byte) / 1.2
in continuous high-resolution mode (opcode 0x10, measurement accuracy 1.2 by default)."""

from __future__ import annotations

from typing import Any

from edge.drivers.i2c import open_bus

CONTINUOUS_HIGH_RES = 0x10


def lux(raw: bytes) -> float:
    """The sensor's two bytes (high resolution mode) as lux."""
    return int.from_bytes(raw, "big") / 1.2


class BH1750:
    def __init__(self, bus: int = 1, address: int = 0x23) -> None:
        self.bus: Any = open_bus(bus)
        self.address = address
        self.bus.write_byte(address, CONTINUOUS_HIGH_RES)

    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        raw = bytes(self.bus.read_i2c_block_data(self.address, CONTINUOUS_HIGH_RES, 2))
        return [("illuminance_lx", lux(raw))]
