import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.kernels.reference import hopping_reference, tumbling_reference
from streams.kernels.windows import hopping, tumbling


def _check(group, ts, values, window_ms, hop_ms=None):
    arrays = np.array(group, np.int64), np.array(ts, np.int64), np.array(values, np.float64)
    if hop_ms is None:
        got = tumbling(*arrays, window_ms)
        ref = tumbling_reference(group, ts, values, window_ms)
    else:
        got = hopping(*arrays, window_ms, hop_ms)
        ref = hopping_reference(group, ts, values, window_ms, hop_ms)
    assert len(got.group) == len(ref)
    keys = list(zip(got.group.tolist(), got.window_start_ms.tolist(), strict=True))
    assert len(set(keys)) == len(keys), "one row per (group, window)"
    for k, key in enumerate(keys):
        count, total, lo, hi, last_ts, last = ref[key]
        assert got.count[k] == count
        assert math.isclose(got.sum[k], total, rel_tol=1e-9, abs_tol=1e-6)
        for a, b in ((got.min[k], lo), (got.max[k], hi), (got.last[k], last)):
            assert (math.isnan(a) and math.isnan(b)) or a == b
        if count:
            assert got.last_ts_ms[k] == last_ts


values_st = st.floats(-1e6, 1e6, allow_nan=False) | st.just(float("nan"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(-(10**7), 10**7), values_st), max_size=200),
    st.sampled_from([1, 1000, 60_000, 3_600_000]),
)
def test_tumbling_matches_reference(rows, window_ms):
    group = [r[0] for r in rows]
    ts = [r[1] for r in rows]
    values = [r[2] for r in rows]
    _check(group, ts, values, window_ms)


def test_empty_single_and_duplicated_timestamps():
    _check([], [], [], 60_000)
    _check([1], [5], [2.5], 60_000)
    _check([0, 0, 0], [10, 10, 10], [1.0, 2.0, 3.0], 60_000)  # ties: last input wins


def test_mean_of_all_nan_group_is_nan():
    out = tumbling(np.array([0, 0]), np.array([0, 1]), np.array([np.nan, np.nan]), 60_000)
    assert out.count[0] == 0 and math.isnan(out.mean[0])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([-(10**12), -3, 7, 10**15]), st.integers(-(10**13), 10**13), values_st
        ),
        max_size=60,
    )
)
def test_sparse_keys_take_the_numbering_path_and_match_the_reference(rows):
    _check([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], 60_000)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(-(10**7), 10**7), values_st), max_size=150),
    st.sampled_from([(60_000, 60_000), (300_000, 60_000), (3_600_000, 900_000), (4, 1)]),
)
def test_hopping_matches_reference(rows, window_and_hop):
    window_ms, hop_ms = window_and_hop
    _check([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], window_ms, hop_ms)


def test_hopping_counts_each_reading_in_every_window_it_falls_in():
    # one reading at 12:07 in 15-minute windows every 5 minutes: 11:55, 12:00, 12:05
    t = 12 * 3_600_000 + 7 * 60_000
    got = hopping(np.array([0]), np.array([t]), np.array([2.0]), 900_000, 300_000)
    starts = sorted((got.window_start_ms - 12 * 3_600_000) // 60_000)
    assert starts == [-5, 0, 5] and got.count.tolist() == [1, 1, 1]
    _check([], [], [], 900_000, 300_000)
