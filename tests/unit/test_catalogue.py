"""A territory's metric catalogue: read, checked, declared, then validated, windowed and drawn
like a built-in metric; a metric in neither catalogue stays a dead letter with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboards.catalog import declared_metrics, every
from ingest.validation import Accepted, Rejected, ValidationPolicy, validate
from simulators.territory import generate
from streams.windowing import DeviceState, WindowPolicy, step
from vigie.catalogue import CatalogueError, catalogue_path, declared, read_catalogue
from vigie.contracts import METRICS, RejectReason, TelemetryBatch
from vigie.contracts.metrics import BUILTIN, MetricKind
from vigie.registries import Registries

NOW = 1_790_000_000_000
FILE = """\
version = 3

[[metric]]
name = "noise_dba"
unit = "dB[A]"
vertical = "mobility"
kind = "gauge"
minimum = 20
maximum = 140
description = "Equivalent sound level"
fiware = "NoiseLevelObserved.LAeq"

[[metric]]
name = "scooters_count"
unit = "{scooter}"
vertical = "mobility"
kind = "count"
minimum = 0
maximum = 10000
description = "E-scooters counted in the period"
"""


def _site(tmp_path: Path, catalogue: str = FILE) -> Path:
    territory = generate(600, territory_id="cat")
    registry = tmp_path / "registry" / "cat.json"
    territory.save(registry)
    catalogue_path(registry).write_text(catalogue)
    return registry


def _body(device: str, metric: str, value: float, seq: int = 1) -> bytes:
    return json.dumps(
        {"v": 1, "device_id": device, "seq": seq, "sent_at_ms": NOW,
         "readings": [{"ts_ms": NOW - 1_000, "metric": metric, "value": value}]}
    ).encode()  # fmt: skip


def test_a_declared_metric_is_validated_with_its_bounds_and_an_undeclared_one_is_a_dead_letter(
    tmp_path,
):
    registries = Registries.load(_site(tmp_path).parent)
    assert {"noise_dba", "scooters_count"} <= set(METRICS)
    assert {s.name for s in declared()} >= {"noise_dba", "scooters_count"}
    assets = registries.territories["cat"].assets
    counter = next(a.id for a in assets if a.kind == "traffic_counter")
    topic = f"vigie/cat/mobility/{counter}/telemetry"
    policy = ValidationPolicy()
    ok = validate(topic, _body(counter, "noise_dba", 61.5), NOW, policy, registries)
    assert isinstance(ok, Accepted) and ok.batch.readings[0]["metric"] == "noise_dba"
    loud = validate(topic, _body(counter, "noise_dba", 190.0), NOW, policy, registries)
    assert isinstance(loud, Rejected) and loud.reason is RejectReason.OUT_OF_BOUNDS
    assert "dB[A] outside [20.0, 140.0] for noise_dba" in loud.detail
    odd = validate(topic, _body(counter, "humidity_pct", 50.0), NOW, policy, registries)
    assert isinstance(odd, Rejected) and odd.reason is RejectReason.UNKNOWN_METRIC
    assert "humidity_pct" in odd.detail and "metrics.toml" in odd.detail
    lamp = next(a.id for a in assets if a.kind == "lamp")
    lit = f"vigie/cat/lighting/{lamp}/telemetry"
    wrong = validate(lit, _body(lamp, "noise_dba", 61.5), NOW, policy, registries)
    assert isinstance(wrong, Rejected) and wrong.reason is RejectReason.WRONG_VERTICAL


def test_a_declared_count_is_windowed_like_a_built_in_one(tmp_path):
    Registries.load(_site(tmp_path).parent)
    states: dict[str, DeviceState] = {}
    readings = [{"ts_ms": t, "metric": "scooters_count", "value": 3.0} for t in (0, 20_000)]
    batch = TelemetryBatch(device_id="c", seq=0, sent_at_ms=0, readings=readings)
    rows = step(states, [batch], WindowPolicy(window_ms=60_000)).rows
    assert [(r.metric, r.count, r.sum) for r in rows] == [("scooters_count", 2, 6.0)]


def test_each_declared_metric_has_its_panel_combined_as_its_kind_says(tmp_path):
    Registries.load(_site(tmp_path).parent)
    ours = ("noise_dba", "scooters_count")
    board = declared_metrics(tuple(s for s in declared() if s.name in ours))
    queries = {p.title.rsplit(", ", 1)[1]: p.query for p in board.panels}
    assert 'SELECT mean("mean")' in queries["noise_dba"]
    assert 'SELECT sum("sum")' in queries["scooters_count"]
    assert "time(1h)" in queries["scooters_count"]
    assert every(declared())[-1].uid == "vigie-territory-metrics"
    assert board.uid not in {d.uid for d in every(())}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda s: s.replace('"gauge"', '"rate"'), "metric table 1 (noise_dba), kind"),
        (lambda s: s.replace("maximum = 140", "maximum = 10"), "is not below maximum"),
        (lambda s: s.replace('name = "noise_dba"', 'name = "power_w"'), "power_w: a built-in"),
        (lambda s: s.replace('"scooters_count"', '"noise_dba"'), "noise_dba declared twice"),
        (lambda s: s.replace('name = "noise_dba"', 'name = "Noise"'), "name"),
        (lambda s: s.replace('unit = "dB[A]"', 'unit = "dB A"'), "unit"),
        (lambda s: s.replace("version = 3", "version = 3\ncolour = 1"), "colour"),
        (lambda s: s.replace("version = 3", "version = "), "line 1"),
    ],
)
def test_a_wrong_catalogue_is_refused_naming_the_file_the_entry_and_the_fix(tmp_path, change, said):
    registry = _site(tmp_path, change(FILE))
    with pytest.raises(CatalogueError) as refused:
        Registries.load(registry)
    assert str(catalogue_path(registry)) in str(refused.value) and said in str(refused.value)


def test_the_catalogue_only_grows_and_a_second_meaning_for_a_name_is_refused(tmp_path):
    registry = _site(tmp_path)
    Registries.load(registry)
    Registries.load(registry)  # the same definitions again: nothing changes
    assert read_catalogue(catalogue_path(registry)).version == 3
    other = tmp_path / "other"
    other.mkdir()
    moved = _site(other, FILE.replace("maximum = 140", "maximum = 150"))
    with pytest.raises(CatalogueError, match="noise_dba: declared otherwise"):
        Registries.load(moved)
    assert METRICS["noise_dba"].maximum == 140.0 and "power_w" in BUILTIN


def test_active_mobility_counts_are_built_in_counts_per_period():
    for name in ("bicycles_count", "pedestrians_count"):
        spec = METRICS[name]
        assert (spec.kind, spec.combine, spec.vertical) == (MetricKind.COUNT, "sum", "mobility")


def test_a_sensor_of_declared_metrics_goes_to_ngsi_ld_and_back(tmp_path):
    from reports.interop.ngsild import Latest, entities, import_assets, key_values
    from reports.interop.schemas import problems
    from vigie.contracts import Asset, AssetKind

    Registries.load(_site(tmp_path).parent)
    base = generate(600, territory_id="cat")
    sensor = Asset(
        id="noise-1", kind=AssetKind.SENSOR, district=base.districts[0].id, lat=45.2, lon=5.7,
        sensor_vertical="mobility", measures=["noise_dba", "scooters_count"],
    )  # fmt: skip
    territory = base.model_copy(update={"assets": [*base.assets, sensor]})
    latest = Latest(at_ms=NOW, declared={("noise-1", "noise_dba"): (NOW - 60_000, 58.5)})
    found = entities(territory, latest)
    device = key_values(next(e for e in found if e["id"].endswith(":noise-1")))
    assert device["vigie:measures"] == ["noise_dba", "scooters_count"]
    assert device["controlledProperty"] == ["noiseLevel"]  # LAeq is none of the model's
    assert problems(device) == []
    (observed,) = [e for e in found if e["type"] == "NoiseLevelObserved"]
    assert observed["LAeq"]["value"] == 58.5 and observed["LAeq"]["vigie:unit"]["value"] == "dB[A]"
    back, refused = import_assets(base, found)
    assert refused == [] and back.by_id()["noise-1"] == sensor


def test_a_sensor_needs_its_vertical_and_only_a_sensor_measures():
    from vigie.contracts import Asset

    with pytest.raises(ValueError, match="sensor_vertical is required of a sensor"):
        Asset(id="s", kind="sensor", district="d", lat=0, lon=0)
    with pytest.raises(ValueError, match="measures belongs to a sensor"):
        Asset(id="s", kind="parking_sensor", district="d", lat=0, lon=0, measures=["noise_dba"])
