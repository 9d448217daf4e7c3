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
def _extent(group: I64, ts_ms: I64, window_ms: int) -> tuple[int, int, int, int]:
    gmin, gmax = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    wmin, wmax = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for i in range(ts_ms.shape[0]):
        s = ts_ms[i] - ts_ms[i] % window_ms
        wmin, wmax = min(wmin, s), max(wmax, s)
        gmin, gmax = min(gmin, group[i]), max(gmax, group[i])
    return gmin, gmax, wmin, wmax


@numba.njit(cache=True, nogil=True)
def _dense_codes(group: I64, ts_ms: I64, window_ms: int, wmin: int, span: int) -> I64:
    codes = np.empty(ts_ms.shape[0], np.int64)
    for i in range(ts_ms.shape[0]):
        t = ts_ms[i]
        codes[i] = group[i] * span + (t - t % window_ms - wmin) // window_ms
    return codes


@numba.njit(cache=True, nogil=True)
def _runs(code, ts_ms, values, n_codes):  # type: ignore[no-untyped-def]
    """One sequential pass: consecutive readings of one key fold into one row.

    Streams deliver a device's readings together, so runs are the natural unit. Returns the
    rows and whether a key appears in two separate runs (then a merge is due).
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
        c = code[i]
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
        if ts_ms[i] >= lts[j]:
            lts[j] = ts_ms[i]
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
    if group.size == 0:
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
        return WindowAggregates(
            empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_i, empty_f
        )
    gmin, gmax, wmin, wmax = _extent(group, ts_ms, window_ms)
    span = (wmax - wmin) // window_ms + 1
    n_codes = (gmax + 1) * span
    if gmin >= 0 and n_codes <= 64 * group.size + (1 << 24):
        # dense keys (the usual case: device index x window), decoded arithmetically
        code = _dense_codes(group, ts_ms, window_ms, wmin, span)
        keys = None
    else:  # sparse keys: number the distinct (group, window) pairs
        starts = ts_ms - ts_ms % window_ms
        keys, code = np.unique(np.stack([group, starts], axis=1), axis=0, return_inverse=True)
        code = np.ascontiguousarray(code.ravel(), np.int64)
        n_codes = len(keys)
    out, cnt, sm, mn, mx, lts, last, split = _runs(code, ts_ms, values, n_codes)
    if split:  # a key in several runs: fold them (then sorted by key)
        order = np.argsort(out, kind="mergesort")
        out, cnt, sm, mn, mx, lts, last = _merge_rows(order, out, cnt, sm, mn, mx, lts, last)
    if keys is None:
        return WindowAggregates(
            out // span, wmin + (out % span) * window_ms, cnt, sm, mn, mx, lts, last
        )
    return WindowAggregates(keys[out, 0], keys[out, 1], cnt, sm, mn, mx, lts, last)


def hopping(group: I64, ts_ms: I64, values: F64, window_ms: int, hop_ms: int) -> WindowAggregates:
    """Aggregate values per (group, hopping window): windows of ``window_ms`` starting every
    ``hop_ms`` (a divisor of ``window_ms``), so each reading counts in window_ms / hop_ms of
    them. Built from tumbling aggregates at the hop, each folded into the windows it belongs
    to: the readings are read once, whatever the overlap."""
    if hop_ms <= 0 or window_ms <= 0 or window_ms % hop_ms:
        raise ValueError("hop_ms must be positive and divide window_ms")
    k = window_ms // hop_ms
    b = tumbling(group, ts_ms, values, hop_ms)
    if k == 1 or b.group.size == 0:
        return b
    shift = np.repeat(np.arange(k, dtype=np.int64) * hop_ms, b.group.size)
    g = np.tile(b.group, k)
    start = np.tile(b.window_start_ms, k) - shift
    keys, code = np.unique(np.stack([g, start], axis=1), axis=0, return_inverse=True)
    code = np.ascontiguousarray(code.ravel(), np.int64)
    order = np.argsort(code, kind="mergesort")
    out, cnt, sm, mn, mx, lts, last = _merge_rows(
        order,
        code,
        np.tile(b.count, k),
        np.tile(b.sum, k),
        np.tile(b.min, k),
        np.tile(b.max, k),
        np.tile(b.last_ts_ms, k),
        np.tile(b.last, k),
    )
    return WindowAggregates(keys[out, 0], keys[out, 1], cnt, sm, mn, mx, lts, last)
