import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.kernels.attribution import attribute, sum_by
from streams.kernels.energy import integrate, meter_deltas
from streams.kernels.reference import integrate_reference, meter_deltas_reference

rows_st = st.lists(
    st.tuples(
        st.integers(0, 3), st.integers(0, 4 * 3_600_000), st.floats(0, 5000) | st.just(float("nan"))
    ),
    max_size=150,
)
windows_st = st.sampled_from([60_000, 900_000, 3_600_000])


def _as_arrays(rows):
    return (
        np.array([r[0] for r in rows], np.int64),
        np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], np.float64),
    )


def _stream_order(rows, in_time_order):
    """As a stream delivers them (each device in time order), or as they come."""
    return sorted(rows, key=lambda r: r[1]) if in_time_order else rows


@settings(max_examples=200, deadline=None)
@given(rows_st, windows_st, st.booleans())
def test_integrate_matches_reference(rows, window_ms, in_time_order):
    g, t, v = _as_arrays(_stream_order(rows, in_time_order))
    got = integrate(g, t, v, window_ms, 4)
    ref = integrate_reference(g.tolist(), t.tolist(), v.tolist(), window_ms)
    got_d = {
        (a, b): (e, on)
        for a, b, e, on in zip(
            got.group.tolist(),
            got.window_start_ms.tolist(),
            got.total.tolist(),
            got.on_ms.tolist(),
            strict=True,
        )
    }
    assert set(got_d) == set(ref)
    for key, (e, on) in ref.items():
        assert got_d[key][0] == pytest.approx(e, rel=1e-9, abs=1e-9)
        assert got_d[key][1] == on


@settings(max_examples=150, deadline=None)
@given(rows_st, windows_st, st.integers(0, 150))
def test_integrate_in_two_calls_with_carry_equals_one_call(rows, window_ms, cut):
    rows = sorted((r for r in rows if not math.isnan(r[2])), key=lambda r: r[1])
    g, t, v = _as_arrays(rows)
    whole = integrate(g, t, v, window_ms, 4)
    first = integrate(g[:cut], t[:cut], v[:cut], window_ms, 4)
    second = integrate(
        g[cut:],
        t[cut:],
        v[cut:],
        window_ms,
        4,
        carry_ts=first.carry_ts,
        carry_value=first.carry_value,
    )
    totals: dict = {}
    for part in (first, second):
        for a, b, e in zip(
            part.group.tolist(), part.window_start_ms.tolist(), part.total.tolist(), strict=True
        ):
            totals[(a, b)] = totals.get((a, b), 0.0) + e
    assert totals == pytest.approx(
        {
            (a, b): e
            for a, b, e in zip(
                whole.group.tolist(),
                whole.window_start_ms.tolist(),
                whole.total.tolist(),
                strict=True,
            )
        }
    )


def test_constant_power_gives_power_times_time_whatever_the_windows():
    t = np.arange(0, 7_200_001, 37_000)
    for window in (60_000, 3_600_000):
        out = integrate(np.zeros(t.size, np.int64), t, np.full(t.size, 120.0), window, 1)
        assert out.total.sum() == pytest.approx(120.0 * t[-1] / 3_600_000)
        assert out.on_ms.sum() == t[-1]


def test_gaps_longer_than_the_limit_are_not_integrated():
    out = integrate(
        np.zeros(3, np.int64),
        np.array([0, 60_000, 10_000_000]),
        np.array([10.0, 10.0, 10.0]),
        60_000,
        1,
        max_gap_ms=120_000,
    )
    assert out.total.sum() == pytest.approx(10 / 60)


@settings(max_examples=200, deadline=None)
@given(rows_st, windows_st, st.sampled_from([0.0, 10_000.0]), st.booleans())
def test_meter_deltas_match_reference(rows, window_ms, rollover, in_time_order):
    g, t, v = _as_arrays(_stream_order(rows, in_time_order))
    got = meter_deltas(g, t, v, window_ms, 4, rollover=rollover)
    ref = meter_deltas_reference(g.tolist(), t.tolist(), v.tolist(), window_ms, rollover)
    got_d = dict(
        zip(
            zip(got.group.tolist(), got.window_start_ms.tolist(), strict=True),
            got.total.tolist(),
            strict=True,
        )
    )
    assert got_d == pytest.approx(ref)


def test_counter_reset_and_rollover():
    ts = np.array([0, 60_000, 120_000, 180_000])
    reset = meter_deltas(
        np.zeros(4, np.int64), ts, np.array([500.0, 520.0, 3.0, 9.0]), 3_600_000, 1
    )
    assert reset.total.sum() == pytest.approx(20 + 3 + 6)
    roll = meter_deltas(
        np.zeros(4, np.int64),
        ts,
        np.array([9990.0, 9995.0, 2.0, 9.0]),
        3_600_000,
        1,
        rollover=10_000.0,
    )
    assert roll.total.sum() == pytest.approx(5 + 7 + 7)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1e4)), max_size=40),
    st.lists(st.floats(0, 1e5), min_size=3, max_size=3),
)
def test_attribution_conserves_metered_energy(assets, metered):
    meter_of = np.array([a[0] for a in assets], np.int64)
    model = np.array([a[1] for a in assets], np.float64)
    out = attribute(meter_of, model, np.array(metered))
    explained = sum_by(meter_of, out.asset_wh, 3)
    assert explained + out.unexplained_wh == pytest.approx(np.array(metered), abs=1e-6)


def test_losses_shared_theft_reported():
    meter_of = np.array([0, 0, 1, 1])
    model = np.array([100.0, 300.0, 100.0, 100.0])
    out = attribute(meter_of, model, np.array([412.0, 400.0]))
    assert out.asset_wh[:2] == pytest.approx([103.0, 309.0])  # 3 % losses shared
    assert out.unexplained_wh[0] == pytest.approx(0.0)
    assert out.asset_wh[2:] == pytest.approx([103.0, 103.0])  # ratio 2: nominal losses only
    assert out.unexplained_wh[1] == pytest.approx(194.0)
    assert out.ratio == pytest.approx([1.03, 2.0])


def test_a_group_outside_the_declared_range_is_refused():
    with pytest.raises(ValueError, match="n_groups"):
        integrate(np.array([0, 5]), np.array([0, 60_000]), np.array([1.0, 1.0]), 60_000, 4)
    with pytest.raises(ValueError, match="n_groups"):
        meter_deltas(np.array([-1]), np.array([0]), np.array([1.0]), 60_000, 4)
