"""Physical models per vertical: what each asset measures at a given time.

- Lighting: a lamp burns from sunset to sunrise at the territory's coordinates, at 50 % from
  23:00 to 05:00 local time (part-night dimming, REFERENCE-DATA.md); a failed lamp draws 0 W.
  A cabinet meters the sum of its lamps plus line losses (3 %, configurable), as power and as
  a cumulative energy index.
- Water: district demand follows a diurnal curve (night minimum around 03:00, peaks at 07:00
  and 19:00); a leak adds a constant flow to its area; pressure falls as demand rises.
- Waste: containers fill linearly at a per-container rate and are emptied on collection days.
- Mobility: weekday flow with morning (08:00) and evening (18:00) peaks, a flatter weekend,
  scaled per counter; speed falls and occupancy rises with flow (peaks stay "dense", below
  30 % occupancy); an incident collapses flow and speed with 65 % occupancy ("blocked");
  parking occupancy follows the day.
- Faults of the scenario (simulators/scenario.py) act here: failed lamps, leaks, tappings
  on cabinets, incidents.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from simulators.scenario import Faults, Scenario
from vigie.contracts import Asset, AssetKind, Territory
from vigie.contracts.registry import CHANNEL_KINDS
from vigie.localtime import LocalClock
from vigie.sun import is_dark

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ModelParams:
    dim_from_h: float = 23.0
    dim_to_h: float = 5.0
    dim_level: float = 0.5
    cabinet_losses: float = 0.03
    dma_mean_flow_m3h: float = 12.0
    bin_fill_pct_per_day: tuple[float, float] = (8.0, 30.0)
    collection_weekdays: tuple[int, ...] = (0, 3)  # Monday and Thursday
    road_peak_vehh: float = 900.0
    # a counter channel's busiest hour: bicycles at the morning commute, people on foot at noon
    bicycle_peak_per_h: float = 240.0
    pedestrian_peak_per_h: float = 420.0


def _bump(h: float, centre: float, width: float) -> float:
    d = min(abs(h - centre), 24 - abs(h - centre))
    return math.exp(-0.5 * (d / width) ** 2)


@dataclass
class TerritoryModel:
    """Produces every asset's readings for a sample time; holds cumulative state."""

    territory: Territory
    params: ModelParams = field(default_factory=ModelParams)
    seed: int = 1
    scenario: Scenario = field(default_factory=Scenario)
    _index: dict[str, float] = field(default_factory=dict)
    _fill: dict[str, float] = field(default_factory=dict)
    _rate: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.faults = Faults(self.scenario)
        self.clock = LocalClock(self.territory.timezone)
        self._dark: dict[int, bool] = {}
        self._road_scale: dict[str, float] = {}
        self.lamps_of: dict[str, list[Asset]] = {}
        for a in self.territory.assets:
            if a.kind is AssetKind.LAMP and a.cabinet_id:
                self.lamps_of.setdefault(a.cabinet_id, []).append(a)
            if a.kind is AssetKind.BIN:
                lo, hi = self.params.bin_fill_pct_per_day
                # small containers fill faster; districts differ by up to +/-30 %
                size = 1100.0 / max(660.0, a.capacity_l or 1100.0)
                district = 0.7 + 0.6 * (zlib.crc32(a.district.encode()) % 100) / 100
                self._rate[a.id] = rng.uniform(lo, hi) * size**0.5 * district
                self._fill[a.id] = rng.uniform(0, 60)
            if a.kind in (
                AssetKind.TRAFFIC_COUNTER,
                AssetKind.BICYCLE_COUNTER,
                AssetKind.PEDESTRIAN_COUNTER,
            ):
                self._road_scale[a.id] = rng.uniform(0.5, 1.3)

    # -- lighting --------------------------------------------------------------------------

    def dark(self, ts_ms: int) -> bool:
        """Whether the sun is down at the territory's centre (cached per sample time)."""
        dark = self._dark.get(ts_ms)
        if dark is None:
            if len(self._dark) > 4096:
                self._dark.clear()
            dark = self._dark[ts_ms] = is_dark(self.territory.lat, self.territory.lon, ts_ms)
        return dark

    def lamp_power_w(self, lamp: Asset, ts_ms: int) -> float:
        if not self.dark(ts_ms) or self.faults.lamp_failed(lamp.id, ts_ms):
            return 0.0
        h = self.clock.hour_at(ts_ms)
        dimmed = h >= self.params.dim_from_h or h < self.params.dim_to_h
        return float(lamp.nominal_power_w or 0.0) * (self.params.dim_level if dimmed else 1.0)

    def cabinet_power_w(self, cabinet: Asset, ts_ms: int) -> float:
        lamps = sum(self.lamp_power_w(lamp, ts_ms) for lamp in self.lamps_of.get(cabinet.id, []))
        return lamps * (1 + self.params.cabinet_losses) + self.faults.tapping_w(cabinet.id, ts_ms)

    # -- water -----------------------------------------------------------------------------

    def dma_flow_m3h(self, dma: str, ts_ms: int) -> float:
        h = self.clock.hour_at(ts_ms)
        shape = (
            0.35 + 0.9 * _bump(h, 7.5, 1.5) + 0.7 * _bump(h, 19.5, 2.0) + 0.3 * _bump(h, 12.5, 2)
        )
        return self.params.dma_mean_flow_m3h * shape + self.faults.leak_m3h(dma, ts_ms)

    # -- mobility --------------------------------------------------------------------------

    def road_flow_vehh(self, ts_ms: int) -> float:
        h = self.clock.hour_at(ts_ms)
        weekday = ((ts_ms // (24 * HOUR_MS)) + 3) % 7 < 5  # 1970-01-01 was a Thursday
        if weekday:
            shape = (
                0.08
                + 1.0 * _bump(h, 8.25, 1.0)
                + 0.85 * _bump(h, 18.0, 1.2)
                + 0.35 * _bump(h, 13, 3)
            )
        else:
            shape = 0.08 + 0.5 * _bump(h, 15.0, 3.5)
        return self.params.road_peak_vehh * shape

    def passages(self, asset: Asset, ts_ms: int, dt_s: float) -> float:
        """What a bicycle or pedestrian channel counted in the dt_s before ts_ms: weekday
        commute peaks (bicycles sharper at 8:00 and 17:30, people on foot around noon),
        weekend leisure in the afternoon, nothing to do with the weather. Whole numbers whose
        sum over a day keeps the expected total (rounded by a hash, the same every run)."""
        mid = ts_ms - dt_s * 500  # the middle of the period counted
        h = self.clock.hour_at(int(mid))
        local_day = (int(mid) + self.clock.offset_at(int(mid))) // (24 * HOUR_MS)
        weekday = (local_day + 3) % 7 < 5  # 1970-01-01 was a Thursday
        if asset.kind is AssetKind.BICYCLE_COUNTER:
            peak = self.params.bicycle_peak_per_h
            shape = (
                0.03 + _bump(h, 8.0, 0.8) + 0.8 * _bump(h, 17.5, 1.1) + 0.2 * _bump(h, 12.5, 1)
                if weekday
                else 0.03 + 0.45 * _bump(h, 15.0, 2.5)
            )
        else:
            peak = self.params.pedestrian_peak_per_h
            shape = (
                0.04 + 0.35 * _bump(h, 8.5, 1.0) + _bump(h, 12.5, 1.5) + 0.6 * _bump(h, 17.5, 1.5)
                if weekday
                else 0.04 + 0.8 * _bump(h, 15.5, 3.0)
            )
        expected = peak * shape * self._road_scale.get(asset.id, 1.0) * dt_s / 3600
        draw = zlib.crc32(f"{asset.id}:{ts_ms}".encode()) % 10_000 / 10_000
        return float(math.floor(expected + draw))

    # -- every asset -----------------------------------------------------------------------

    def sample(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        """The readings an asset reports at ts_ms, dt_s after its previous sample."""
        if asset.kind in CHANNEL_KINDS:
            return [(CHANNEL_KINDS[asset.kind][0], self.passages(asset, ts_ms, dt_s))]
        of_kind = _SAMPLERS.get(asset.kind)
        return of_kind(self, asset, ts_ms, dt_s) if of_kind is not None else []

    def _lamp(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        power = self.lamp_power_w(asset, ts_ms)
        level = 0.0 if power == 0 else 100.0 * power / float(asset.nominal_power_w or 1)
        return [("power_w", round(power, 3)), ("dimming_pct", round(level, 1))]

    def _cabinet(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        power = self.cabinet_power_w(asset, ts_ms)
        index = self._index.get(asset.id, 0.0) + power * dt_s / 3600.0
        self._index[asset.id] = index
        return [("cabinet_power_w", round(power, 3)), ("energy_index_wh", round(index, 3))]

    def _water_meter(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        flow = self.dma_flow_m3h(asset.dma or "", ts_ms)
        index = self._index.get(asset.id, 0.0) + flow * dt_s / 3600.0
        self._index[asset.id] = index
        return [("flow_m3h", round(flow, 4)), ("volume_index_m3", round(index, 4))]

    def _pressure(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        ratio = self.dma_flow_m3h(asset.dma or "", ts_ms) / (2 * self.params.dma_mean_flow_m3h)
        return [("pressure_bar", round(max(0.5, 4.2 - 1.2 * ratio), 4))]

    def _bin(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        day = ts_ms // (24 * HOUR_MS)
        weekday = (day + 3) % 7
        fill = self._fill[asset.id] + self._rate[asset.id] * dt_s / 86_400
        h = self.clock.hour_at(ts_ms)
        if weekday in self.params.collection_weekdays and 6 <= h < 6 + dt_s / 3600:
            fill = 0.0
        self._fill[asset.id] = min(fill, 100.0)
        return [("fill_pct", round(self._fill[asset.id], 2))]

    def _road(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        flow = self.road_flow_vehh(ts_ms) * self._road_scale[asset.id]
        ratio = flow / self.params.road_peak_vehh
        if self.faults.incident(asset.id, ts_ms):
            return [
                ("traffic_flow_vehh", round(flow * 0.3, 1)),
                ("speed_kmh", 6.0),
                ("occupancy_pct", 65.0),
            ]
        return [
            ("traffic_flow_vehh", round(flow, 1)),
            ("speed_kmh", round(max(8.0, 50.0 * (1 - 0.6 * ratio**2)), 1)),
            ("occupancy_pct", round(min(100.0, 24.0 * ratio), 1)),
        ]

    def _parking(self, asset: Asset, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        h = self.clock.hour_at(ts_ms)
        busy = 0.2 + 0.7 * _bump(h, 14.0, 4.0)
        slot = f"{asset.id}:{ts_ms // (20 * 60_000)}".encode()
        occupied = zlib.crc32(slot) % 1000 / 1000 < busy
        return [("occupancy_pct", 100.0 if occupied else 0.0)]


# each kind's readings (a counter channel's are ``passages``; a kind absent sends none)
_SAMPLERS: dict[
    AssetKind, Callable[[TerritoryModel, Asset, int, float], list[tuple[str, float]]]
] = {
    AssetKind.LAMP: TerritoryModel._lamp,
    AssetKind.LIGHTING_CABINET: TerritoryModel._cabinet,
    AssetKind.WATER_METER: TerritoryModel._water_meter,
    AssetKind.PRESSURE_SENSOR: TerritoryModel._pressure,
    AssetKind.BIN: TerritoryModel._bin,
    AssetKind.TRAFFIC_COUNTER: TerritoryModel._road,
    AssetKind.PARKING_SENSOR: TerritoryModel._parking,
}
