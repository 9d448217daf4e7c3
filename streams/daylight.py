"""Whether readings were taken after dark at an asset's position. Pure.

Sun times come from ``vigie.sun``, cached per day and ~1 km cell, so that the check is cheap
for every reading of a bulk.
"""

from __future__ import annotations

import numpy as np

from vigie.sun import sun_times_ms


class DarkCalendar:
    """Sun times cached per day and ~1 km cell: cheap enough for every reading."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, float, float], tuple[int, int]] = {}

    def _times(self, lat: float, lon: float, day: int) -> tuple[int, int]:
        key = (day, round(lat, 2), round(lon, 2))
        times = self._cache.get(key)
        if times is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            times = self._cache[key] = sun_times_ms(lat, lon, day * 86_400_000)
        return times

    def dark_mask(self, lat: float, lon: float, ts_ms: np.ndarray) -> np.ndarray:
        """is_dark for each of an array of times (a day's sun times computed once)."""
        days = ts_ms // 86_400_000
        dark = np.empty(ts_ms.shape, bool)
        for day in np.unique(days).tolist():
            rise, set_ = self._times(lat, lon, day)
            sel = days == day
            dark[sel] = (ts_ms[sel] < rise) | (ts_ms[sel] >= set_)
        return dark
