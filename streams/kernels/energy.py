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
def _integrate(order, group, ts, value, carry_ts, carry_v, window_ms, max_gap_ms, threshold):  # type: ignore[no-untyped-def]
    n = order.shape[0]
    cts = carry_ts.copy()
    cv = carry_v.copy()
    # pass 1: count segments
    segs = 0
    last_t = cts.copy()
    for k in range(n):
        i = order[k]
        g = group[i]
        t0 = last_t[g]
        t1 = ts[i]
        if t0 >= 0 and 0 < t1 - t0 <= max_gap_ms:
            segs += (_floor(t1 - 1, window_ms) - _floor(t0, window_ms)) // window_ms + 1
        if t1 >= last_t[g]:
            last_t[g] = t1
    g_out = np.empty(segs, np.int64)
    w_out = np.empty(segs, np.int64)
    e_out = np.empty(segs, np.float64)
    on_out = np.empty(segs, np.int64)
    j = 0
    for k in range(n):
        i = order[k]
        g = group[i]
        t0, v0 = cts[g], cv[g]
        t1, v1 = ts[i], value[i]
        if t0 >= 0 and 0 < t1 - t0 <= max_gap_ms and not np.isnan(v0) and not np.isnan(v1):
            a = t0
            while a < t1:
                b = min(_floor(a, window_ms) + window_ms, t1)
                va = v0 + (v1 - v0) * (a - t0) / (t1 - t0)
                vb = v0 + (v1 - v0) * (b - t0) / (t1 - t0)
                g_out[j] = g
                w_out[j] = _floor(a, window_ms)
                e_out[j] = (va + vb) / 2 * (b - a) / 3_600_000.0
                on_out[j] = (b - a) if (va + vb) / 2 > threshold else 0
                j += 1
                a = b
        if t1 >= cts[g] and not np.isnan(v1):
            cts[g] = t1
            cv[g] = v1
    return g_out[:j], w_out[:j], e_out[:j], on_out[:j], cts, cv


@numba.njit(cache=True, nogil=True)
def _deltas(order, group, ts, value, carry_ts, carry_v, window_ms, rollover):  # type: ignore[no-untyped-def]
    n = order.shape[0]
    cts = carry_ts.copy()
    cv = carry_v.copy()
    g_out = np.empty(n, np.int64)
    w_out = np.empty(n, np.int64)
    d_out = np.empty(n, np.float64)
    j = 0
    for k in range(n):
        i = order[k]
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
            g_out[j] = g
            w_out[j] = _floor(t1, window_ms)
            d_out[j] = d
            j += 1
        cts[g] = t1
        cv[g] = v1
    return g_out[:j], w_out[:j], d_out[:j], cts, cv


@numba.njit(cache=True, nogil=True)
def _order(group, ts, n_groups):  # type: ignore[no-untyped-def]
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


def _sum_segments(g: I64, w: I64, e: F64, on: I64) -> tuple[I64, I64, F64, I64]:
    if g.size == 0:
        return g, w, e, on
    # the kernels emit segments in (group, time) order: equal keys are adjacent
    starts = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (w[1:] != w[:-1])])
    return g[starts], w[starts], np.add.reduceat(e, starts), np.add.reduceat(on, starts)


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
    if group.size and (group.min() < 0 or group.max() >= n_groups):
        raise ValueError("group values must lie in [0, n_groups)")
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
    return WindowTotals(*_sum_segments(g, w, e, on), cts, cv)


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
    g, w, d, on = _sum_segments(g, w, d, np.zeros(g.size, np.int64))
    return WindowTotals(g, w, d, on, cts, cv)
