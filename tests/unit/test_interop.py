"""NGSI-LD entities from a territory: valid against the Smart Data Models' published schemas
(kept in reports/interop/schemas/), in the normalized form, and back to the same registry."""

from __future__ import annotations

from collections import Counter

import pytest

from reports.interop.ngsild import Latest, entities, import_assets, key_values
from reports.interop.schemas import problems
from simulators.territory import generate
from vigie.contracts import AssetKind

T = generate(20_000, territory_id="lyon", name="Lyon")
NOW = 1_782_900_000_000


def _of(kind: AssetKind) -> str:
    return next(a.id for a in T.assets if a.kind is kind)


LATEST = Latest(
    at_ms=NOW,
    bin_fill={_of(AssetKind.BIN): 0.62},
    failed_lamps=frozenset({_of(AssetKind.LAMP)}),
    traffic={
        _of(AssetKind.TRAFFIC_COUNTER): (NOW - 3_600_000, NOW - 1, 412.0),
        _of(AssetKind.BICYCLE_COUNTER): (NOW - 3_600_000, NOW - 1, 37.0),
    },
)
FOUND = entities(T, LATEST)


def test_every_entity_is_valid_against_its_smart_data_model():
    wrong = [(e["id"], p) for e in FOUND for p in problems(key_values(e))]
    assert wrong == []
    types = Counter(e["type"] for e in FOUND)
    cabinets = sum(a.kind is AssetKind.LIGHTING_CABINET for a in T.assets)
    assert types["Streetlight"] == sum(a.kind is AssetKind.LAMP for a in T.assets)
    assert types["StreetlightControlCabinet"] == types["StreetlightGroup"] == cabinets
    assert types["TrafficFlowObserved"] == 2 and types["WasteContainer"] > 0
    observed = {
        key_values(e)["refDevice"]: key_values(e)
        for e in FOUND
        if e["type"] == "TrafficFlowObserved"
    }
    bicycles = observed[f"urn:ngsi-ld:Device:lyon:{_of(AssetKind.BICYCLE_COUNTER)}"]
    assert (bicycles["vehicleType"], bicycles["intensity"], bicycles["vigie:direction"]) == (
        "bicycle",
        37.0,
        "N",
    )
    assert types["Device"] == sum(
        a.kind
        in (AssetKind.WATER_METER, AssetKind.PRESSURE_SENSOR, AssetKind.TRAFFIC_COUNTER,
            AssetKind.PARKING_SENSOR, AssetKind.BICYCLE_COUNTER, AssetKind.PEDESTRIAN_COUNTER)
        for a in T.assets
    )  # fmt: skip


def test_entities_are_normalized_with_urns_of_the_territory():
    for e in FOUND:
        assert e["id"].startswith(f"urn:ngsi-ld:{e['type']}:lyon:")
        for name, attr in e.items():
            if name in ("id", "type"):
                continue
            assert attr["type"] in ("Property", "GeoProperty", "Relationship"), (e["id"], name)
            assert ("object" if attr["type"] == "Relationship" else "value") in attr
    by_id = {e["id"]: key_values(e) for e in FOUND}
    lamp = by_id[f"urn:ngsi-ld:Streetlight:lyon:{_of(AssetKind.LAMP)}"]
    assert lamp["status"] == "defectiveLamp"
    assert lamp["refStreetlightControlCabinet"] in by_id
    assert by_id[f"urn:ngsi-ld:WasteContainer:lyon:{_of(AssetKind.BIN)}"]["fillingLevel"] == 0.62
    flow = by_id[f"urn:ngsi-ld:TrafficFlowObserved:lyon:{_of(AssetKind.TRAFFIC_COUNTER)}"]
    assert flow["intensity"] == 412.0 and flow["dateObservedTo"] == "2026-07-01T09:59:59.999000Z"


@pytest.mark.parametrize(
    ("entity_type", "change", "expected"),
    [
        ("WasteContainer", {"fillingLevel": 1.5}, "fillingLevel"),
        ("Streetlight", {"status": "broken"}, "status"),
        ("Streetlight", {"location": None}, "location"),
        ("StreetlightControlCabinet", {"workingMode": None}, "workingMode"),
        ("Device", {"controlledProperty": None}, "controlledProperty"),
    ],
)
def test_the_kept_schemas_refuse_what_the_models_refuse(entity_type, change, expected):
    kv = key_values(next(e for e in FOUND if e["type"] == entity_type))
    for name, value in change.items():
        if value is None:
            kv.pop(name)
        else:
            kv[name] = value
    found = problems(kv)
    assert found and any(expected in p for p in found), found


def test_export_then_import_gives_the_same_registry():
    empty = T.model_copy(update={"assets": []})
    back, refused = import_assets(empty, FOUND)
    assert refused == [] and back == T


def test_an_entity_that_is_no_vigie_asset_is_refused_with_its_id():
    odd = {**next(e for e in FOUND if e["type"] == "Device")}
    odd["id"] = "urn:ngsi-ld:Device:lyon:hygro-1"
    odd["controlledProperty"] = {"type": "Property", "value": ["humidity"]}
    broken = {"id": "urn:ngsi-ld:Streetlight:lyon:lamp-x", "type": "Streetlight"}
    back, refused = import_assets(T, [odd, broken])
    assert back == T
    assert refused[0].startswith("urn:ngsi-ld:Device:lyon:hygro-1:") and "humidity" in refused[0]
    assert refused[1].startswith("urn:ngsi-ld:Streetlight:lyon:lamp-x:")


def test_road_counts_follow_the_national_schema_and_it_refuses_what_it_should(tmp_path):
    from frictionless import validate

    from reports.interop.comptage import tables, write

    counters = [a for a in T.assets if a.kind is AssetKind.TRAFFIC_COUNTER][:3]
    hourly = {c.id: [(NOW, 412.4), (NOW + 3_600_000, 7.0)] for c in counters}
    found = tables(T, hourly, min_count=10)
    assert write(found, tmp_path / "ok") == {"site": 3, "channel": 3, "measure": 6}
    report = validate(tmp_path / "ok" / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type"])
    assert [m["count"] for m in found["measure"][:2]] == [412, None]  # a small count: empty
    assert found["measure"][0]["start_datetime"] == "2026-07-01T10:00:00Z"
    found["site"][0]["ylat"] = 123.0  # outside the schema's bounds
    found["channel"][0]["temporality"] = "SOMETIMES"
    write(found, tmp_path / "bad")
    errors = validate(tmp_path / "bad" / "datapackage.json").flatten(["fieldName", "type"])
    assert ["ylat", "constraint-error"] in errors and ["temporality", "constraint-error"] in errors


def test_bicycle_and_pedestrian_channels_are_channels_of_their_site_with_mode_and_direction(
    tmp_path,
):
    from frictionless import validate

    from reports.interop.comptage import tables, write

    bikes = [a for a in T.assets if a.kind is AssetKind.BICYCLE_COUNTER][:2]
    walk = next(a for a in T.assets if a.kind is AssetKind.PEDESTRIAN_COUNTER)
    assert bikes[0].site == bikes[1].site != bikes[0].id  # two directions of one site
    hourly = {a.id: [(NOW, 120.0), (NOW + 3_600_000, 64.0)] for a in (*bikes, walk)}
    found = tables(T, hourly, min_count=10)
    assert write(found, tmp_path / "ok") == {"site": 2, "channel": 3, "measure": 6}
    report = validate(tmp_path / "ok" / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type"])
    channels = {c["channel_id"]: c for c in found["channel"]}
    assert {
        c: (channels[c]["site_id"], channels[c]["mobility_type"], channels[c]["direction"])
        for c in channels
    } == {
        bikes[0].id: (bikes[0].site, "BIKE", "N"),
        bikes[1].id: (bikes[0].site, "BIKE", "S"),
        walk.id: (walk.site, "PEDESTRIAN", "N"),
    }
    assert {m["channel_id"] for m in found["measure"]} == set(channels)
    assert sorted(m["count"] for m in found["measure"]) == [64] * 3 + [120] * 3
