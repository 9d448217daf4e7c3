"""Sensor drivers behind one small interface: ``read(ts_ms) -> [(metric, value), ...]``."""

from __future__ import annotations

from typing import Any, Protocol

from vigie.contracts import Asset


class Driver(Protocol):
    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]: ...


def load_driver(name: str, asset: Asset, options: dict[str, Any] | None = None) -> Driver:
    """The driver for a config's ``driver`` name; bus libraries are imported only here."""
    options = options or {}
    if name == "simulated":
        from edge.drivers.simulated import SimulatedDriver

        return SimulatedDriver(asset)
    if name == "ina219":
        from edge.drivers.ina219 import INA219

        return INA219(**options)
    if name == "bh1750":
        from edge.drivers.bh1750 import BH1750

        return BH1750(**options)
    if name == "vl53l1x":
        from edge.drivers.vl53l1x import VL53L1X

        return VL53L1X(**options)
    if name == "pulse":
        from edge.drivers.pulse import GpioPulses

        return GpioPulses(**options)
    raise ValueError(
        f"unknown driver {name!r}; available: simulated, ina219, bh1750, vl53l1x, pulse"
    )
