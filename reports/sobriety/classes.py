"""Device classes: what each kind of device in the street costs in use and in manufacturing.

The figures and their sources are data (``device_classes.toml``). Manufacturing is built from
functional blocks (Boavizta's IoT factors, after Pirson and Bol's hardware profiles), or taken
whole for a server (ADEME Base Impacts). Every figure is a range: the middle is the central
estimate, the ends bound the balance. Pure: no I/O beyond reading the shipped data file.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from vigie.contracts import Asset, AssetKind

DATA = Path(__file__).with_name("device_classes.toml")
DAYS_PER_YEAR = 365.25

Pair = Annotated[tuple[float, float], Field()]


@dataclass(frozen=True, slots=True)
class Span:
    """A figure's range; ``mid`` is the central estimate."""

    low: float
    high: float

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2

    def __add__(self, other: Span) -> Span:
        return Span(self.low + other.low, self.high + other.high)

    def scaled(self, factor: float) -> Span:
        return Span(self.low * factor, self.high * factor)


ZERO = Span(0.0, 0.0)


class DeviceClass(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    blocks: list[str] = []
    gwp: Pair | None = None  # a whole device's manufacturing, when not built from blocks
    adpe: Pair | None = None
    blocks_source: str
    use_w: Pair
    use_source: str
    life_years: Pair
    life_source: str
    radio: bool = False  # talks through the territory's LoRaWAN gateways
    cores: int = 1


class Manufacturing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    truncation_high: float
    truncation_source: str
    blocks: dict[str, dict[str, tuple[float, float]]]


class ClassTable(BaseModel):
    """The shipped data: blocks and classes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manufacturing: Manufacturing
    classes: dict[str, DeviceClass]

    def embodied(self, name: str) -> tuple[Span, Span]:
        """One unit's manufacturing and end of life: (kg CO2 eq, kg Sb eq), each a range.
        Built from blocks, the high end is the low one times the truncation factor."""
        cls = self.classes[name]
        if cls.gwp is not None and cls.adpe is not None:
            return Span(*cls.gwp), Span(*cls.adpe)
        gwp = adpe = 0.0
        for block in cls.blocks:
            parts = self.manufacturing.blocks[block]
            gwp += parts["fab"][0] + parts["eol"][0]
            adpe += parts["fab"][1] + parts["eol"][1]
        k = self.manufacturing.truncation_high
        return Span(gwp, gwp * k), Span(adpe, adpe * k)

    def per_day(self, name: str) -> ClassDay:
        """One unit's day: energy in use (Wh) and manufacturing spread over its service life
        (g CO2 eq, g Sb eq). The low ends pair the low impact with the long life."""
        cls = self.classes[name]
        gwp, adpe = self.embodied(name)
        short, long_ = cls.life_years[0] * DAYS_PER_YEAR, cls.life_years[1] * DAYS_PER_YEAR
        return ClassDay(
            use_wh=Span(cls.use_w[0] * 24, cls.use_w[1] * 24),
            gco2e=Span(gwp.low * 1000 / long_, gwp.high * 1000 / short),
            gsb=Span(adpe.low * 1000 / long_, adpe.high * 1000 / short),
        )


@dataclass(frozen=True, slots=True)
class ClassDay:
    use_wh: Span
    gco2e: Span
    gsb: Span


@functools.cache
def load_classes(path: Path = DATA) -> ClassTable:
    """The device classes shipped with Vigie."""
    return ClassTable.model_validate(tomllib.loads(path.read_text()))


# what stands in the street for each kind of asset, unless its registry entry says otherwise
EQUIPMENT: dict[AssetKind, tuple[str, ...]] = {
    AssetKind.LAMP: ("lamp_controller",),
    AssetKind.LIGHTING_CABINET: ("cabinet_meter", "edge_gateway"),
    AssetKind.WATER_METER: ("battery_node",),
    AssetKind.PRESSURE_SENSOR: ("battery_node",),
    AssetKind.BIN: ("battery_node",),
    AssetKind.TRAFFIC_COUNTER: ("edge_gateway",),
    AssetKind.PARKING_SENSOR: ("battery_node",),
    AssetKind.BICYCLE_COUNTER: ("battery_node",),  # an induction loop's or a sensor's logger
    AssetKind.PEDESTRIAN_COUNTER: ("battery_node",),
    AssetKind.SENSOR: ("battery_node",),
}


def equipment(asset: Asset) -> tuple[str, ...]:
    """The device classes of one asset: its registry entry's ``equipment``, or its kind's."""
    return tuple(asset.equipment) if asset.equipment is not None else EQUIPMENT[asset.kind]


def fleet(assets: Iterable[Asset], devices_per_gateway: int) -> Counter[str]:
    """Units per class, with the LoRaWAN gateways the radio devices need (each gateway's
    footprint is so shared among the devices it serves)."""
    table = load_classes()
    counts: Counter[str] = Counter()
    for asset in assets:
        counts.update(equipment(asset))
    radio = sum(n for name, n in counts.items() if table.classes[name].radio)
    if radio:
        counts["lorawan_gateway"] = math.ceil(radio / devices_per_gateway)
    return counts


@dataclass(frozen=True, slots=True)
class FleetDay:
    """A fleet's day: energy in use, manufacturing share, per class and in all."""

    per_class: dict[str, ClassDay]
    counts: dict[str, int]

    @property
    def use_wh(self) -> Span:
        return sum((d.use_wh for d in self.per_class.values()), ZERO)

    @property
    def gco2e(self) -> Span:
        return sum((d.gco2e for d in self.per_class.values()), ZERO)

    @property
    def gsb(self) -> Span:
        return sum((d.gsb for d in self.per_class.values()), ZERO)


def fleet_day(counts: Counter[str] | dict[str, int], hours: float = 24.0) -> FleetDay:
    """The fleet's figures over ``hours`` (a LoRaWAN gateway is a Pi-class board)."""
    table = load_classes()
    out = {}
    for name, n in counts.items():
        one = table.per_day("edge_gateway" if name == "lorawan_gateway" else name)
        k = n * hours / 24.0
        out[name] = ClassDay(one.use_wh.scaled(k), one.gco2e.scaled(k), one.gsb.scaled(k))
    return FleetDay(out, dict(counts))


def server_share(cpu_s: float, hours: float = 24.0) -> ClassDay:
    """The platform's share of a server's manufacturing: its busy core-seconds over the
    server's core-seconds in the period (its use is counted from the CPU seconds)."""
    table = load_classes()
    server = table.classes["server"]
    share = cpu_s / (hours * 3600 * server.cores)
    one = table.per_day("server")
    return ClassDay(ZERO, one.gco2e.scaled(share * hours / 24), one.gsb.scaled(share * hours / 24))
