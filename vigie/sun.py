"""Sunrise and sunset (UTC) from the standard sunrise equation, accurate to about a minute."""

from __future__ import annotations

import math

_J2000 = 2451545.0
_UNIX_EPOCH_JD = 2440587.5


def sun_times_ms(lat: float, lon: float, day_ms: int) -> tuple[int, int]:
    """(sunrise, sunset) in epoch ms for the UTC day containing day_ms.

    Polar day gives (day start, day end); polar night gives (day end, day end): never up.
    """
    day_start = day_ms - day_ms % 86_400_000
    jd_noon = day_start / 86_400_000 + _UNIX_EPOCH_JD + 0.5
    n = round(jd_noon - _J2000)
    j_star = n - lon / 360.0
    m = math.radians((357.5291 + 0.98560028 * j_star) % 360)
    c = 1.9148 * math.sin(m) + 0.02 * math.sin(2 * m) + 0.0003 * math.sin(3 * m)
    lam = math.radians((math.degrees(m) + c + 180 + 102.9372) % 360)
    transit = _J2000 + j_star + 0.0053 * math.sin(m) - 0.0069 * math.sin(2 * lam)
    sin_d = math.sin(lam) * math.sin(math.radians(23.4397))
    cos_d = math.cos(math.asin(sin_d))
    phi = math.radians(lat)
    cos_w = (math.sin(math.radians(-0.833)) - math.sin(phi) * sin_d) / (math.cos(phi) * cos_d)
    day_end = day_start + 86_400_000
    if cos_w <= -1:
        return day_start, day_end
    if cos_w >= 1:
        return day_end, day_end
    w = math.degrees(math.acos(cos_w))

    def to_ms(jd: float) -> int:
        return round((jd - _UNIX_EPOCH_JD) * 86_400_000)

    return to_ms(transit - w / 360), to_ms(transit + w / 360)


def is_dark(lat: float, lon: float, ts_ms: int) -> bool:
    """True when the sun is below the horizon at (lat, lon)."""
    rise, set_ = sun_times_ms(lat, lon, ts_ms)
    return not rise <= ts_ms < set_
