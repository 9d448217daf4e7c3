"""A static snapshot of dashboards: one HTML file with inline SVG charts, no server, no script.

Rendered from the same specification and the same InfluxQL as the Grafana dashboards, for
machines without Grafana and for the weekly bulletin sent to elected officials. Titles are in
French and English. Pure: it takes each panel's query result (rows) and returns the page;
``vigie dashboards snapshot`` runs the queries.
"""

from __future__ import annotations

import html
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import matplotlib

matplotlib.use("svg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from dashboards.spec import Dashboard, Panel, Viz

Rows = list[dict[str, Any]]
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}
h1{margin-bottom:.2rem} h1 small,h2 small{color:#666;font-weight:normal}
.meta{color:#555;margin-bottom:1rem} section{margin-bottom:2rem}
.grid{display:flex;flex-wrap:wrap;gap:1rem}
.panel{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem;box-sizing:border-box}
.panel h3{margin:.1rem 0 .5rem;font-size:1rem} .panel h3 small{display:block;color:#666}
.stat{font-size:2.6rem;font-weight:bold;text-align:center;padding:1rem 0}
.empty{color:#999;font-style:italic} table{border-collapse:collapse;width:100%;font-size:.85rem}
td,th{border-bottom:1px solid #eee;padding:.2rem .4rem;text-align:left}
"""
_UNITS = {
    "kwatth": "kWh",
    "watth": "Wh",
    "watt": "W",
    "m3": "m³",
    "percent": "%",
    "velocitykmh": "km/h",
    "pressurebar": "bar",
    "kbytes": "kB",
    "none": "",
}
_COLOURS = {"green": "#37872d", "yellow": "#e0b400", "orange": "#fa6400", "red": "#c4162a"}


def _series(rows: Rows) -> dict[str, list[tuple[int, float]]]:
    """Rows grouped by their tags (string columns), one (time, value) list per group."""
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in rows:
        tags = ", ".join(str(v) for k, v in sorted(row.items()) if isinstance(v, str))
        values = [v for k, v in row.items() if k != "time" and isinstance(v, int | float)]
        if values and values[0] is not None:
            out[tags or "value"].append((int(row.get("time", 0)), float(values[0])))
    return out


def unit_label(unit: str) -> str:
    """Grafana's unit id as a reader writes it."""
    return _UNITS.get(unit, unit)


def _with_gaps(points: list[tuple[int, float]]) -> tuple[list[datetime], list[float]]:
    """Times and values, broken (NaN) where the data pauses for much longer than its step."""
    points.sort()
    steps = sorted(b[0] - a[0] for a, b in pairwise(points))
    usual = steps[len(steps) // 2] if steps else 0
    times: list[datetime] = []
    values: list[float] = []
    for i, (t, v) in enumerate(points):
        if i and usual and t - points[i - 1][0] > 5 * usual:
            times.append(datetime.fromtimestamp((t + points[i - 1][0]) / 2000, UTC))
            values.append(float("nan"))
        times.append(datetime.fromtimestamp(t / 1000, UTC))
        values.append(v)
    return times, values


def _colour(panel: Panel, value: float) -> str:
    colour = "green"
    for start, name in panel.thresholds:
        if value >= start:
            colour = name
    return _COLOURS.get(colour, colour)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _timeseries(panel: Panel, rows: Rows) -> str:
    fig, ax = plt.subplots(figsize=(panel.width / 2, 2.8))
    series = _series(rows)
    for name, points in sorted(series.items())[:12]:
        times, values = _with_gaps(points)
        ax.plot(
            times,  # type: ignore[arg-type]  # matplotlib plots datetimes; its hint says numbers
            values,
            label=name,
            linewidth=1.2,
        )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m %H:%M"))
    ax.tick_params(labelsize=7)
    ax.set_ylabel(unit_label(panel.unit), fontsize=8)
    if 1 < len(series) <= 12:
        ax.legend(fontsize=6, ncol=3)
    ax.grid(alpha=0.3)
    return _svg(fig)


def _bars(panel: Panel, rows: Rows) -> str:
    """One bar per group (tags), or per field when the query selects several."""
    fields = [k for k, v in rows[0].items() if k != "time" and not isinstance(v, str)]
    if len(fields) > 1:
        series = {f: sum(float(r.get(f) or 0) for r in rows) for f in fields}
        colours = [f"C{i}" for i in range(len(fields))]
        names = fields
    else:
        series = {k: v[-1][1] for k, v in _series(rows).items()}
        names = sorted(series)[:20]
        colours = [_colour(panel, series[n]) for n in names]
    fig, ax = plt.subplots(figsize=(panel.width / 2, 0.35 * len(names) + 0.8))
    ax.barh(names, [series[n] for n in names], color=colours)
    ax.set_xlabel(unit_label(panel.unit), fontsize=8)
    ax.tick_params(labelsize=7)
    return _svg(fig)


def _map(panel: Panel, rows: Rows) -> str:
    fig, ax = plt.subplots(figsize=(panel.width / 2, 4))
    lats = [r["lat"] for r in rows if r.get("lat") is not None]
    lons = [r["lon"] for r in rows if r.get("lat") is not None]
    state = [float(r.get("alerts") or 0) for r in rows if r.get("lat") is not None]
    ax.scatter(lons, lats, s=8, c=[_colour(panel, s) for s in state])
    ax.set_aspect("equal", adjustable="datalim")
    ax.tick_params(labelsize=7)
    ax.set_xlabel("longitude", fontsize=7)
    ax.set_ylabel("latitude", fontsize=7)
    return _svg(fig)


def _table(rows: Rows) -> str:
    if not rows:
        return ""
    columns = [c for c in rows[0] if c != "time"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows[:50]
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def render_panel(panel: Panel, rows: Rows) -> str:
    """One panel as HTML: the chart (inline SVG), the number or the table."""
    title = (
        f"<h3>{html.escape(panel.fr or panel.title)}<small>{html.escape(panel.title)}</small></h3>"
    )
    width = f"calc({panel.width / 24 * 100:.1f}% - 1rem)"
    if not rows:
        body = '<p class="empty">pas de données / no data</p>'
    elif panel.viz is Viz.STAT:
        values = [v for s in _series(rows).values() for _, v in s]
        total = sum(values) if values else 0.0
        unit = f" {html.escape(unit_label(panel.unit))}".rstrip()
        body = f'<div class="stat" style="color:{_colour(panel, total)}">{total:,.1f}{unit}</div>'
    elif panel.viz is Viz.TABLE:
        body = _table(rows)
    elif panel.viz is Viz.BARGAUGE:
        body = _bars(panel, rows)
    elif panel.viz is Viz.GEOMAP:
        body = _map(panel, rows)
    else:
        body = _timeseries(panel, rows)
    return f'<div class="panel" style="width:{width}">{title}{body}</div>'


def render(
    dashboards: Sequence[Dashboard],
    results: Mapping[tuple[str, str], Rows],
    territory: str,
    period: str,
    generated: datetime,
) -> str:
    """The whole page; ``results`` maps (dashboard uid, panel title) to its query's rows."""
    sections = []
    for dash in dashboards:
        panels = "".join(render_panel(p, results.get((dash.uid, p.title), [])) for p in dash.panels)
        sections.append(
            f"<section><h2>{html.escape(dash.fr or dash.title)} <small>{html.escape(dash.title)}"
            f'</small></h2><div class="grid">{panels}</div></section>'
        )
    when = generated.strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>Vigie - {html.escape(territory)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Vigie - {html.escape(territory)} <small>bulletin</small></h1>"
        f'<p class="meta">Période / period: {html.escape(period)} · généré le / generated '
        f"{when} · données ouvertes de la collectivité / the territory's own data</p>"
        + "".join(sections)
        + "</body></html>"
    )
