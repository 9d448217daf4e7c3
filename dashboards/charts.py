"""Charts for the static bulletin as small inline SVG, drawn by hand: a line chart is one path
per series, one for the axes, one for the grid and a few labels, so a page of charts stays a
few hundred elements and a few tens of kilobytes (the eco-design budget). Colour is never the
only carrier: series are labelled where they end and cycle through dash patterns, bars carry
their value, markers of assets with alerts are squares. Pure.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

Series = list[tuple[int, float]]  # (time in ms, value)

# dark enough for 3:1 against white (graphics), 4.5:1 for the labels drawn in them
PALETTE = ("#1f5fa8", "#b3261e", "#2e6b30", "#6a3d9a", "#8a4f00", "#00646d", "#555555")
DASHES = ("", "6 3", "2 2")
GRID, AXIS, INK = "#d0d0d0", "#595959", "#222222"
W, H = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 74, 118, 10, 26


def number(value: float, lang: str = "en") -> str:
    """A value as a reader of ``lang`` writes it (1 234,5 in French, 1,234.5 in English)."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 1 else 2
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def _t(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, label: str, anchor: str = "start", fill: str = INK) -> str:
    return (
        f'<text x="{_t(x)}" y="{_t(y)}" text-anchor="{anchor}" fill="{fill}">'
        f"{html.escape(label)}</text>"
    )


def _open(label_id: str, height: int = H) -> str:
    return (
        f'<svg class="chart" role="img" aria-labelledby="{label_id}" viewBox="0 0 {W} {height}" '
        f'font-size="12" font-family="sans-serif">'
    )


def local(ms: int, tz: ZoneInfo, fmt: str = "%d/%m %H:%M") -> str:
    """An instant in the territory's local time."""
    return datetime.fromtimestamp(ms / 1000, tz).strftime(fmt)


def line_chart(series: dict[str, Series], unit: str, tz: ZoneInfo, label_id: str) -> str:
    """Series against time: gaps (pauses much longer than the usual step) left blank."""
    points = [p for s in series.values() for p in s if math.isfinite(p[1])]
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points)
    lo, hi = min(0.0, *(p[1] for p in points)), max(p[1] for p in points)
    hi = hi if hi > lo else lo + 1
    span_t = max(t1 - t0, 1)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(t: int) -> float:
        return LEFT + (t - t0) / span_t * plot_w

    def y(v: float) -> float:
        return TOP + (1 - (v - lo) / (hi - lo)) * plot_h

    grid = " ".join(f"M{LEFT} {_t(y(lo + f * (hi - lo)))}h{plot_w}" for f in (0.5, 1.0))
    parts = [
        _open(label_id),
        f'<path d="{grid}" stroke="{GRID}" stroke-width="1"/>',
        f'<path d="M{LEFT} {TOP}V{TOP + plot_h}h{plot_w}" stroke="{AXIS}" fill="none"/>',
    ]
    for f in (0.0, 0.5, 1.0):
        value = lo + f * (hi - lo)
        parts.append(_text(LEFT - 4, y(value) + 4, f"{number(value)} {unit}".strip(), "end"))
    for t, anchor in ((t0, "start"), ((t0 + t1) // 2, "middle"), (t1, "end")):
        parts.append(_text(x(t), H - 8, local(t, tz), anchor))
    for i, (name, unsorted) in enumerate(sorted(series.items())[: len(PALETTE) * len(DASHES)]):
        colour, dash = PALETTE[i % len(PALETTE)], DASHES[i // len(PALETTE)]
        pts = sorted(unsorted)
        steps = sorted(b[0] - a[0] for a, b in pairwise(pts))
        usual = steps[len(steps) // 2] if steps else 0
        d, previous = [], None
        for t, v in pts:
            if not math.isfinite(v):
                previous = None
                continue
            gap = previous is None or (usual and t - previous > 5 * usual)
            d.append(f"{'M' if gap else 'L'}{_t(x(t))} {_t(y(v))}")
            previous = t
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<path d="{"".join(d)}" stroke="{colour}" stroke-width="1.6" fill="none"{dashed}/>'
        )
        last_t, last_v = pts[-1]
        if len(series) > 1 and math.isfinite(last_v):
            parts.append(_text(x(last_t) + 4, y(last_v) + 4, name[:18], fill=colour))
    return "".join(parts) + "</svg>"


def bar_chart(
    bars: Sequence[tuple[str, float, str]], unit: str, label_id: str, lang: str = "en"
) -> str:
    """Horizontal bars (name, value, colour), each with its value written beside it."""
    height = 22 * len(bars) + 8
    top = max((v for _, v, _ in bars), default=1.0) or 1.0
    plot_w = W - 200 - 90
    parts = [_open(label_id, height)]
    for i, (name, value, colour) in enumerate(bars):
        y = 4 + 22 * i
        width = max(0.0, value) / top * plot_w
        parts.append(
            _text(196, y + 14, name[:30], "end")
            + f'<rect x="200" y="{y}" width="{_t(width)}" height="16" fill="{colour}"/>'
            + _text(204 + width, y + 13, f"{number(value, lang)} {unit}".strip())
        )
    return "".join(parts) + "</svg>"


def map_chart(
    assets: Sequence[tuple[float, float, bool]], label_id: str, ok: str, alerted: str
) -> str:
    """Assets at their positions (lat, lon, alerted): dots, and squares for those with
    alerts, drawn on top; longitude scaled by the latitude's cosine."""
    lats = [a[0] for a in assets]
    lons = [a[1] for a in assets]
    mid = math.radians((min(lats) + max(lats)) / 2)
    span = max((max(lons) - min(lons)) * math.cos(mid), max(lats) - min(lats), 1e-6)
    size = H - 20

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (
            10 + (lon - min(lons)) * math.cos(mid) / span * size,
            10 + (max(lats) - lat) / span * size,
        )

    dots = "".join(  # a zero-length stroke with round caps: a dot in a dozen bytes
        f"M{_t(x)} {_t(y)}h0" for x, y in (xy(lat, lon) for lat, lon, hit in assets if not hit)
    )
    squares = "".join(
        f"M{_t(x - 4)} {_t(y - 4)}h8v8h-8z"
        for x, y in (xy(lat, lon) for lat, lon, hit in assets if hit)
    )
    return (
        _open(label_id)
        + f'<rect x="1" y="1" width="{W - 2}" height="{H - 2}" fill="none" stroke="{GRID}"/>'
        + (
            f'<path d="{dots}" stroke="{ok}" stroke-width="5" stroke-linecap="round"/>'
            if dots
            else ""
        )
        + (f'<path d="{squares}" fill="{alerted}" stroke="{INK}"/>' if squares else "")
        + "</svg>"
    )
