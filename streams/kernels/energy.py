"""Energy and volume from sensor readings, per (group, tumbling window). Pure numba kernels.

- ``integrate``: trapezoidal integral of a power (or flow) signal over irregular timestamps,
  each interval split exactly at window boundaries; also the time the signal was above a
  threshold (burning hours). Intervals longer than ``max_gap_ms`` are not integrated.
- ``meter_deltas``: consumption from a cumulative index, each delta assigned to the window of
  the later reading; a drop in the index is a rollover when the previous value was in the
  upper half of ``rollover`` (delta = rollover - prev + cur), otherwise a counter reset
  (delta = cur).

Both continue across calls: ``carry_ts``/``carry_value`` hold each group's last point before
this call (``carry_ts < 0`` for none) and the new carry is returned.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class WindowTotals(NamedTuple):
    group: I64
    window_start_ms: I64
    total: F64  # Wh for power in W, m3 for flow in m3/h, index units for deltas
    on_ms: I64  # integrate only: time above the threshold
    carry_ts: I64  # per group, the last point seen (for the next call)
    carry_value: F64


@numba.njit(cache=True, nogil=True)
def _floor(t: int, w: int) -> int:
    return t - t % w


@numba.njit(cache=True, nogil=True)
def _in_time_order(group, ts, n_groups):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """Whether each group's readings come in time order (as a stream delivers them); raises
    on a group outside [0, n_groups). One pass."""
    last = np.full(n_groups, np.iinfo(np.int64).min, np.int64)
    ordered = True
    for i in range(group.shape[0]):
        g = group[i]
        if g < 0 or g >= n_groups:
            raise ValueError("group values must lie in [0, n_groups)")
        if ts[i] < last[g]:
            ordered = False
        last[g] = max(last[g], ts[i])
    return ordered


@numba.njit(cache=True, nogil=True)
def _count_windows(order, group, ts, carry_ts, window_ms, max_gap_ms):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """An upper bound on the (group, window) rows ``_integrate`` makes: the windows the
    intervals between consecutive readings touch (the same walk, values not read)."""
    n = group.shape[0]
    by_order = order.shape[0] == n
    last_t = carry_ts.copy()
    wend = np.full(last_t.shape[0], np.iinfo(np.int64).min, np.int64)
    rows = 0
    for k in range(n):
        i = order[k] if by_order else k
        g = group[i]
        t0, t1 = last_t[g], ts[i]
        if t0 >= 0 and 0 < t1 - t0 <= max_gap_ms and t1 > wend[g]:
            first = wend[g] if t0 <= wend[g] else _floor(t0, window_ms)
            final = first if t1 <= first + window_ms else _floor(t1 - 1, window_ms)
            rows += (final - first) // window_ms + 1
            wend[g] = final + window_ms
        last_t[g] = max(t1, last_t[g])
    return rows


@numba.njit(cache=True, nogil=True)
def _integrate(order, group, ts, value, carry_ts, carry_v, window_ms, max_gap_ms, threshold):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    n = group.shape[0]
    by_order = order.shape[0] == n  # else input order, each group's readings in time order
    cts = carry_ts.copy()
    cv = carry_v.copy()
    rows = _count_windows(order, group, ts, carry_ts, window_ms, max_gap_ms)
    # each group's window ends at wend[g] and is row row_of[g]; the kernels walk each group
    # in time order, so a time past wend[g] opens the next row, and most readings divide
    # nothing
    g_out = np.empty(rows, np.int64)
    w_out = np.empty(rows, np.int64)
    e_out = np.zeros(rows, np.float64)
    on_out = np.zeros(rows, np.int64)
    wend = np.full(cts.shape[0], np.iinfo(np.int64).min, np.int64)
    row_of = np.empty(cts.shape[0], np.int64)
    per_ms_to_h = 1.0 / 3_600_000.0
    m = 0
    for k in range(n):
        i = order[k] if by_order else k
        g = group[i]
        t0, v0 = cts[g], cv[g]
        t1, v1 = ts[i], value[i]
        if t0 >= 0 and 0 < t1 - t0 <= max_gap_ms and not np.isnan(v0) and not np.isnan(v1):
            a, va = t0, v0
            while a < t1:
                if a >= wend[g]:  # a new window (rows of a group come in time order)
                    start = a if a == wend[g] else _floor(a, window_ms)
                    wend[g], row_of[g] = start + window_ms, m
                    g_out[m], w_out[m] = g, start
                    m += 1
                r = row_of[g]
                b = min(wend[g], t1)
                vb = v1 if b == t1 else v0 + (v1 - v0) * (b - t0) / (t1 - t0)
                mean = (va + vb) * 0.5
                e_out[r] += mean * (b - a) * per_ms_to_h
                if mean > threshold:
                    on_out[r] += b - a
                a, va = b, vb
        if t1 >= cts[g] and not np.isnan(v1):
            cts[g] = t1
            cv[g] = v1
    return g_out[:m], w_out[:m], e_out[:m], on_out[:m], cts, cv


@numba.njit(cache=True, nogil=True)
def _deltas(order, group, ts, value, carry_ts, carry_v, window_ms, rollover):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    n = group.shape[0]
    by_order = order.shape[0] == n  # else input order, each group's readings in time order
    cts = carry_ts.copy()
    cv = carry_v.copy()
    g_out = np.empty(n, np.int64)
    w_out = np.empty(n, np.int64)
    d_out = np.empty(n, np.float64)  # each row zeroed when it opens
    wend = np.full(cts.shape[0], np.iinfo(np.int64).min, np.int64)
    row_of = np.empty(cts.shape[0], np.int64)
    m = 0
    for k in range(n):
        i = order[k] if by_order else k
        g = group[i]
        t1, v1 = ts[i], value[i]
        if np.isnan(v1) or t1 < cts[g]:
            continue
        if cts[g] >= 0 and t1 > cts[g]:
            prev = cv[g]
            if v1 >= prev:
                d = v1 - prev
            elif rollover > 0 and prev >= rollover / 2:
                d = rollover - prev + v1
            else:
                d = v1
            if t1 >= wend[g]:  # a new window (rows of a group come in time order)
                start = _floor(t1, window_ms)
                wend[g], row_of[g] = start + window_ms, m
                g_out[m], w_out[m], d_out[m] = g, start, 0.0
                m += 1
            d_out[row_of[g]] += d
        cts[g] = t1
        cv[g] = v1
    return g_out[:m], w_out[:m], d_out[:m], cts, cv


@numba.njit(cache=True, nogil=True)
def _order(group, ts, n_groups):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """Indices sorted by group then time: a counting sort by group (stable, O(n)), then a
    sort of any group whose readings are not already in time order (rare in a stream)."""
    counts = np.zeros(n_groups + 1, np.int64)
    for i in range(group.shape[0]):
        counts[group[i] + 1] += 1
    for g in range(n_groups):
        counts[g + 1] += counts[g]
    pos = counts[:-1].copy()
    order = np.empty(group.shape[0], np.int64)
    for i in range(group.shape[0]):
        order[pos[group[i]]] = i
        pos[group[i]] += 1
    for g in range(n_groups):
        a, b = counts[g], counts[g + 1]
        for k in range(a + 1, b):
            if ts[order[k]] < ts[order[k - 1]]:
                seg = order[a:b]
                order[a:b] = seg[np.argsort(ts[seg], kind="mergesort")]
                break
    return order


def _prepare(
    group: I64, ts: I64, value: F64, carry_ts: I64 | None, carry_value: F64 | None, n_groups: int
) -> tuple[I64, I64, F64, I64, F64, I64]:
    group = np.ascontiguousarray(group, np.int64)
    ts = np.ascontiguousarray(ts, np.int64)
    value = np.ascontiguousarray(value, np.float64)
    if not group.shape == ts.shape == value.shape:
        raise ValueError("group, ts_ms and values must have the same length")
    cts = np.full(n_groups, -1, np.int64) if carry_ts is None else np.asarray(carry_ts, np.int64)
    cv = np.full(n_groups, np.nan) if carry_value is None else np.asarray(carry_value, np.float64)
    if _in_time_order(group, ts, n_groups):
        order = np.empty(0, np.int64)  # the kernels read the input as it comes
    else:  # late or unordered readings: by group, then time
        order = _order(group, ts, n_groups)
    return order, group, value, cts, cv, ts


def integrate(
    group: I64,
    ts_ms: I64,
    value: F64,
    window_ms: int,
    n_groups: int,
    *,
    carry_ts: I64 | None = None,
    carry_value: F64 | None = None,
    max_gap_ms: int = 3_600_000,
    on_threshold: float = 0.5,
) -> WindowTotals:
    """Trapezoidal integral per (group, window), in value-hours (W -> Wh, m3/h -> m3)."""
    order, group, value, cts, cv, ts = _prepare(
        group, ts_ms, value, carry_ts, carry_value, n_groups
    )
    g, w, e, on, cts, cv = _integrate(
        order, group, ts, value, cts, cv, window_ms, max_gap_ms, on_threshold
    )
    return WindowTotals(g, w, e, on, cts, cv)


def meter_deltas(
    group: I64,
    ts_ms: I64,
    index: F64,
    window_ms: int,
    n_groups: int,
    *,
    carry_ts: I64 | None = None,
    carry_value: F64 | None = None,
    rollover: float = 0.0,
) -> WindowTotals:
    """Consumption per (group, window) from cumulative meter indexes."""
    order, group, index, cts, cv, ts = _prepare(
        group, ts_ms, index, carry_ts, carry_value, n_groups
    )
    g, w, d, cts, cv = _deltas(order, group, ts, index, cts, cv, window_ms, rollover)
    return WindowTotals(g, w, d, np.zeros(g.size, np.int64), cts, cv)
