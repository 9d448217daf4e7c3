"""A territory's registry built from the inventories technical services already have: a CSV
export of light points or bins, a counter list, a GeoJSON file (an OpenStreetMap export of
``highway=street_lamp`` included). Pure but for reading the file.

A column mapping says where each attribute is. Every row that cannot become an asset is
reported with its line (or feature number) and why; the others are kept. Coordinates are
optional: an asset without them takes its cabinet's position, else its district's (the mean
of the positioned assets there), else the territory's, and says so in ``located``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vigie.contracts import Asset, AssetKind, Territory


@dataclass(frozen=True)
class InventoryMapping:
    """Where each attribute is (a column or GeoJSON property name), or its value for all."""

    kind: AssetKind
    id: str  # column of the asset's own identifier
    id_template: str = "{}"  # e.g. "lamp-{}"
    district: str | None = None  # column; None: ``district_value`` for every asset
    district_value: str = "territory"
    lat: str | None = None  # columns; GeoJSON points need none
    lon: str | None = None
    cabinet: str | None = None  # lamps: column of the feeding cabinet's identifier
    cabinet_template: str = "{}"
    power_w: str | None = None  # lamps: column of the nominal power
    power_w_value: float | None = None  # ... or one value for all
    capacity_l: str | None = None  # bins
    capacity_l_value: float | None = None
    dma: str | None = None  # water: district metered area
    delimiter: str = ","
    # radio devices: the column of the LoRaWAN DevEUI, the model (a column, or one for all),
    # and for distance sensors over a container the distances when empty and when full (mm)
    dev_eui: str | None = None
    lorawan_model: str | None = None
    lorawan_model_value: str | None = None
    empty_distance_mm: str | None = None
    empty_distance_mm_value: float | None = None
    full_distance_mm: str | None = None
    full_distance_mm_value: float | None = None
    # field meters an edge agent polls: the Modbus unit (slave address) and the register map
    modbus_unit: str | None = None
    modbus_unit_value: int | None = None
    modbus_map: str | None = None
    modbus_map_value: str | None = None
    # bicycle and pedestrian counter channels: the site they belong to (its identifier is
    # made a slug), where the counted users head (N, NE, ... NW) and the site's words for it
    counter_site: str | None = None
    direction: str | None = None
    direction_value: str | None = None
    direction_name: str | None = None

    @classmethod
    def keys(cls) -> list[str]:
        """The keys a mapping file may hold."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_file(cls, path: Path) -> InventoryMapping:
        """A small JSON mapping file: {"kind": "lamp", "id": "num_point", ...}; a key it does
        not know is refused by name, with the keys it knows."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        unknown = sorted(set(data) - set(cls.keys()))
        if unknown:
            raise ValueError(
                f"{path}: unknown mapping key(s) {', '.join(unknown)}; the keys are "
                f"{', '.join(cls.keys())}"
            )
        if "kind" not in data or "id" not in data:
            raise ValueError(f"{path}: a mapping names at least its kind and its id column")
        try:
            kind = AssetKind(data["kind"])
        except ValueError:
            raise ValueError(
                f"{path}: kind {data['kind']!r} is none of {', '.join(k.value for k in AssetKind)}"
            ) from None
        return cls(**{**data, "kind": kind})


@dataclass(frozen=True, slots=True)
class InventoryProblem:
    line: int  # CSV line, or GeoJSON feature number (from 1)
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class InventoryImport:
    territory: Territory
    added: int = 0
    located: dict[str, int] = field(default_factory=dict)  # how positions were found
    problems: list[InventoryProblem] = field(default_factory=list)


def slug(text: str) -> str:
    """A registry identifier from a label: ``Quartier Saint-Michel`` -> ``quartier-saint-michel``
    (accents dropped, lowercase, at most 64 characters)."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9_.-]+", "-", ascii_.lower()).strip("-.")
    return out[:64] or "unnamed"


def _first(d: Mapping[str, Any], *keys: str) -> Any:
    return next((d[k] for k in keys if d.get(k) not in (None, "")), None)


def _chirpstack(device: Mapping[str, Any]) -> dict[str, Any]:
    """A device of ChirpStack's device list (``GET /api/devices``: ``result``); v3 and v4
    spellings. Its tags become ``tags.KEY`` columns."""
    props = {
        "dev_eui": _first(device, "devEui", "devEUI", "dev_eui"),
        "name": device.get("name"),
        "description": device.get("description"),
        "profile": _first(device, "deviceProfileName", "device_profile_name"),
    }
    return props | {f"tags.{k}": v for k, v in (device.get("tags") or {}).items()}


def _things_stack(device: Mapping[str, Any]) -> dict[str, Any]:
    """An end device of The Things Stack's list (``ttn-lw-cli end-devices list --json``, or
    the API's ``end_devices``); its attributes become ``attributes.KEY`` columns, its
    registry location (``locations.user``) its position."""
    ids = device.get("ids") or {}
    props = {
        "device_id": ids.get("device_id"),
        "dev_eui": ids.get("dev_eui"),
        "name": device.get("name"),
        "description": device.get("description"),
    }
    props |= {f"attributes.{k}": v for k, v in (device.get("attributes") or {}).items()}
    where = (device.get("locations") or {}).get("user") or {}
    if where.get("latitude") is not None and where.get("longitude") is not None:
        props["__lat"], props["__lon"] = where["latitude"], where["longitude"]
    return props


def network_devices(data: object) -> list[dict[str, Any]] | None:
    """A LoRaWAN network server's device list as inventory rows (``dev_eui``, ``name``, ...);
    None when ``data`` is none (a GeoJSON collection, say)."""
    if isinstance(data, dict) and isinstance(data.get("result"), list):
        return [_chirpstack(d) for d in data["result"] if isinstance(d, dict)]
    items = data.get("end_devices") if isinstance(data, dict) else data
    if isinstance(items, list) and items and all(isinstance(d, dict) and "ids" in d for d in items):
        return [_things_stack(d) for d in items]
    return None


def _rows(path: Path, mapping: InventoryMapping) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, feature or device number, properties with lat/lon where the geometry gives
    them): a CSV, a GeoJSON collection of points, or a network server's device list."""
    if path.suffix.lower() in (".geojson", ".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        devices = network_devices(data)
        if devices is not None:
            yield from enumerate(devices, start=1)
            return
        for n, feature in enumerate(data.get("features", []), start=1):
            props = dict(feature.get("properties") or {})
            if "id" in feature and "id" not in props:
                props["id"] = feature["id"]
            geometry = feature.get("geometry") or {}
            if geometry.get("type") == "Point":
                props["__lon"], props["__lat"] = geometry["coordinates"][:2]
            yield n, props
        return
    with path.open(newline="", encoding="utf-8-sig") as f:
        yield from enumerate(csv.DictReader(f, delimiter=mapping.delimiter), start=2)


def _number(props: Mapping[str, Any], column: str | None) -> float | None:
    if column is None:
        return None
    cell = props.get(column)
    if cell is None or str(cell).strip() == "":
        return None
    return float(str(cell).strip().replace(",", "."))


def import_inventory(path: Path, mapping: InventoryMapping, base: Territory) -> InventoryImport:
    """``base``'s assets and districts plus the inventory's; an id already there is a problem
    (the registry is never silently overwritten)."""
    assets = {a.id: a.model_dump() for a in base.assets}
    districts = {d.id: d.name for d in base.districts}
    problems: list[InventoryProblem] = []
    pending: list[tuple[int, dict[str, Any]]] = []
    for line, props in _rows(Path(path), mapping):
        raw_id = str(props.get(mapping.id) or "").strip()
        if not raw_id:
            problems.append(InventoryProblem(line, f"no identifier in {mapping.id!r}"))
            continue
        asset_id = slug(mapping.id_template.format(raw_id.replace("/", "-")))
        if asset_id in assets or any(asset_id == p[1]["id"] for p in pending):
            problems.append(InventoryProblem(line, f"asset {asset_id} is already in the registry"))
            continue
        label = str(props.get(mapping.district) or "").strip() if mapping.district else ""
        district = slug(label or mapping.district_value)
        districts.setdefault(district, label or mapping.district_value)
        try:
            record = _record(asset_id, district, props, mapping)
        except ValueError as exc:
            problems.append(InventoryProblem(line, f"{asset_id}: {exc}"))
            continue
        pending.append((line, record))
    missing = _missing_cabinets([r for _, r in pending], assets)
    if missing:
        raise ValueError(
            f"lamps name cabinets the registry does not hold ({', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}): import the cabinets first (--kind "
            "lighting_cabinet), then the lamps"
        )
    located = _locate([r for _, r in pending], assets, base)
    added = 0
    for line, record in pending:
        try:
            asset = Asset.model_validate({k: v for k, v in record.items() if v is not None})
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or record["id"]
            problems.append(InventoryProblem(line, f"{record['id']}: {where}: {first['msg']}"))
            continue
        assets[asset.id] = asset.model_dump()
        added += 1
    try:
        territory = Territory.model_validate(
            {
                **base.model_dump(),
                "districts": [{"id": k, "name": v} for k, v in districts.items()],
                "assets": list(assets.values()),
            }
        )
    except ValidationError as exc:
        raise ValueError(f"the registry would be inconsistent: {exc}") from None
    return InventoryImport(territory, added, located, problems)


def _record(
    asset_id: str, district: str, props: Mapping[str, Any], mapping: InventoryMapping
) -> dict[str, Any]:
    """The asset one row describes, before validation (None where the row says nothing)."""
    try:
        lat = props.get("__lat") if mapping.lat is None else _number(props, mapping.lat)
        lon = props.get("__lon") if mapping.lon is None else _number(props, mapping.lon)
        power = _number(props, mapping.power_w) or mapping.power_w_value
        capacity = _number(props, mapping.capacity_l) or mapping.capacity_l_value
    except ValueError as exc:
        raise ValueError(f"not a number: {exc}") from None
    record: dict[str, Any] = {
        "id": asset_id, "kind": mapping.kind, "district": district, "lat": lat, "lon": lon,
        "nominal_power_w": power, "capacity_l": capacity,
    }  # fmt: skip
    if mapping.cabinet:
        cabinet = str(props.get(mapping.cabinet) or "").strip()
        record["cabinet_id"] = slug(mapping.cabinet_template.format(cabinet)) if cabinet else None
    if mapping.dma:
        record["dma"] = slug(str(props.get(mapping.dma) or "")) or None
    record["lorawan"] = _lorawan(props, mapping)
    record["modbus"] = _modbus(props, mapping)
    site = _text(props, mapping.counter_site)
    record["counter_site"] = slug(site) if site else None
    record["direction"] = _text(props, mapping.direction, mapping.direction_value)
    record["direction_name"] = _text(props, mapping.direction_name)
    return record


def _text(props: Mapping[str, Any], column: str | None, value: Any = None) -> Any:
    """A cell's text (None when empty), or the one value for all rows."""
    if column is None:
        return value
    cell = str(props.get(column) or "").strip()
    return cell or None


def _lorawan(props: Mapping[str, Any], mapping: InventoryMapping) -> dict[str, Any] | None:
    """The asset's LoRaWAN identity from its row, or None when the mapping names no DevEUI."""
    if mapping.dev_eui is None:
        return None
    dev_eui = _text(props, mapping.dev_eui)
    model = _text(props, mapping.lorawan_model, mapping.lorawan_model_value)
    if dev_eui is None or model is None:
        raise ValueError("a LoRaWAN device needs its DevEUI and its model")
    out: dict[str, Any] = {"dev_eui": dev_eui, "model": model}
    for key in ("empty_distance_mm", "full_distance_mm"):
        found = _number(props, getattr(mapping, key)) or getattr(mapping, f"{key}_value")
        if found is not None:
            out[key] = found
    return out


def _modbus(props: Mapping[str, Any], mapping: InventoryMapping) -> dict[str, Any] | None:
    """The meter's Modbus unit and register map, or None when the mapping names neither."""
    unit = _number(props, mapping.modbus_unit) or mapping.modbus_unit_value
    map_ = _text(props, mapping.modbus_map, mapping.modbus_map_value)
    if unit is None and map_ is None:
        return None
    if unit is None or map_ is None:
        raise ValueError("a Modbus meter needs its unit and its register map")
    return {"unit": int(unit), "map": map_}


def _missing_cabinets(
    records: list[dict[str, Any]], known: Mapping[str, dict[str, Any]]
) -> list[str]:
    """Cabinets the new lamps name that neither the registry nor the import holds."""
    ids = set(known) | {r["id"] for r in records}
    return sorted({c for r in records if (c := r.get("cabinet_id")) and c not in ids})


def _locate(
    records: list[dict[str, Any]], known: Mapping[str, dict[str, Any]], base: Territory
) -> dict[str, int]:
    """Fill missing positions in place (cabinet, district mean, territory) and mark each;
    returns how many assets got each kind of position."""
    every = {**known, **{r["id"]: r for r in records}}

    def surveyed(r: Mapping[str, Any]) -> bool:
        return r.get("lat") is not None and r.get("located", "surveyed") == "surveyed"

    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for r in every.values():
        if surveyed(r) and r.get("lon") is not None:
            acc = sums[r["district"]]
            acc[0], acc[1], acc[2] = acc[0] + r["lat"], acc[1] + r["lon"], acc[2] + 1
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        if r.get("lat") is not None and r.get("lon") is not None:
            r["located"] = "surveyed"
        elif (cab := every.get(r.get("cabinet_id") or "")) and surveyed(cab):
            r["lat"], r["lon"], r["located"] = cab["lat"], cab["lon"], "cabinet"
        elif sums[r["district"]][2]:
            lat, lon, n = sums[r["district"]]
            r["lat"], r["lon"], r["located"] = lat / n, lon / n, "district"
        else:
            r["lat"], r["lon"], r["located"] = base.lat, base.lon, "territory"
        counts[r["located"]] += 1
    return dict(counts)
