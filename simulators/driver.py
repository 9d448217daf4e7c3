"""The ``simulated`` edge driver: readings from the simulators' physical models, for boards
without sensors attached. Registered under the ``vigie.edge.drivers`` entry point group, so
the edge agent finds it by name without importing the simulators itself."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simulators.models import TerritoryModel
from vigie.contracts import Asset, AssetKind, District, Territory


class SimulatedDriver:
    """Reads what the physical model says the asset measures now."""

    @classmethod
    def from_config(cls, asset: Asset, options: dict[str, Any]) -> SimulatedDriver:
        del options  # the model needs only the asset
        return cls(asset)

    def __init__(self, asset: Asset) -> None:
        assets = [asset]
        if asset.kind is AssetKind.LAMP and asset.cabinet_id:
            assets.append(
                Asset(
                    id=asset.cabinet_id,
                    kind=AssetKind.LIGHTING_CABINET,
                    district=asset.district,
                    lat=asset.lat,
                    lon=asset.lon,
                )
            )
        territory = Territory(
            id="edge",
            name="edge",
            lat=asset.lat,
            lon=asset.lon,
            districts=[District(id=asset.district, name=asset.district)],
            assets=assets,
        )
        self.asset = asset
        self.model = TerritoryModel(territory)

    def set_dimming(self, schedule: list) -> None:
        """Apply the first step of a dimming schedule to the lamp model."""
        if not schedule:
            return
        step = schedule[0]
        self.model.params = replace(
            self.model.params,
            dim_from_h=_hours(step.start),
            dim_to_h=_hours(step.end),
            dim_level=step.level_pct / 100,
        )

    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        return self.model.sample(self.asset, ts_ms, dt_s)


def _hours(hhmm: str) -> float:
    h, m = hhmm.split(":")
    return int(h) + int(m) / 60
