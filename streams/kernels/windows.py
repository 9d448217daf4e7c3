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
    """One row per (group, window) present in the input (order unspecified)."""

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


@numba.njit(cache=True, nogil=True)
def _extent(group: I64, ts_ms: I64, window_ms: int) -> tuple[int, int, int, int]:
    gmin, gmax = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    wmin, wmax = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for i in range(ts_ms.shape[0]):
        s = ts_ms[i] - ts_ms[i] % window_ms
        wmin, wmax = min(wmin, s), max(wmax, s)
        gmin, gmax = min(gmin, group[i]), max(gmax, group[i])
    return gmin, gmax, wmin, wmax


@numba.njit(cache=True, nogil=True)
def _runs(group, ts_ms, values, window_ms, wmin, span, n_codes):  # type: ignore[no-untyped-def]
    """One sequential pass: consecutive readings of one (group, window) fold into one row.

    Streams deliver a device's readings together, so runs are the natural unit. Returns the
    rows and whether some (group, window) appears in two separate runs (then a merge is due).
    """
    n = ts_ms.shape[0]
    seen = np.zeros((n_codes + 63) // 64, np.uint64)
    code_out = np.empty(n, np.int64)
    cnt = np.empty(n, np.int64)
    sm = np.empty(n, np.float64)
    mn = np.empty(n, np.float64)
    mx = np.empty(n, np.float64)
    lts = np.empty(n, np.int64)
    last = np.empty(n, np.float64)
    split = False
    j = -1
    prev = -1
    for i in range(n):
        t = ts_ms[i]
        c = group[i] * span + (t - t % window_ms - wmin) // window_ms
        if c != prev:
            word, bit = c >> 6, np.uint64(1) << np.uint64(c & 63)
            if seen[word] & bit:
                split = True
            seen[word] |= bit
            j += 1
            code_out[j] = c
            cnt[j] = 0
            sm[j] = 0.0
            mn[j] = np.nan
            mx[j] = np.nan
            lts[j] = np.iinfo(np.int64).min
            last[j] = np.nan
            prev = c
        v = values[i]
        if np.isnan(v):
            continue
        if cnt[j] == 0:
            mn[j] = v
            mx[j] = v
        else:
            if v < mn[j]:
                mn[j] = v
            if v > mx[j]:
                mx[j] = v
        cnt[j] += 1
        sm[j] += v
        if t >= lts[j]:
            lts[j] = t
            last[j] = v
    m = j + 1
    return code_out[:m], cnt[:m], sm[:m], mn[:m], mx[:m], lts[:m], last[:m], split


@numba.njit(cache=True, nogil=True)
def _merge_rows(order, code, cnt, sm, mn, mx, lts, last):  # type: ignore[no-untyped-def]
    """Fold rows of equal code (given in code order) into one."""
    m = order.shape[0]
    k = 0
    for q in range(m):
        if q == 0 or code[order[q]] != code[order[q - 1]]:
            k += 1
    c_o = np.empty(k, np.int64)
    n_o = np.zeros(k, np.int64)
    s_o = np.zeros(k, np.float64)
    lo_o = np.full(k, np.nan)
    hi_o = np.full(k, np.nan)
    t_o = np.full(k, np.iinfo(np.int64).min, np.int64)
    l_o = np.full(k, np.nan)
    j = -1
    for q in range(m):
        r = order[q]
        if q == 0 or code[r] != code[order[q - 1]]:
            j += 1
            c_o[j] = code[r]
        if cnt[r] == 0:
            continue
        lo_o[j] = mn[r] if n_o[j] == 0 else min(lo_o[j], mn[r])
        hi_o[j] = mx[r] if n_o[j] == 0 else max(hi_o[j], mx[r])
        n_o[j] += cnt[r]
        s_o[j] += sm[r]
        if lts[r] >= t_o[j]:
            t_o[j] = lts[r]
            l_o[j] = last[r]
    return c_o, n_o, s_o, lo_o, hi_o, t_o, l_o


def tumbling(group: I64, ts_ms: I64, values: F64, window_ms: int) -> WindowAggregates:
    """Aggregate values per (group, tumbling window of window_ms); ties on time: last input wins."""
    if window_ms <= 0:
        raise ValueError("window_ms must be positive")
    group = np.ascontiguousarray(group, dtype=np.int64)
    ts_ms = np.ascontiguousarray(ts_ms, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if not group.shape == ts_ms.shape == values.shape:
        raise ValueError("group, ts_ms and values must have the same length")
    if group.size:
        gmin, gmax, wmin, wmax = _extent(group, ts_ms, window_ms)
        span = (wmax - wmin) // window_ms + 1
        n_codes = (gmax + 1) * span
        if gmin >= 0 and n_codes <= 64 * group.size + (1 << 24):
            code, cnt, sm, mn, mx, lts, last, split = _runs(
                group, ts_ms, values, window_ms, wmin, span, n_codes
            )
            if split:  # a (group, window) in several runs: fold them (sorted by code)
                order = np.argsort(code, kind="mergesort")
                code, cnt, sm, mn, mx, lts, last = _merge_rows(
                    order, code, cnt, sm, mn, mx, lts, last
                )
            return WindowAggregates(
                code // span, wmin + (code % span) * window_ms, cnt, sm, mn, mx, lts, last
            )
    codes, starts, _ = _window_codes(group, ts_ms, window_ms)
    order = np.argsort(codes, kind="mergesort")
    return WindowAggregates(*_scan(order, group, starts, ts_ms, values, codes))
