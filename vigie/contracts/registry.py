"""The device registry: one file per territory listing each asset and what attribution needs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.contracts.envelope import DeviceId
from vigie.contracts.metrics import Vertical
from vigie.localtime import zone

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


class AssetKind(StrEnum):
    """What a device is; the vertical follows from it."""

    LAMP = "lamp"
    LIGHTING_CABINET = "lighting_cabinet"
    WATER_METER = "water_meter"
    PRESSURE_SENSOR = "pressure_sensor"
    BIN = "bin"
    TRAFFIC_COUNTER = "traffic_counter"
    PARKING_SENSOR = "parking_sensor"


KIND_VERTICAL: dict[AssetKind, Vertical] = {
    AssetKind.LAMP: Vertical.LIGHTING,
    AssetKind.LIGHTING_CABINET: Vertical.LIGHTING,
    AssetKind.WATER_METER: Vertical.WATER,
    AssetKind.PRESSURE_SENSOR: Vertical.WATER,
    AssetKind.BIN: Vertical.WASTE,
    AssetKind.TRAFFIC_COUNTER: Vertical.MOBILITY,
    AssetKind.PARKING_SENSOR: Vertical.MOBILITY,
}


class Asset(BaseModel):
    """One device in the street, with the attributes attribution and KPIs need."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: DeviceId
    kind: AssetKind
    district: Slug
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    nominal_power_w: Annotated[float, Field(gt=0)] | None = None  # lamps
    cabinet_id: DeviceId | None = None  # lamp -> the cabinet that feeds it
    dma: Slug | None = None  # water meter / sensor -> district metered area
    capacity_l: Annotated[float, Field(gt=0)] | None = None  # bins
    # where lat/lon come from: surveyed, or (inventories without coordinates) the asset's
    # cabinet, its district's mean position, or the territory's centre
    located: Literal["surveyed", "cabinet", "district", "territory"] = "surveyed"

    @property
    def vertical(self) -> Vertical:
        return KIND_VERTICAL[self.kind]

    @property
    def meter_group(self) -> str | None:
        """The shared meter this asset belongs to: its cabinet, or its district metered area."""
        if self.kind is AssetKind.LAMP:
            return self.cabinet_id
        if self.kind is AssetKind.LIGHTING_CABINET:
            return self.id
        if self.kind in (AssetKind.WATER_METER, AssetKind.PRESSURE_SENSOR) and self.dma:
            return f"dma:{self.dma}"
        return None

    @property
    def partition_key(self) -> str:
        """The Kafka key of this asset's records: a shared meter's devices share a partition."""
        return self.meter_group or self.id

    @model_validator(mode="after")
    def _attributes_for_kind(self) -> Asset:
        if self.kind is AssetKind.LAMP and (self.nominal_power_w is None or not self.cabinet_id):
            raise ValueError(f"lamp {self.id}: nominal_power_w and cabinet_id are required")
        if self.kind is AssetKind.BIN and self.capacity_l is None:
            raise ValueError(f"bin {self.id}: capacity_l is required")
        return self


class District(BaseModel):
    """A named part of the territory; assets belong to exactly one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: str


class Territory(BaseModel):
    """A territory's description: where it is, its districts and its assets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: str
    lat: float
    lon: float
    population: Annotated[int, Field(ge=0)] = 0
    timezone: str = "Europe/Paris"  # IANA name: schedules, nights and days are local
    districts: list[District]
    assets: list[Asset]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone(name)
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Territory:
        districts = {d.id for d in self.districts}
        ids: set[str] = set()
        for asset in self.assets:
            if asset.id in ids:
                raise ValueError(f"asset id {asset.id} appears twice")
            ids.add(asset.id)
            if asset.district not in districts:
                raise ValueError(f"asset {asset.id}: unknown district {asset.district!r}")
        cabinets = {a.id for a in self.assets if a.kind is AssetKind.LIGHTING_CABINET}
        for asset in self.assets:
            if asset.cabinet_id is not None and asset.cabinet_id not in cabinets:
                raise ValueError(f"lamp {asset.id}: unknown cabinet {asset.cabinet_id!r}")
        return self

    def by_id(self) -> dict[str, Asset]:
        """Assets indexed by device id."""
        return {a.id: a for a in self.assets}

    def save(self, path: Path) -> None:
        """Write the registry file (JSON)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1, exclude_none=True))

    @classmethod
    def load(cls, path: Path) -> Territory:
        """Read a registry file; a ValidationError names the faulty asset and field."""
        return cls.model_validate_json(Path(path).read_bytes())
