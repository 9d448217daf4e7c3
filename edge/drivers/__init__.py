"""Sensor drivers behind one small interface: ``read(ts_ms, dt_s) -> [(metric, value), ...]``.

Drivers are found by name in the ``vigie.edge.drivers`` entry point group (``pyproject.toml``):
the bus drivers here, the ``simulated`` one from the simulators, and any a deployment adds
with its own package. A driver class is built with ``from_config(asset, options)`` when it has
one, else with the options as keyword arguments; its bus library is imported only then.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from vigie.contracts import Asset
from vigie.errors import UsageError

GROUP = "vigie.edge.drivers"


class Driver(Protocol):
    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]: ...


def available() -> list[str]:
    """The driver names this installation knows."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_driver(
    name: str, asset: Asset, options: dict[str, Any] | None = None, state_dir: Path | None = None
) -> Driver:
    """The driver for a config's ``driver`` name; one that keeps state across restarts
    (``wants_state_dir``) is given the agent's state folder."""
    options = options or {}
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in found:
        raise UsageError(
            f"unknown driver {name!r}; available: {', '.join(available()) or 'none'} "
            "(is Vigie installed with pip, so that its entry points exist?)"
        )
    cls = found[name].load()
    if getattr(cls, "wants_state_dir", False):
        kept: Driver = cls.from_config(asset, options, state_dir)
        return kept
    if hasattr(cls, "from_config"):
        driver: Driver = cls.from_config(asset, options)
        return driver
    made: Driver = cls(**options)
    return made
