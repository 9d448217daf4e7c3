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
        key = (int(g), int(t) - int(t) % window_ms)
        acc = out.setdefault(key, [0, 0.0, math.nan, math.nan, -(2**63), math.nan])
        if math.isnan(v):
            continue
        acc[0] += 1
        acc[1] += v
        acc[2] = v if acc[0] == 1 else min(acc[2], v)
        acc[3] = v if acc[0] == 1 else max(acc[3], v)
        if t >= acc[4]:
            acc[4], acc[5] = t, v
    return {k: (int(a[0]), a[1], a[2], a[3], int(a[4]), a[5]) for k, a in out.items()}
