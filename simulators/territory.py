"""Deterministic territory generator: districts and assets around a centre, sized by population.

Ratios (per inhabitant unless said), each a parameter of ``Ratios``:
- light points 0.157: 10.5 M light points in France (AFE) / 67 M inhabitants (derived);
- lamps per cabinet 30: unsourced, typical of French lighting inventories; configurable;
- district metered areas: one per 1,500 inhabitants, one meter and one pressure sensor each
  (unsourced; DMA sizing practice varies from 500 to 3,000 connections);
- shared waste containers: one per 60 inhabitants (unsourced);
- traffic counters: one per 1,000 inhabitants, at least one; parking sensors: one per 100;
- districts: one per 400 inhabitants (at most 26); 20 % of a cabinet's lamps stand in the
  neighbouring district (circuits follow streets, not district borders; unsourced).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from vigie.contracts import Asset, AssetKind, District, Territory

LAMP_POWERS_W = (30.0, 40.0, 50.0, 60.0, 90.0, 120.0)  # LED ranges, REFERENCE-DATA.md
BIN_CAPACITIES_L = (660.0, 1100.0, 3000.0, 5000.0)


@dataclass(frozen=True)
class Ratios:
    light_points_per_inhabitant: float = 0.157
    lamps_per_cabinet: int = 30
    inhabitants_per_dma: int = 1500
    inhabitants_per_bin: int = 60
    inhabitants_per_traffic_counter: int = 1000
    inhabitants_per_parking_sensor: int = 100
    inhabitants_per_bicycle_site: int = 5000  # two channels: one per direction
    inhabitants_per_pedestrian_site: int = 12500
    inhabitants_per_district: int = 400
    cross_district_share: float = 0.2  # lamps fed by a cabinet of the neighbouring district


def _count(population: int, per: float) -> int:
    return max(1, round(population / per))


def generate(
    population: int,
    seed: int = 1,
    territory_id: str = "demo",
    name: str = "Demo",
    lat: float = 45.1885,
    lon: float = 5.7245,
    ratios: Ratios | None = None,
) -> Territory:
    """A territory with plausible asset counts; identical output for the same arguments."""
    r = ratios or Ratios()
    rng = random.Random(seed)
    radius_km = 0.6 + 0.004 * math.sqrt(population) * 3
    n_districts = max(1, min(26, math.ceil(population / r.inhabitants_per_district)))
    districts = [
        District(id=f"d{i:02d}", name=f"District {chr(65 + i)}") for i in range(n_districts)
    ]

    def place(district_idx: int) -> tuple[float, float]:
        angle = 2 * math.pi * (district_idx + rng.random()) / n_districts
        dist = radius_km * math.sqrt(rng.random())
        return (
            round(lat + dist / 111.0 * math.sin(angle), 6),
            round(lon + dist / (111.0 * math.cos(math.radians(lat))) * math.cos(angle), 6),
        )

    assets: list[Asset] = []

    def add(kind: AssetKind, prefix: str, index: int, d: int, **attrs: object) -> Asset:
        la, lo = place(d)
        asset = Asset.model_validate(
            {"id": f"{prefix}-{index:05d}", "kind": kind, "district": districts[d].id}
            | {"lat": la, "lon": lo, **attrs}
        )
        assets.append(asset)
        return asset

    n_lamps = round(population * r.light_points_per_inhabitant)
    n_cabinets = max(1, math.ceil(n_lamps / r.lamps_per_cabinet))
    for c in range(n_cabinets):
        d = c % n_districts
        cabinet = add(AssetKind.LIGHTING_CABINET, "cab", c, d)
        for k in range(c * r.lamps_per_cabinet, min(n_lamps, (c + 1) * r.lamps_per_cabinet)):
            # a cabinet's circuit may cross into the next district (so attribution matters)
            lamp_d = (d + 1) % n_districts if rng.random() < r.cross_district_share else d
            add(
                AssetKind.LAMP,
                "lamp",
                k,
                lamp_d,
                nominal_power_w=rng.choice(LAMP_POWERS_W),
                cabinet_id=cabinet.id,
            )
    for m in range(_count(population, r.inhabitants_per_dma)):
        d = m % n_districts
        add(AssetKind.WATER_METER, "wmeter", m, d, dma=f"dma{m:03d}")
        add(AssetKind.PRESSURE_SENSOR, "wpress", m, d, dma=f"dma{m:03d}")
    for b in range(_count(population, r.inhabitants_per_bin)):
        add(AssetKind.BIN, "bin", b, b % n_districts, capacity_l=rng.choice(BIN_CAPACITIES_L))
    for t in range(_count(population, r.inhabitants_per_traffic_counter)):
        add(AssetKind.TRAFFIC_COUNTER, "traffic", t, t % n_districts)
    for p in range(_count(population, r.inhabitants_per_parking_sensor)):
        add(AssetKind.PARKING_SENSOR, "park", p, p % n_districts)
    sites = (
        (AssetKind.BICYCLE_COUNTER, "bike", r.inhabitants_per_bicycle_site),
        (AssetKind.PEDESTRIAN_COUNTER, "walk", r.inhabitants_per_pedestrian_site),
    )
    for kind, prefix, per in sites:  # last: the assets above keep their draws
        for s in range(_count(population, per)):
            for c, (way, words) in enumerate((("N", "inbound"), ("S", "outbound"))):
                add(
                    kind, prefix, 2 * s + c, s % n_districts, counter_site=f"{prefix}-site-{s:03d}",
                    direction=way, direction_name=words,
                )  # fmt: skip
    return Territory(
        id=territory_id,
        name=name,
        lat=lat,
        lon=lon,
        population=population,
        districts=districts,
        assets=assets,
    )
