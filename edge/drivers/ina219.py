"""INA219 power monitor (lamp or cabinet power), TI datasheet SBOS448.

Registers are 16-bit, most significant byte first: bus voltage (0x02) in bits 15..3 with a
4 mV LSB; current (0x04) signed, in units of the chosen current LSB; power (0x03) in units of
20 x current LSB; calibration (0x05) = trunc(0.04096 / (current_LSB x R_shunt)).
"""

from __future__ import annotations

from typing import Any

from edge.drivers.i2c import open_bus, read_word

BUS_VOLTAGE, POWER, CURRENT, CALIBRATION = 0x02, 0x03, 0x04, 0x05


def calibration(current_lsb_a: float, shunt_ohm: float) -> int:
    """The calibration register value for a current LSB and shunt resistor."""
    return int(0.04096 / (current_lsb_a * shunt_ohm))


def bus_voltage_v(raw: bytes) -> float:
    """Bus voltage from register 0x02."""
    return (int.from_bytes(raw, "big") >> 3) * 0.004


def current_a(raw: bytes, current_lsb_a: float) -> float:
    """Current from register 0x04 (two's complement)."""
    return int.from_bytes(raw, "big", signed=True) * current_lsb_a


def power_w(raw: bytes, current_lsb_a: float) -> float:
    """Power from register 0x03."""
    return int.from_bytes(raw, "big") * 20 * current_lsb_a


class INA219:
    """Reads power_w from an INA219 on the board's I2C bus."""

    def __init__(
        self,
        bus: int = 1,
        address: int = 0x40,
        shunt_ohm: float = 0.1,
        current_lsb_a: float = 0.0001,
        metric: str = "power_w",
    ) -> None:
        self.bus: Any = open_bus(bus)
        self.address, self.lsb, self.metric = address, current_lsb_a, metric
        cal = calibration(current_lsb_a, shunt_ohm)
        self.bus.write_i2c_block_data(address, CALIBRATION, list(cal.to_bytes(2, "big")))

    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        return [(self.metric, power_w(read_word(self.bus, self.address, POWER), self.lsb))]
