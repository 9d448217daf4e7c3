"""A territory's assets as NGSI-LD entities following the Smart Data Models, and back. Pure.

Lamps are ``Streetlight``, cabinets ``StreetlightControlCabinet`` (each with the
``StreetlightGroup`` of lamps it feeds), bins ``WasteContainer``; meters and sensors are
``Device`` (what they measure in ``controlledProperty``), and a traffic counter's latest hour
is a ``TrafficFlowObserved``. Entities are in the normalized form (each attribute a Property,
GeoProperty or Relationship); ``key_values`` gives the simplified form that the Smart Data
Models' JSON Schemas describe. Ids are URNs built from the territory and the device:
``urn:ngsi-ld:Streetlight:lyon:lamp-00012``.

What a model has no attribute for and the registry needs (a water meter's metered area, where a
position comes from, the district) rides on terms of Vigie's own, declared in the @context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigie.contracts.registry import Asset, AssetKind, Territory

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
}
# what a Device measures, in the model's own vocabulary, and what it is
DEVICE = {
    AssetKind.WATER_METER: ("waterConsumption", "meter"),
    AssetKind.PRESSURE_SENSOR: ("pressure", "sensor"),
    AssetKind.TRAFFIC_COUNTER: ("trafficFlow", "sensor"),
    AssetKind.PARKING_SENSOR: ("occupancy", "sensor"),
}
KIND_OF = {measured: kind for kind, (measured, _) in DEVICE.items()}


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
    else:
        measured, category = DEVICE[asset.kind]
        entity |= {"controlledProperty": _prop([measured]), "category": _prop([category])}
        if asset.dma:
            entity["vigie:dma"] = _prop(asset.dma)
    return entity


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


def traffic_entity(
    territory: str, counter: Asset, first_ms: int, last_ms: int, vehicles: float
) -> dict[str, Any]:
    """A counter's latest hour: the vehicles it counted."""
    return {
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
    return out


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


class EntityError(ValueError):
    """An entity that cannot become an asset, with the entity's id."""


def _asset(entity: Mapping[str, Any]) -> Asset | None:
    """The asset an entity describes; None for entities that are not assets (groups,
    observations)."""
    kv = key_values(entity)
    kind_name = kv.get("type")
    if kind_name in ("StreetlightGroup", "TrafficFlowObserved"):
        return None
    lon, lat = kv["location"]["coordinates"][:2]
    common: dict[str, Any] = {
        "id": local_id(str(kv["id"])),
        "district": kv["areaServed"],
        "lat": lat,
        "lon": lon,
        "located": kv.get("vigie:located", "surveyed"),
    }
    if kind_name == "Streetlight":
        return Asset(
            kind=AssetKind.LAMP,
            nominal_power_w=kv["powerRating"],
            cabinet_id=local_id(kv["refStreetlightControlCabinet"]),
            **common,
        )
    if kind_name == "StreetlightControlCabinet":
        return Asset(kind=AssetKind.LIGHTING_CABINET, **common)
    if kind_name == "WasteContainer":
        return Asset(kind=AssetKind.BIN, capacity_l=kv["binCapacity"], **common)
    if kind_name == "Device":
        measured = kv["controlledProperty"][0]
        if measured not in KIND_OF:
            raise EntityError(f"{kv['id']}: a Device measuring {measured!r} is no Vigie asset")
        return Asset(kind=KIND_OF[measured], dma=kv.get("vigie:dma"), **common)
    raise EntityError(f"{kv.get('id')}: entity type {kind_name!r} is not imported")


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
