"""Sensor drivers behind one small interface: ``read(ts_ms) -> [(metric, value), ...]``."""

from __future__ import annotations

from typing import Protocol

from vigie.contracts import Asset


class Driver(Protocol):
    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]: ...


def load_driver(name: str, asset: Asset) -> Driver:
    """The driver for a config's ``driver`` name."""
    if name == "simulated":
        from edge.drivers.simulated import SimulatedDriver

        return SimulatedDriver(asset)
    raise ValueError(f"unknown driver {name!r}; available: simulated")
