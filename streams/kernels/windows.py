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
def _range(group: I64) -> tuple[int, int]:
    lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for i in range(group.shape[0]):
        lo, hi = min(lo, group[i]), max(hi, group[i])
    return lo, hi


@numba.njit(cache=True, nogil=True)
def _empty_rows(n):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """Room for n rows: group, window start, count, sum, min, max, last time, last value."""
    return (
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.float64),
        np.empty(n, np.float64),
        np.empty(n, np.float64),
        np.empty(n, np.int64),
        np.empty(n, np.float64),
    )


@numba.njit(cache=True, nogil=True)
def _fold_runs(group, ts_ms, values, window_ms, origin, n_groups):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """One sequential pass: consecutive readings of one (group, window) fold into one row.

    Streams deliver a device's readings together and in time order, so runs are the natural
    unit and a run's statistics stay in registers until it ends. A run that resumes its
    group's latest window (the next batch of a device) folds back into that window's row;
    a run in an earlier window (late or unordered data) gets its own row, and
    ``_fold_unordered`` folds such rows at the end. Window index: (t - origin) // window_ms.
    """
    n = ts_ms.shape[0]
    latest_w = np.full(n_groups, np.iinfo(np.int64).min, np.int64)
    latest_row = np.empty(n_groups, np.int64)
    g_o, w_o, n_o, s_o, lo_o, hi_o, t_o, l_o = _empty_rows(n)
    unordered = False
    m = 0
    j = -1
    g_prev, w_prev = -1, -1
    cnt, sm, lo, hi, lts, last = 0, 0.0, np.inf, -np.inf, np.iinfo(np.int64).min, np.nan
    for i in range(n):
        t = ts_ms[i]
        g = group[i]
        w = (t - origin) // window_ms
        if g != g_prev or w != w_prev:
            if j >= 0:
                n_o[j], s_o[j], lo_o[j], hi_o[j], t_o[j], l_o[j] = cnt, sm, lo, hi, lts, last
            if w == latest_w[g]:  # the group's latest window goes on
                j = latest_row[g]
                cnt, sm, lo, hi, lts, last = n_o[j], s_o[j], lo_o[j], hi_o[j], t_o[j], l_o[j]
            else:
                if w > latest_w[g]:
                    latest_w[g], latest_row[g] = w, m
                else:
                    unordered = True
                j = m
                m += 1
                g_o[j], w_o[j] = g, w
                cnt, sm, lo, hi = 0, 0.0, np.inf, -np.inf
                lts, last = np.iinfo(np.int64).min, np.nan
            g_prev, w_prev = g, w
        v = values[i]
        if v == v:  # noqa: PLR0124  # False for NaN (a gap): the cheapest test in the kernel
            cnt += 1
            sm += v
            lo = min(lo, v)
            hi = max(hi, v)
            if t >= lts:
                lts, last = t, v
    if j >= 0:
        n_o[j], s_o[j], lo_o[j], hi_o[j], t_o[j], l_o[j] = cnt, sm, lo, hi, lts, last
    if unordered:
        m = _fold_unordered(m, g_o, w_o, n_o, s_o, lo_o, hi_o, t_o, l_o)
    _label(m, w_o, n_o, lo_o, hi_o, origin, window_ms)
    return g_o[:m], w_o[:m], n_o[:m], s_o[:m], lo_o[:m], hi_o[:m], t_o[:m], l_o[:m]


@numba.njit(cache=True, nogil=True)
def _label(m, w_o, n_o, lo_o, hi_o, origin, window_ms):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """Window indexes to start times; a window of gaps only has no minimum or maximum."""
    for k in range(m):
        w_o[k] = origin + w_o[k] * window_ms
        if n_o[k] == 0:
            lo_o[k], hi_o[k] = np.nan, np.nan


@numba.njit(cache=True, nogil=True)
def _fold_unordered(m, g_o, w_o, n_o, s_o, lo_o, hi_o, t_o, l_o):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """Fold rows of equal (group, window) into the first of them; compact; the new length."""
    order = np.argsort(w_o[:m], kind="mergesort")  # stable: input order within a key
    order = order[np.argsort(g_o[:m][order], kind="mergesort")]
    dead = np.zeros(m, np.bool_)
    head = -1
    for q in range(m):
        r = order[q]
        if q == 0 or g_o[r] != g_o[head] or w_o[r] != w_o[head]:
            head = r
            continue
        dead[r] = True
        if n_o[r] == 0:
            continue
        n_o[head] += n_o[r]
        s_o[head] += s_o[r]
        lo_o[head] = min(lo_o[head], lo_o[r])
        hi_o[head] = max(hi_o[head], hi_o[r])
        if t_o[r] >= t_o[head]:
            t_o[head], l_o[head] = t_o[r], l_o[r]
    j = 0
    for r in range(m):
        if not dead[r]:
            g_o[j], w_o[j], n_o[j], s_o[j] = g_o[r], w_o[r], n_o[r], s_o[r]
            lo_o[j], hi_o[j], t_o[j], l_o[j] = lo_o[r], hi_o[r], t_o[r], l_o[r]
            j += 1
    return j


@numba.njit(cache=True, nogil=True)
def _hop_ring(order, group, w, cnt, sm, lo, hi, lts, last, k, n_groups):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    """Fold hop buckets into the windows of k consecutive buckets that contain any of them.

    Buckets are visited as they come (or in ``order``), each group's in increasing window
    order: a group's open windows sit in a ring of k slots (window s in slot s % k), and a
    slot's window is complete, so written out, when a later window needs the slot. Returns
    the windows (start in hops), or ``None`` when a group's buckets are not in order.
    """
    m = group.shape[0]
    by_order = order.shape[0] == m
    empty = np.iinfo(np.int64).min
    ring_w = np.full((n_groups, k), empty, np.int64)
    ring_n = np.zeros((n_groups, k), np.int64)
    ring_s = np.zeros((n_groups, k), np.float64)
    ring_lo = np.zeros((n_groups, k), np.float64)
    ring_hi = np.zeros((n_groups, k), np.float64)
    ring_t = np.zeros((n_groups, k), np.int64)
    ring_l = np.zeros((n_groups, k), np.float64)
    latest = np.full(n_groups, empty, np.int64)
    g_o, s_o, n_o, sm_o, lo_o, hi_o, t_o, l_o = _empty_rows(m * k)
    j = 0
    for q in range(m + n_groups * k):
        if q < m:  # a bucket
            r = order[q] if by_order else q
            g, ww = group[r], w[r]
            if ww <= latest[g]:
                return None
            latest[g] = ww
            backs = k
        else:  # the end: flush every slot
            g, c = (q - m) // k, (q - m) % k
            backs = 0
            if ring_w[g, c] != empty:
                g_o[j], s_o[j], n_o[j], sm_o[j] = g, ring_w[g, c], ring_n[g, c], ring_s[g, c]
                lo_o[j] = ring_lo[g, c] if ring_n[g, c] else np.nan
                hi_o[j] = ring_hi[g, c] if ring_n[g, c] else np.nan
                t_o[j], l_o[j] = ring_t[g, c], ring_l[g, c]
                j += 1
        for back in range(backs):
            s = ww - back
            c = s % k
            if ring_w[g, c] != s:
                if ring_w[g, c] != empty:  # complete: no later bucket can reach it
                    g_o[j], s_o[j], n_o[j], sm_o[j] = g, ring_w[g, c], ring_n[g, c], ring_s[g, c]
                    lo_o[j] = ring_lo[g, c] if ring_n[g, c] else np.nan
                    hi_o[j] = ring_hi[g, c] if ring_n[g, c] else np.nan
                    t_o[j], l_o[j] = ring_t[g, c], ring_l[g, c]
                    j += 1
                ring_w[g, c], ring_n[g, c], ring_s[g, c] = s, 0, 0.0
                ring_lo[g, c], ring_hi[g, c] = np.inf, -np.inf
                ring_t[g, c], ring_l[g, c] = empty, np.nan
            if cnt[r]:
                ring_n[g, c] += cnt[r]
                ring_s[g, c] += sm[r]
                ring_lo[g, c] = min(ring_lo[g, c], lo[r])
                ring_hi[g, c] = max(ring_hi[g, c], hi[r])
                if lts[r] >= ring_t[g, c]:
                    ring_t[g, c], ring_l[g, c] = lts[r], last[r]
    return g_o[:j], s_o[:j], n_o[:j], sm_o[:j], lo_o[:j], hi_o[:j], t_o[:j], l_o[:j]


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
    keys, code, n_groups = _numbered(group)
    g, *rest = _fold_runs(code, ts_ms, values, window_ms, 0, n_groups)
    return WindowAggregates(g if keys is None else keys[g], *rest)


def _numbered(group: I64) -> tuple[I64 | None, I64, int]:
    """Groups as indexes 0..n-1 for the kernels' per-group arrays: as they are when they
    already are small non-negative integers (device indexes), else numbered (then ``keys``
    maps an index back to its group)."""
    gmin, gmax = _range(group)
    if gmin >= 0 and gmax < 4 * group.size + (1 << 20):
        return None, group, gmax + 1
    keys, code = np.unique(group, return_inverse=True)
    return keys, np.ascontiguousarray(code.ravel(), np.int64), len(keys)


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
    w = b.window_start_ms // hop_ms
    keys, code, n_groups = _numbered(b.group)
    buckets = (code, w, b.count, b.sum, b.min, b.max, b.last_ts_ms, b.last)
    out = _hop_ring(np.empty(0, np.int64), *buckets, k, n_groups)
    if out is None:  # late or unordered readings: sort the buckets by time within groups
        out = _hop_ring(np.lexsort((w, code)), *buckets, k, n_groups)
    g, start, *stats = out
    return WindowAggregates(g if keys is None else keys[g], start * hop_ms, *stats)
