"""Plain-Python reference implementations the numba kernels are tested against."""

from __future__ import annotations

import math
from collections.abc import Sequence


def tumbling_reference(
    group: Sequence[int], ts_ms: Sequence[int], values: Sequence[float], window_ms: int
) -> dict[tuple[int, int], tuple[int, float, float, float, int, float]]:
    """{(group, window_start): (count, sum, min, max, last_ts, last)}; NaN values skipped."""
    out: dict[tuple[int, int], list[float]] = {}
    for g, t, v in zip(group, ts_ms, values, strict=True):
        _fold(out, (int(g), int(t) - int(t) % window_ms), int(t), v)
    return _rows(out)


def _fold(out: dict[tuple[int, int], list[float]], key: tuple[int, int], t: int, v: float) -> None:
    """Add one reading to a window's [count, sum, min, max, last_ts, last]; NaN: a gap."""
    acc = out.setdefault(key, [0, 0.0, math.nan, math.nan, -(2**63), math.nan])
    if math.isnan(v):
        return
    acc[0] += 1
    acc[1] += v
    acc[2] = v if acc[0] == 1 else min(acc[2], v)
    acc[3] = v if acc[0] == 1 else max(acc[3], v)
    if t >= acc[4]:
        acc[4], acc[5] = t, v


def _rows(
    out: dict[tuple[int, int], list[float]],
) -> dict[tuple[int, int], tuple[int, float, float, float, int, float]]:
    return {k: (int(a[0]), a[1], a[2], a[3], int(a[4]), a[5]) for k, a in out.items()}


def _split(t0: int, v0: float, t1: int, v1: float, window_ms: int):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    a = t0
    while a < t1:
        b = min(a - a % window_ms + window_ms, t1)
        va = v0 + (v1 - v0) * (a - t0) / (t1 - t0)
        vb = v0 + (v1 - v0) * (b - t0) / (t1 - t0)
        yield a - a % window_ms, (va + vb) / 2, b - a
        a = b


def integrate_reference(
    group: Sequence[int],
    ts_ms: Sequence[int],
    values: Sequence[float],
    window_ms: int,
    max_gap_ms: int = 3_600_000,
    on_threshold: float = 0.5,
) -> dict[tuple[int, int], tuple[float, int]]:
    """{(group, window_start): (integral in value-hours, ms above threshold)}."""
    out: dict[tuple[int, int], list[float]] = {}
    last: dict[int, tuple[int, float]] = {}
    rows = sorted(zip(group, ts_ms, values, strict=True), key=lambda r: (r[0], r[1]))
    for g, t, v in rows:
        if math.isnan(v):
            continue
        if g in last:
            t0, v0 = last[g]
            if 0 < t - t0 <= max_gap_ms:
                for w, mean, dur in _split(t0, v0, t, v, window_ms):
                    acc = out.setdefault((g, w), [0.0, 0])
                    acc[0] += mean * dur / 3_600_000
                    acc[1] += dur if mean > on_threshold else 0
        if g not in last or t >= last[g][0]:
            last[g] = (t, v)
    return {k: (a[0], int(a[1])) for k, a in out.items()}


def meter_deltas_reference(
    group: Sequence[int],
    ts_ms: Sequence[int],
    index: Sequence[float],
    window_ms: int,
    rollover: float = 0.0,
) -> dict[tuple[int, int], float]:
    """{(group, window of the later reading): consumption}."""
    out: dict[tuple[int, int], float] = {}
    last: dict[int, tuple[int, float]] = {}
    rows = sorted(zip(group, ts_ms, index, strict=True), key=lambda r: (r[0], r[1]))
    for g, t, v in rows:
        if math.isnan(v):
            continue
        if g in last and t > last[g][0]:
            prev = last[g][1]
            if v >= prev:
                d = v - prev
            elif rollover > 0 and prev >= rollover / 2:
                d = rollover - prev + v
            else:
                d = v
            key = (g, t - t % window_ms)
            out[key] = out.get(key, 0.0) + d
        if g not in last or t >= last[g][0]:
            last[g] = (t, v)
    return out


def hopping_reference(
    group: Sequence[int],
    ts_ms: Sequence[int],
    values: Sequence[float],
    window_ms: int,
    hop_ms: int,
) -> dict[tuple[int, int], tuple[int, float, float, float, int, float]]:
    """Each reading added to every window [s, s + window_ms) it falls in, s a multiple of hop."""
    out: dict[tuple[int, int], list[float]] = {}
    for g, t, v in zip(group, ts_ms, values, strict=True):
        first = int(t) - int(t) % hop_ms
        for j in range(window_ms // hop_ms):
            _fold(out, (int(g), first - j * hop_ms), int(t), v)
    return _rows(out)
