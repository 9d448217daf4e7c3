"""I2C access for the bus drivers, through smbus2 (installed with ``vigie[edge-hw]``)."""

from __future__ import annotations

from typing import Any

from vigie.errors import VigieError


class I2CError(VigieError):
    """The bus or the sensor cannot be reached; the message says what to check."""


def open_bus(bus: int) -> Any:
    """An smbus2 bus, imported only on boards that have sensors."""
    try:
        from smbus2 import SMBus
    except ImportError as exc:
        raise I2CError("smbus2 is not installed: pip install 'vigie[edge-hw]'") from exc
    try:
        return SMBus(bus)
    except OSError as exc:
        raise I2CError(
            f"/dev/i2c-{bus} cannot be opened ({exc}); enable I2C with "
            "raspi-config and add the user to the i2c group"
        ) from exc


def read_word(bus: Any, address: int, register: int) -> bytes:
    """Two bytes of a register, most significant first."""
    return bytes(bus.read_i2c_block_data(address, register, 2))
