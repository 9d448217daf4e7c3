"""Registries from real inventories: CSV and GeoJSON, per-row report, positions found or
borrowed (and marked), the shipped JSON Schema up to date."""

from __future__ import annotations

import json

from shell.inventory import InventoryMapping, import_inventory, slug
from shell.registry_cli import SCHEMA, schema_text
from vigie.contracts import AssetKind, Territory

BASE = Territory(id="ville", name="Ville", lat=45.0, lon=5.0, districts=[], assets=[])

CABINETS = """armoire;quartier;x;y
A1;Centre Ville;45.10;5.10
A2;Gare;;
"""
LAMPS = """num;armoire;quartier;puissance;lat;lon
L1;A1;Centre Ville;70;45.11;5.11
L2;A1;Centre Ville;70,5;;
L3;A2;Gare;100;;
L4;;Gare;100;45.2;5.2
L5;A2;Le Hameau;abc;;
;A2;Gare;100;;
L1;A1;Centre Ville;70;45.11;5.11
"""


def _import(tmp_path, text: str, mapping: InventoryMapping, base: Territory = BASE):
    path = tmp_path / "inventory.csv"
    path.write_text(text, encoding="utf-8")
    return import_inventory(path, mapping, base)


def test_cabinets_then_lamps_with_every_refused_row_reported(tmp_path):
    cabinets = _import(
        tmp_path,
        CABINETS,
        InventoryMapping(
            AssetKind.LIGHTING_CABINET,
            "armoire",
            "cab-{}",
            "quartier",
            lat="x",
            lon="y",
            delimiter=";",
        ),
    )
    lamps = _import(
        tmp_path,
        LAMPS,
        InventoryMapping(
            AssetKind.LAMP,
            "num",
            "lamp-{}",
            "quartier",
            lat="lat",
            lon="lon",
            cabinet="armoire",
            cabinet_template="cab-{}",
            power_w="puissance",
            delimiter=";",
        ),
        cabinets.territory,
    )
    reasons = {p.line: p.reason for p in lamps.problems}
    assert set(reasons) == {5, 6, 7, 8}
    assert "cabinet_id" in reasons[5], "a lamp with no cabinet"
    assert "not a number" in reasons[6]
    assert "no identifier" in reasons[7]
    assert "already" in reasons[8]
    assets = lamps.territory.by_id()
    assert assets["lamp-l2"].nominal_power_w == 70.5, "French decimal comma"
    assert (assets["lamp-l2"].lat, assets["lamp-l2"].located) == (45.10, "cabinet")
    assert (cabinets.added, cabinets.located) == (2, {"surveyed": 1, "territory": 1})
    assert assets["lamp-l3"].located == "district", "its cabinet's own position is borrowed"
    assert (assets["lamp-l3"].lat, assets["lamp-l3"].lon) == (45.2, 5.2), "L4, in its district"
    assert assets["lamp-l1"].located == "surveyed"
    assert {d.id: d.name for d in lamps.territory.districts} == {
        "centre-ville": "Centre Ville",
        "gare": "Gare",
        "le-hameau": "Le Hameau",
    }


def test_an_openstreetmap_export_of_street_lamps_as_geojson(tmp_path):
    features = [
        {
            "type": "Feature",
            "id": f"node/{n}",
            "properties": {"highway": "street_lamp", "@id": f"node/{n}"},
            "geometry": {"type": "Point", "coordinates": [2.35 + n / 1000, 48.85]},
        }
        for n in range(3)
    ]
    path = tmp_path / "lamps.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    cabinet = Territory.model_validate(
        {
            **BASE.model_dump(),
            "districts": [{"id": "territory", "name": "territory"}],
            "assets": [
                {
                    "id": "cab-1",
                    "kind": "lighting_cabinet",
                    "district": "territory",
                    "lat": 48.85,
                    "lon": 2.35,
                }
            ],
        }
    )
    mapping = InventoryMapping(
        AssetKind.LAMP, "id", "osm-{}", power_w_value=60.0, cabinet="cab", cabinet_template="cab-1"
    )
    got = import_inventory(path, mapping, cabinet)
    assert got.problems and all("cabinet_id" in p.reason for p in got.problems), (
        "OSM has no cabinet: each lamp is refused with why"
    )
    mapping = InventoryMapping.from_file(_mapping_file(tmp_path))
    got = import_inventory(path, mapping, cabinet)
    assert got.added == 3 and not got.problems
    lamp = got.territory.by_id()["osm-node-1"]
    assert (lamp.lon, lamp.lat, lamp.located) == (2.351, 48.85, "surveyed")


def _mapping_file(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(
        json.dumps(
            {
                "kind": "lamp",
                "id": "@id",
                "id_template": "osm-{}",
                "power_w_value": 60.0,
                "cabinet": "highway",
                "cabinet_template": "cab-1",
            }
        )
    )
    return path


def test_slugs_and_the_shipped_schema():
    assert slug("Quartier Saint-Michel (Nord)") == "quartier-saint-michel-nord"
    assert SCHEMA.read_text() == schema_text(), "run: vigie registry schema > " + str(SCHEMA)
    assert "located" in json.loads(schema_text())["$defs"]["Asset"]["properties"]
