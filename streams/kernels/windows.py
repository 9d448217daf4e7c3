"""Tumbling-window aggregates per group (count, sum, min, max, mean, last), compiled by numba.

Pure functions of arrays. Inputs need not be sorted; NaN values are gaps and are not counted
(a group whose values are all NaN still appears, with count 0 and NaN statistics).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class WindowAggregates(NamedTuple):
    """One row per (group, window) present in the input, sorted by group then window."""

    group: I64
    window_start_ms: I64
    count: I64  # type: ignore[assignment]  # shadows tuple.count on purpose
    sum: F64
    min: F64
    max: F64
    last_ts_ms: I64
    last: F64

    @property
    def mean(self) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.sum / np.maximum(self.count, 1), np.nan)


@numba.njit(cache=True, nogil=True)
def _window_codes(group: I64, ts_ms: I64, window_ms: int) -> tuple[I64, I64, int]:
    n = ts_ms.shape[0]
    starts = np.empty(n, dtype=np.int64)
    wmin = np.iinfo(np.int64).max
    wmax = np.iinfo(np.int64).min
    for i in range(n):
        s = ts_ms[i] - ts_ms[i] % window_ms  # floor, also for negative times
        starts[i] = s
        wmin = min(wmin, s)
        wmax = max(wmax, s)
    span = (wmax - wmin) // window_ms + 1 if n else 1
    codes = np.empty(n, dtype=np.int64)
    for i in range(n):
        codes[i] = group[i] * span + (starts[i] - wmin) // window_ms
    return codes, starts, span


@numba.njit(cache=True, nogil=True)
def _scan(order: I64, group: I64, starts: I64, ts_ms: I64, values: F64, codes: I64):  # type: ignore[no-untyped-def]
    n = order.shape[0]
    groups = 0
    for k in range(n):
        if k == 0 or codes[order[k]] != codes[order[k - 1]]:
            groups += 1
    g_out = np.empty(groups, np.int64)
    w_out = np.empty(groups, np.int64)
    cnt = np.zeros(groups, np.int64)
    sm = np.zeros(groups, np.float64)
    mn = np.full(groups, np.nan)
    mx = np.full(groups, np.nan)
    lts = np.full(groups, np.iinfo(np.int64).min, np.int64)
    last = np.full(groups, np.nan)
    j = -1
    for k in range(n):
        i = order[k]
        if k == 0 or codes[i] != codes[order[k - 1]]:
            j += 1
            g_out[j] = group[i]
            w_out[j] = starts[i]
        v = values[i]
        if np.isnan(v):
            continue
        if cnt[j] == 0:
            mn[j] = v
            mx[j] = v
        else:
            mn[j] = min(mn[j], v)
            mx[j] = max(mx[j], v)
        cnt[j] += 1
        sm[j] += v
        if ts_ms[i] >= lts[j]:
            lts[j] = ts_ms[i]
            last[j] = v
    return g_out, w_out, cnt, sm, mn, mx, lts, last


def tumbling(group: I64, ts_ms: I64, values: F64, window_ms: int) -> WindowAggregates:
    """Aggregate values per (group, tumbling window of window_ms); ties on time: last input wins."""
    if window_ms <= 0:
        raise ValueError("window_ms must be positive")
    group = np.ascontiguousarray(group, dtype=np.int64)
    ts_ms = np.ascontiguousarray(ts_ms, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if not group.shape == ts_ms.shape == values.shape:
        raise ValueError("group, ts_ms and values must have the same length")
    codes, starts, _ = _window_codes(group, ts_ms, window_ms)
    order = np.argsort(codes, kind="mergesort")
    return WindowAggregates(*_scan(order, group, starts, ts_ms, values, codes))
