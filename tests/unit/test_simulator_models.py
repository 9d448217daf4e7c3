"""Physical models and scenario faults: shapes a tester can rely on."""

import datetime as dt
import itertools

import pytest

from simulators.models import TerritoryModel
from simulators.scenario import Leak, Scenario, Window
from simulators.simulation import Simulation, SimulationPlan
from simulators.territory import generate
from vigie.contracts import AssetKind

UTC = dt.UTC
T = generate(3000, seed=4)


def _ms(*args):
    return int(dt.datetime(*args, tzinfo=UTC).timestamp() * 1000)


def _of(kind):
    return [a for a in T.assets if a.kind is kind]


def test_asset_counts_follow_population_and_seed():
    sizes = {p: len(generate(p, seed=9).assets) for p in (1_000, 20_000, 250_000)}
    assert sizes[1_000] < sizes[20_000] < sizes[250_000]
    assert 150 < sizes[1_000] < 260 and 35_000 < sizes[250_000] < 60_000
    assert generate(250_000, seed=9) == generate(250_000, seed=9)
    assert generate(1_000, seed=9) != generate(1_000, seed=10)


def test_leak_raises_only_its_areas_night_minimum():
    dmas = sorted({a.dma for a in T.assets if a.dma})
    leak = Leak(dma=dmas[0], start_ms=_ms(2026, 3, 1), flow_m3h=3.0)
    clean, leaky = TerritoryModel(T), TerritoryModel(T, scenario=Scenario(leaks=[leak]))
    night = [_ms(2026, 3, 3, 1) + k * 600_000 for k in range(18)]  # 02:00-05:00 local
    for dma in dmas:
        before = min(clean.dma_flow_m3h(dma, t) for t in night)
        after = min(leaky.dma_flow_m3h(dma, t) for t in night)
        assert after - before == (3.0 if dma == dmas[0] else 0.0)


def test_bins_fill_then_empty_on_collection_days():
    model = TerritoryModel(T)
    bin_ = _of(AssetKind.BIN)[0]
    start = _ms(2026, 3, 2)  # a Monday
    levels = []
    for k in range(7 * 24):
        ts = start + k * 3_600_000
        levels.append((ts, model.sample(bin_, ts, 3600)[0][1]))
    emptied = [ts for (ts, lv), (_, prev) in zip(levels[1:], levels, strict=False) if lv < prev]
    days = {dt.datetime.fromtimestamp(ts / 1000, UTC).weekday() for ts in emptied}
    assert days <= set(model.params.collection_weekdays) and days
    assert any(b > a for (_, a), (_, b) in itertools.pairwise(levels))


@pytest.mark.parametrize("day", [(2026, 3, 4), (2026, 7, 8)], ids=["winter", "summer"])
def test_weekday_traffic_has_a_morning_and_an_evening_peak_in_local_time(day):
    model = TerritoryModel(T)
    day = _ms(*day)  # a Wednesday, in winter (UTC+1) and summer time (UTC+2)
    flows = [model.road_flow_vehh(day + m * 60_000) for m in range(24 * 60)]
    peaks = [
        m
        for m in range(1, len(flows) - 1)
        if flows[m] > flows[m - 1] and flows[m] >= flows[m + 1] and flows[m] > 400
    ]
    hours = [model.clock.hour_at(day + m * 60_000) for m in peaks]
    assert len(hours) == 2
    assert 7 <= hours[0] <= 9 and 17 <= hours[1] <= 19, hours


def test_ground_truth_energy_adds_up():
    start = _ms(2026, 1, 10, 16)
    scen = Scenario.random(T, start, start + 6 * 3_600_000, 5, lamp_failures=3, tappings=1)
    sim = Simulation(T, SimulationPlan(start, 6 * 3600), scenario=scen)
    list(sim)
    truth = sim.truth
    lamps = sum(truth.lamp_wh.values())
    assert lamps > 0
    assert sum(truth.district_lighting_wh.values()) == pytest.approx(lamps * 1.03)
    cabinets = sum(truth.cabinet_wh.values())
    unexplained = sum(truth.cabinet_unexplained_wh.values())
    assert unexplained > 0
    assert cabinets == pytest.approx(lamps * 1.03 + unexplained, rel=1e-3)
    power = {a.id: a.nominal_power_w for a in T.assets}
    for failure in scen.lamp_failures:
        same = [w for lamp, w in truth.lamp_wh.items() if power[lamp] == power[failure.lamp_id]]
        assert truth.lamp_wh[failure.lamp_id] < max(same)


def test_device_faults_shape_the_stream():
    small = generate(200, seed=2)
    start = _ms(2026, 1, 10, 12)
    lamp = next(a.id for a in small.assets if a.kind is AssetKind.LAMP)
    cab = next(a.id for a in small.assets if a.kind is AssetKind.LIGHTING_CABINET)
    scen = Scenario(
        silences=[Window(device_id=lamp, start_ms=start, end_ms=start + 1_800_000)],
        stuck=[Window(device_id=cab, start_ms=start, end_ms=start + 3_600_000)],
        clock_skew_ms={cab: 30_000},
        dropout_rate=0.1,
        duplicate_rate=0.2,
    )
    sim = Simulation(small, SimulationPlan(start, 7200), scenario=scen)
    out = list(sim)
    lamp_ts = [r["ts_ms"] for e in out if e.batch.device_id == lamp for r in e.batch.readings]
    assert lamp_ts and min(lamp_ts) >= start + 1_800_000
    dups = [e for e in out if e.duplicate]
    assert dups and sim.truth.duplicate_batches == len(dups)
    assert (
        0.05
        < sim.truth.readings_dropped / (sim.truth.readings_sent + sim.truth.readings_dropped)
        < 0.15
    )
    cab_idx = [
        (r["ts_ms"], r["value"])
        for e in out
        if e.batch.device_id == cab and not e.duplicate
        for r in e.batch.readings
        if r["metric"] == "energy_index_wh"
    ]
    stuck = [v for t, v in cab_idx if t - 30_000 < start + 3_600_000]
    assert len(set(stuck)) == 1
    assert all((t - 30_000 - start) % 60_000 == 0 for t, _ in cab_idx)
