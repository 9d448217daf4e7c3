import datetime as dt

from simulators.models import TerritoryModel
from simulators.simulation import SimulationPlan, run
from simulators.territory import generate
from vigie.contracts import AssetKind
from vigie.sun import is_dark, sun_times_ms

UTC = dt.UTC


def _ms(*args):
    return int(dt.datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_same_seed_same_territory_and_plausible_counts():
    a, b = generate(20_000, seed=5), generate(20_000, seed=5)
    assert a == b
    lamps = sum(1 for x in a.assets if x.kind is AssetKind.LAMP)
    assert 2_500 < lamps < 3_800  # ~0.157 light points per inhabitant


def test_paris_summer_solstice_sun_times():
    rise, set_ = sun_times_ms(48.8566, 2.3522, _ms(2026, 6, 21))
    assert abs(rise - _ms(2026, 6, 21, 3, 47)) < 5 * 60_000
    assert abs(set_ - _ms(2026, 6, 21, 19, 58)) < 5 * 60_000


def test_lamps_burn_only_in_the_dark():
    t = generate(300, seed=1)
    model = TerritoryModel(t)
    lamp = next(a for a in t.assets if a.kind is AssetKind.LAMP)
    for hour in range(24):
        ts = _ms(2026, 3, 10, hour, 30)
        on = model.lamp_power_w(lamp, ts) > 0
        assert on == is_dark(t.lat, t.lon, ts)


def test_simulation_is_deterministic_and_sequences_increase():
    t = generate(200, seed=2)
    plan = SimulationPlan(start_ms=_ms(2026, 1, 5), duration_s=3600)
    first = [e.batch for e in run(t, plan)]
    assert first == [e.batch for e in run(t, plan)]
    by_device: dict[str, list[int]] = {}
    for b in first:
        by_device.setdefault(b.device_id, []).append(b.seq)
    assert all(s == list(range(len(s))) for s in by_device.values())
