"""The series budget: what a registry makes in InfluxDB, counted by hand, and the command
line refusing a registry over the budget without saving it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shell.cardinality import PLATFORM_SERIES, series_of, series_per_device
from shell.cli import app
from simulators.territory import generate
from vigie.contracts import AssetKind

COUNTERS_CSV = "num,quartier,lat,lon\n1,nord,45.1,5.1\n2,nord,45.2,5.2\n3,sud,45.3,5.3\n"


def test_series_per_device_counted_by_hand():
    # a lamp: power and dimming, raw, per minute, hour and day; its link (rssi, snr) the
    # same; its fleet rows and their daily roll-up
    assert series_per_device(AssetKind.LAMP) == 2 * 4 + 2 * 4 + 2
    # a road counter: 3 metrics raw, per minute, hour, day and per hopping hour; battery and
    # link (4) raw, per minute, hour and day; its fleet rows (2) and its road state
    assert series_per_device(AssetKind.TRAFFIC_COUNTER) == 3 * 5 + 5 * 4 + 2 + 1
    # a cabinet's edge board: 3 metrics and 12 health metrics, 4 ways each; fleet (2); balance
    assert series_per_device(AssetKind.LIGHTING_CABINET) == 15 * 4 + 2 + 1


def test_a_territory_sums_its_devices_and_its_attribution_pairs():
    territory = generate(1000, seed=3, territory_id="t")
    estimate = series_of(territory)
    by_kind: dict[AssetKind, int] = {}
    for a in territory.assets:
        by_kind[a.kind] = by_kind.get(a.kind, 0) + series_per_device(a.kind)
    pairs = {(a.cabinet_id, a.district) for a in territory.assets if a.kind == AssetKind.LAMP}
    assert estimate.per_kind == by_kind
    assert estimate.attribution == len(pairs) > 0
    assert estimate.total == sum(by_kind.values()) + len(pairs) + PLATFORM_SERIES


def _import(tmp_path, env):
    (tmp_path / "counters.csv").write_text(COUNTERS_CSV)
    into = tmp_path / "registry.json"
    args = [
        "registry", "import", str(tmp_path / "counters.csv"), "--into", str(into), "--kind",
        "traffic_counter", "--id", "num", "--id-template", "ctr-{}", "--district", "quartier",
        "--lat", "lat", "--lon", "lon", "--territory", "t", "--name", "T", "--centre", "45,5",
    ]  # fmt: skip
    return CliRunner().invoke(app, args, env=env), into


def test_a_registry_over_the_budget_is_refused_and_not_saved(tmp_path):
    result, into = _import(tmp_path, {"VIGIE_INFLUX__MAX_SERIES": "100"})
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert "InfluxDB series at most: 314" in text  # 3 counters x 38 + 200, the platform
    assert "over the budget" in text and "VIGIE_INFLUX__MAX_SERIES" in text
    assert not into.exists()


def test_a_registry_within_the_budget_is_saved_with_its_count(tmp_path):
    result, into = _import(tmp_path, {"VIGIE_INFLUX__MAX_SERIES": "1000"})
    text = " ".join(result.output.split())
    assert result.exit_code == 0, text
    assert "InfluxDB series at most: 314 (31.4% of the budget of 1,000" in text
    assert len(json.loads(into.read_text())["assets"]) == 3
