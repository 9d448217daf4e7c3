"""A territory's assets as NGSI-LD entities following the Smart Data Models, and back. Pure.

Lamps are ``Streetlight``, cabinets ``StreetlightControlCabinet`` (each with the
``StreetlightGroup`` of lamps it feeds), bins ``WasteContainer``; meters and sensors are
``Device`` (what they measure in ``controlledProperty``), and a traffic counter's latest hour
is a ``TrafficFlowObserved`` (a bicycle channel's with its ``vehicleType``). A metric the
territory declared in its catalogue (``vigie.catalogue``) with a Smart Data Models attribute
(``WaterQualityObserved.turbidity``) gives its last value as an observation of that type
pointing at the sensor's ``Device``. Entities are in the normalized form (each attribute a Property,
GeoProperty or Relationship); ``key_values`` gives the simplified form that the Smart Data
Models' JSON Schemas describe. Ids are URNs built from the territory and the device:
``urn:ngsi-ld:Streetlight:lyon:lamp-00012``.

What a model has no attribute for and the registry needs (a water meter's metered area, where a
position comes from, the district) rides on terms of Vigie's own, declared in the @context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reports.interop.schemas import controlled_properties
from vigie.contracts.metrics import METRICS
from vigie.contracts.registry import Asset, AssetKind, Territory
from vigie.errors import DataError

CONTEXT: list[Any] = [
    "https://smart-data-models.github.io/data-models/context.jsonld",
    {"vigie": "urn:vigie:terms:"},
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
ENTITY_TYPE = {
    AssetKind.LAMP: "Streetlight",
    AssetKind.LIGHTING_CABINET: "StreetlightControlCabinet",
    AssetKind.BIN: "WasteContainer",
    AssetKind.WATER_METER: "Device",
    AssetKind.PRESSURE_SENSOR: "Device",
    AssetKind.TRAFFIC_COUNTER: "Device",
    AssetKind.PARKING_SENSOR: "Device",
    AssetKind.BICYCLE_COUNTER: "Device",
    AssetKind.PEDESTRIAN_COUNTER: "Device",
    AssetKind.SENSOR: "Device",
}
# what a Device measures, in the model's own vocabulary, and what it is
DEVICE = {
    AssetKind.WATER_METER: ("waterConsumption", "meter"),
    AssetKind.PRESSURE_SENSOR: ("pressure", "sensor"),
    AssetKind.TRAFFIC_COUNTER: ("trafficFlow", "sensor"),
    AssetKind.PARKING_SENSOR: ("occupancy", "sensor"),
    AssetKind.BICYCLE_COUNTER: ("trafficFlow", "sensor"),
    AssetKind.PEDESTRIAN_COUNTER: ("trafficFlow", "sensor"),
}
# a counter channel's Device says what it counts in Vigie's own term (the model has none)
MODE = {AssetKind.BICYCLE_COUNTER: "bicycle", AssetKind.PEDESTRIAN_COUNTER: "pedestrian"}
KIND_OF = {measured: kind for kind, (measured, _) in DEVICE.items() if kind not in MODE}
KIND_OF_MODE = {mode: kind for kind, mode in MODE.items()}


def urn(entity_type: str, territory: str, local_id: str) -> str:
    """An entity's id: its type, its territory, its device."""
    return f"urn:ngsi-ld:{entity_type}:{territory}:{local_id}"


def local_id(entity_id: str) -> str:
    """The device id at the end of an entity's URN."""
    return entity_id.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Latest:
    """What was measured last, for the entities that carry it."""

    at_ms: int = 0
    bin_fill: Mapping[str, float] = field(default_factory=dict)  # device -> 0..1
    failed_lamps: frozenset[str] = frozenset()
    # counter -> (first, last instant of the hour in ms, vehicles counted in it)
    traffic: Mapping[str, tuple[int, int, float]] = field(default_factory=dict)
    # (device, declared metric) -> (time of its last 1-minute window in ms, its last value)
    declared: Mapping[tuple[str, str], tuple[int, float]] = field(default_factory=dict)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _rel(target: str | list[str]) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def asset_entity(territory: str, asset: Asset, latest: Latest | None = None) -> dict[str, Any]:
    """One asset in the normalized NGSI-LD form of its Smart Data Model."""
    latest = latest or Latest()
    kind = ENTITY_TYPE[asset.kind]
    entity: dict[str, Any] = {
        "id": urn(kind, territory, asset.id),
        "type": kind,
        "name": _prop(asset.id),
        "location": _point(asset.lat, asset.lon),
        "areaServed": _prop(asset.district),
        "vigie:located": _prop(asset.located),
    }
    if asset.kind is AssetKind.LAMP:
        cabinet = asset.cabinet_id or ""
        failed = asset.id in latest.failed_lamps
        entity |= {
            "status": _prop("defectiveLamp" if failed else "ok"),
            "powerRating": {**_prop(asset.nominal_power_w), "unitCode": "WTT"},
            "refStreetlightControlCabinet": _rel(
                urn("StreetlightControlCabinet", territory, cabinet)
            ),
            "refStreetlightGroup": _rel(urn("StreetlightGroup", territory, cabinet)),
        }
    elif asset.kind is AssetKind.LIGHTING_CABINET:
        entity |= {
            "workingMode": _prop("automatic"),
            "refStreetlightGroup": _rel([urn("StreetlightGroup", territory, asset.id)]),
        }
    elif asset.kind is AssetKind.BIN:
        entity["binCapacity"] = {**_prop(asset.capacity_l), "unitCode": "LTR"}
        if asset.id in latest.bin_fill:
            entity["fillingLevel"] = {
                **_prop(round(min(1.0, max(0.0, latest.bin_fill[asset.id])), 4)),
                "observedAt": _iso(latest.at_ms),
            }
    elif asset.kind is AssetKind.SENSOR:
        entity |= _sensor(asset)
    else:
        measured, category = DEVICE[asset.kind]
        entity |= {"controlledProperty": _prop([measured]), "category": _prop([category])}
        if asset.dma:
            entity["vigie:dma"] = _prop(asset.dma)
        if asset.kind in MODE:
            entity["vigie:mode"] = _prop(MODE[asset.kind])
            for name, value in (
                ("vigie:counterSite", asset.counter_site),
                ("vigie:direction", asset.direction),
                ("vigie:directionName", asset.direction_name),
            ):
                if value is not None:
                    entity[name] = _prop(value)
    return entity


def _attribute(metric: str) -> tuple[str, str] | None:
    """The Smart Data Models entity type and attribute a catalogue metric maps to."""
    spec = METRICS.get(metric)
    if spec is None or "." not in spec.fiware:
        return None
    kind, attribute = spec.fiware.split(".", 1)
    return kind, attribute


def _controlled(metric: str) -> str | None:
    """What a Device measuring the metric names in ``controlledProperty``: the attribute
    itself (``turbidity``) or its observation's subject (``NoiseLevelObserved``: noiseLevel),
    when the model's list has it."""
    mapped = _attribute(metric)
    if mapped is None:
        return None
    kind, attribute = mapped
    stem = kind.removesuffix("Observed")
    for candidate in (attribute, stem[:1].lower() + stem[1:]):
        if candidate in controlled_properties():
            return candidate
    return None


def _sensor(asset: Asset) -> dict[str, Any]:
    """A sensor's Device properties: what it measures, in the model's words where it has them
    (the attributes of the catalogue's metrics), and in Vigie's (the metrics themselves)."""
    known = list(dict.fromkeys(p for m in asset.measures or () if (p := _controlled(m))))
    out = {
        "category": _prop(["sensor"]),
        "vigie:vertical": _prop(str(asset.vertical)),
        "vigie:measures": _prop(list(asset.measures or ())),
    }
    if known:
        out["controlledProperty"] = _prop(known)
    return out


def observed_entity(
    territory: str, asset: Asset, metric: str, at_ms: int, value: float
) -> dict[str, Any] | None:
    """A declared metric's last value as an observation of the entity type its catalogue
    entry names (``WaterQualityObserved.turbidity``: a WaterQualityObserved with its
    turbidity), pointing at the device; None when the entry names none."""
    mapped = _attribute(metric)
    if mapped is None:
        return None
    kind, attribute = mapped
    return {
        "id": urn(kind, territory, asset.id),
        "type": kind,
        "location": _point(asset.lat, asset.lon),
        "dateObserved": _prop(_iso(at_ms)),
        attribute: {**_prop(value), "vigie:unit": _prop(METRICS[metric].unit)},
        "refDevice": _rel(urn("Device", territory, asset.id)),
    }


def group_entity(territory: str, cabinet: Asset, lamps: Sequence[Asset]) -> dict[str, Any]:
    """The lamps a cabinet feeds, as the StreetlightGroup it controls."""
    return {
        "id": urn("StreetlightGroup", territory, cabinet.id),
        "type": "StreetlightGroup",
        "location": _point(cabinet.lat, cabinet.lon),
        "refStreetlightControlCabinet": _rel(
            urn("StreetlightControlCabinet", territory, cabinet.id)
        ),
        "refStreetlight": _rel(sorted(urn("Streetlight", territory, lamp.id) for lamp in lamps)),
    }


# what a counter channel's TrafficFlowObserved counts: the model's vehicleType, or (people on
# foot are no vehicle) Vigie's own term
VEHICLE_TYPE = {AssetKind.BICYCLE_COUNTER: "bicycle"}


def traffic_entity(
    territory: str, counter: Asset, first_ms: int, last_ms: int, vehicles: float
) -> dict[str, Any]:
    """A counter's latest hour: the vehicles (bicycles, pedestrians) it counted."""
    counted: dict[str, Any] = {}
    if counter.kind in VEHICLE_TYPE:
        counted["vehicleType"] = _prop(VEHICLE_TYPE[counter.kind])
    elif counter.kind in MODE:
        counted["vigie:mode"] = _prop(MODE[counter.kind])
    if counter.direction:
        counted["vigie:direction"] = _prop(counter.direction)
    return counted | {
        "id": urn("TrafficFlowObserved", territory, counter.id),
        "type": "TrafficFlowObserved",
        "location": _point(counter.lat, counter.lon),
        "dateObserved": _prop(f"{_iso(first_ms)}/{_iso(last_ms)}"),
        "dateObservedFrom": _prop(_iso(first_ms)),
        "dateObservedTo": _prop(_iso(last_ms)),
        "intensity": _prop(round(vehicles, 1)),
        "refDevice": _rel(urn("Device", territory, counter.id)),
    }


def entities(territory: Territory, latest: Latest | None = None) -> list[dict[str, Any]]:
    """Every asset of the territory as entities (with its cabinets' groups), then the
    observations that ``latest`` holds."""
    latest = latest or Latest()
    out = [asset_entity(territory.id, a, latest) for a in territory.assets]
    lamps_of: dict[str, list[Asset]] = {}
    for a in territory.assets:
        if a.kind is AssetKind.LAMP and a.cabinet_id:
            lamps_of.setdefault(a.cabinet_id, []).append(a)
    by_id = {a.id: a for a in territory.assets}
    for a in territory.assets:
        if a.kind is AssetKind.LIGHTING_CABINET:
            out.append(group_entity(territory.id, a, lamps_of.get(a.id, [])))
    for device, (first, last, vehicles) in sorted(latest.traffic.items()):
        if device in by_id:
            out.append(traffic_entity(territory.id, by_id[device], first, last, vehicles))
    observed: dict[str, dict[str, Any]] = {}  # one observation entity per type and device
    for (device, metric), (at_ms, value) in sorted(latest.declared.items()):
        asset = by_id.get(device)
        seen = observed_entity(territory.id, asset, metric, at_ms, value) if asset else None
        if seen is not None:
            kept = observed.setdefault(seen["id"], seen)
            kept |= {k: v for k, v in seen.items() if k not in ("id", "dateObserved")}
    return out + list(observed.values())


def key_values(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The simplified form: each attribute's value (or a relationship's object), the form
    the Smart Data Models' JSON Schemas describe."""
    out: dict[str, Any] = {}
    for name, attr in entity.items():
        if name in ("id", "type", "@context") or not isinstance(attr, dict):
            out[name] = attr
        elif attr.get("type") == "Relationship":
            out[name] = attr["object"]
        else:
            out[name] = attr["value"]
    return out


class EntityError(DataError):
    """An entity that cannot become an asset, with the entity's id."""


def _device(kv: Mapping[str, Any]) -> dict[str, Any]:
    """What a Device entity says of its asset: a sensor of declared metrics, a counter
    channel, or a meter or sensor by what it measures."""
    if "vigie:measures" in kv:
        return {
            "kind": AssetKind.SENSOR,
            "sensor_vertical": kv["vigie:vertical"],
            "measures": kv["vigie:measures"],
        }
    if kv.get("vigie:mode") in KIND_OF_MODE:
        return {
            "kind": KIND_OF_MODE[kv["vigie:mode"]],
            "counter_site": kv.get("vigie:counterSite"),
            "direction": kv.get("vigie:direction"),
            "direction_name": kv.get("vigie:directionName"),
        }
    measured = kv["controlledProperty"][0]
    if measured not in KIND_OF:
        raise EntityError(f"{kv['id']}: a Device measuring {measured!r} is no Vigie asset")
    return {"kind": KIND_OF[measured], "dma": kv.get("vigie:dma")}


# what each entity type says of its asset beyond the common attributes
_ATTRIBUTES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "Streetlight": lambda kv: {
        "kind": AssetKind.LAMP,
        "nominal_power_w": kv["powerRating"],
        "cabinet_id": local_id(kv["refStreetlightControlCabinet"]),
    },
    "StreetlightControlCabinet": lambda kv: {"kind": AssetKind.LIGHTING_CABINET},
    "WasteContainer": lambda kv: {"kind": AssetKind.BIN, "capacity_l": kv["binCapacity"]},
    "Device": _device,
}


def _asset(entity: Mapping[str, Any]) -> Asset | None:
    """The asset an entity describes; None for entities that are not assets (groups,
    observations)."""
    kv = key_values(entity)
    kind_name = kv.get("type")
    if kind_name == "StreetlightGroup" or "refDevice" in kv:  # a group, an observation
        return None
    attributes = _ATTRIBUTES.get(str(kind_name))
    if attributes is None:
        raise EntityError(f"{kv.get('id')}: entity type {kind_name!r} is not imported")
    lon, lat = kv["location"]["coordinates"][:2]
    common: dict[str, Any] = {
        "id": local_id(str(kv["id"])),
        "district": kv["areaServed"],
        "lat": lat,
        "lon": lon,
        "located": kv.get("vigie:located", "surveyed"),
    }
    return Asset(**common, **attributes(kv))


def import_assets(
    territory: Territory, found: Iterable[Mapping[str, Any]]
) -> tuple[Territory, list[str]]:
    """The territory with the entities' assets in place of its own (same ids replaced, new
    ones added), and one line per entity refused (its id and why)."""
    assets = {a.id: a for a in territory.assets}
    refused: list[str] = []
    for entity in found:
        try:
            asset = _asset(entity)
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            refused.append(f"{entity.get('id', '?')}: {exc}")
            continue
        if asset is not None:
            assets[asset.id] = asset
    merged = territory.model_copy(update={"assets": list(assets.values())})
    return Territory.model_validate(merged.model_dump()), refused
