"""The device registry: one file per territory listing each asset and what attribution needs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.contracts.envelope import DeviceId
from vigie.contracts.metrics import Vertical
from vigie.localtime import DEFAULT_TIMEZONE, zone

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
    # active mobility: one asset per channel of a counting site (a direction, a lane)
    BICYCLE_COUNTER = "bicycle_counter"
    PEDESTRIAN_COUNTER = "pedestrian_counter"
    # any other sensor: it sends the metrics its territory declared (``vigie.catalogue``) in
    # the vertical it names
    SENSOR = "sensor"


KIND_VERTICAL: dict[AssetKind, Vertical] = {
    AssetKind.LAMP: Vertical.LIGHTING,
    AssetKind.LIGHTING_CABINET: Vertical.LIGHTING,
    AssetKind.WATER_METER: Vertical.WATER,
    AssetKind.PRESSURE_SENSOR: Vertical.WATER,
    AssetKind.BIN: Vertical.WASTE,
    AssetKind.TRAFFIC_COUNTER: Vertical.MOBILITY,
    AssetKind.PARKING_SENSOR: Vertical.MOBILITY,
    AssetKind.BICYCLE_COUNTER: Vertical.MOBILITY,
    AssetKind.PEDESTRIAN_COUNTER: Vertical.MOBILITY,
}
# what a counter channel counts (its metric), and its mode on the national counting schema
CHANNEL_KINDS: dict[AssetKind, tuple[str, str]] = {
    AssetKind.BICYCLE_COUNTER: ("bicycles_count", "BIKE"),
    AssetKind.PEDESTRIAN_COUNTER: ("pedestrians_count", "PEDESTRIAN"),
}
Compass = Literal["N", "NE", "E", "SE", "S", "SW", "W", "NW"]


# what stands in the street for an asset (reports.sobriety.classes: use and manufacturing)
EquipmentClass = Literal["battery_node", "lamp_controller", "cabinet_meter", "edge_gateway"]


class LorawanIdentity(BaseModel):
    """How a LoRaWAN network server names the device, and which decoder reads its frames."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dev_eui: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{16}$")]
    model: Slug  # a model under ingest/lorawan/models (its decoder and field mapping)
    # distance sensors over a container: the distance read when empty, and when full
    # (the sensor's blind zone or the fill line); fill_pct follows linearly between them
    empty_distance_mm: Annotated[float, Field(gt=0)] | None = None
    full_distance_mm: Annotated[float, Field(ge=0)] | None = None

    @field_validator("dev_eui")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class ModbusIdentity(BaseModel):
    """Where an edge agent finds a Modbus meter, and which register map reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Annotated[int, Field(ge=1, le=247)]  # the meter's slave address on its bus
    map: Slug  # a register map under edge/drivers/modbus_maps


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
    # the device's identity on its field protocol, beside its Vigie id
    lorawan: LorawanIdentity | None = None
    modbus: ModbusIdentity | None = None
    # the device classes standing for it; default: its kind's (a lamp: a lamp controller)
    equipment: list[EquipmentClass] | None = None
    # counter channels: the counting site they belong to (default: their own id), where the
    # counted users head (a compass point) and the site's own words for it
    counter_site: Slug | None = None
    direction: Compass | None = None
    direction_name: Annotated[str, Field(max_length=200)] | None = None
    # a sensor: its vertical and the catalogue's metrics it sends (checked against the
    # catalogue by ``vigie registry validate``)
    sensor_vertical: Vertical | None = None
    measures: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] | None = None

    @property
    def vertical(self) -> Vertical:
        if self.sensor_vertical is not None:
            return self.sensor_vertical
        return KIND_VERTICAL[self.kind]

    @property
    def site(self) -> str:
        """The counting site a counter channel belongs to (its own id when it is alone)."""
        return self.counter_site or self.id

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
        if (self.kind is AssetKind.SENSOR) != (self.sensor_vertical is not None):
            raise ValueError(f"{self.id}: sensor_vertical is required of a sensor, and only of it")
        if self.measures is not None and self.kind is not AssetKind.SENSOR:
            raise ValueError(f"{self.id}: measures belongs to a sensor, not to a {self.kind}")
        channel = (self.counter_site, self.direction, self.direction_name) != (None,) * 3
        if channel and self.kind not in CHANNEL_KINDS:
            raise ValueError(
                f"{self.id}: counter_site, direction and direction_name belong to counter "
                f"channels ({', '.join(CHANNEL_KINDS)}), not to a {self.kind}"
            )
        lora = self.lorawan
        if (
            lora is not None
            and lora.empty_distance_mm is not None
            and (lora.full_distance_mm or 0.0) >= lora.empty_distance_mm
        ):
            raise ValueError(f"{self.id}: full_distance_mm must be below empty_distance_mm")
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
    timezone: str = DEFAULT_TIMEZONE  # IANA name: schedules, nights and days are local
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
        euis: dict[str, str] = {}
        for asset in self.assets:
            if asset.lorawan is not None:
                other = euis.setdefault(asset.lorawan.dev_eui, asset.id)
                if other != asset.id:
                    raise ValueError(
                        f"DevEUI {asset.lorawan.dev_eui} names both {other} and {asset.id}"
                    )
        cabinets = {a.id for a in self.assets if a.kind is AssetKind.LIGHTING_CABINET}
        for asset in self.assets:
            if asset.cabinet_id is not None and asset.cabinet_id not in cabinets:
                raise ValueError(f"lamp {asset.id}: unknown cabinet {asset.cabinet_id!r}")
        return self

    def by_id(self) -> dict[str, Asset]:
        """Assets indexed by device id."""
        return {a.id: a for a in self.assets}

    def by_dev_eui(self) -> dict[str, Asset]:
        """LoRaWAN assets indexed by their DevEUI (lowercase hex)."""
        return {a.lorawan.dev_eui: a for a in self.assets if a.lorawan is not None}

    def save(self, path: Path) -> None:
        """Write the registry file (JSON)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1, exclude_none=True))

    @classmethod
    def load(cls, path: Path) -> Territory:
        """Read a registry file; a ValidationError names the faulty asset and field."""
        return cls.model_validate_json(Path(path).read_bytes())
