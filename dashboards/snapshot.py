"""A static snapshot of dashboards: one HTML file with inline SVG charts, no server, no script.

Rendered from the same specification and the same InfluxQL as the Grafana dashboards, for
machines without Grafana and for the weekly bulletin that elected officials take to a council
and a territory publishes for its residents. It is written to be read by everyone (WCAG 2.1
AA, the basis of the French RGAA): French with the English beside it in ``lang="en"``,
headings in order, a skip link, each chart with a sentence saying what it shows and its key
figures and its data as a table under a disclosure, colours that keep their contrast and are
never the only carrier of meaning. It is light (no script, no request beyond itself, a few
hundred elements) and prints on A4, one dashboard per page, no chart cut. Pure: it takes each
panel's query result (rows) and returns the page; ``vigie dashboards snapshot`` runs the
queries.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.charts import Series, bar_chart, line_chart, local, map_chart, number
from dashboards.spec import Dashboard, Panel, Viz
from dashboards.summary import summary
from vigie.localtime import DEFAULT_TIMEZONE

Rows = list[dict[str, Any]]
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fff;color:#222;line-height:1.4}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.4rem}
h1{margin-bottom:.2rem} small,.en{color:#555;font-weight:normal}
.meta{color:#555} .summary{border-left:4px solid #1f5fa8;padding:.2rem 1rem;max-width:60rem}
nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;list-style:none;padding:0}
section{margin-bottom:2rem} .grid{display:flex;flex-wrap:wrap;gap:1rem}
.panel{border:1px solid #ccc;border-radius:6px;padding:.8rem;box-sizing:border-box}
.panel h3{margin:.1rem 0 .5rem;font-size:1rem} .panel h3 small{display:block}
figure{margin:0} figcaption{font-size:.85rem} .chart{width:100%;height:auto}
.stat{font-size:2.2rem;font-weight:bold;margin:.5rem 0} .stat small{font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.85rem} caption{text-align:left}
td,th{border-bottom:1px solid #ddd;padding:.2rem .4rem;text-align:left}
summary{cursor:pointer;font-size:.85rem} a:focus,summary:focus{outline:3px solid #1f5fa8}
@media print{@page{size:A4;margin:9mm}body{margin:0;font-size:8pt}.skip,nav,details{display:none}
section{break-before:page;margin:0}section:first-of-type{break-before:auto}
.grid{gap:2mm}.panel{break-inside:avoid;padding:1.5mm;width:calc(33.3% - 2mm)!important}
.panel.n{width:calc(25% - 2mm)!important}.panel h3{font-size:8.5pt;margin:0 0 1mm}
.stat{font-size:13pt;margin:0}figcaption{font-size:7pt}.chart{max-height:40mm}
.summary{padding:0 3mm;margin:1mm 0}h1{font-size:13pt;margin:0}h2{font-size:11pt;margin:1mm 0}}
"""
_UNITS = {
    "kwatth": "kWh",
    "watth": "Wh",
    "watt": "W",
    "m3": "m³",
    "m": "min",
    "percent": "%",
    "velocitykmh": "km/h",
    "pressurebar": "bar",
    "kbytes": "kB",
    "ms": "ms",
    "none": "",
}
# threshold colours dark enough for text (4.5:1 on white), and the word that says the same
_LEVELS = {
    "green": ("#2e6b30", "normal", "normal"),
    "yellow": ("#6b5300", "à surveiller", "watch"),
    "orange": ("#a34400", "attention", "warning"),
    "red": ("#b3261e", "alerte", "alert"),
}
MAX_SERIES_ROWS = 20


def unit_label(unit: str) -> str:
    """Grafana's unit id as a reader writes it."""
    return _UNITS.get(unit, unit)


def _series(rows: Rows) -> dict[str, Series]:
    """Rows grouped by their tags (string columns), one (time, value) list per group."""
    out: dict[str, Series] = defaultdict(list)
    for row in rows:
        tags = ", ".join(str(v) for k, v in sorted(row.items()) if isinstance(v, str))
        values = [v for k, v in row.items() if k != "time" and isinstance(v, int | float)]
        if values and values[0] is not None:
            out[tags or "value"].append((int(row.get("time", 0)), float(values[0])))
    return out


def _level(panel: Panel, value: float) -> tuple[str, str, str]:
    colour = "green"
    for start, name in panel.thresholds:
        if value >= start:
            colour = name
    return _LEVELS.get(colour, _LEVELS["green"])


def _both(fr: str, en: str, tag: str = "span") -> str:
    """French, then English marked as such."""
    return f'{html.escape(fr)} <{tag} lang="en" class="en">{html.escape(en)}</{tag}>'


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _data(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The numbers behind a chart, folded under a disclosure (keyboard reachable)."""
    return (
        f"<details><summary>{_both('Données', 'Data')}</summary>{_table(columns, rows)}</details>"
    )


def _q(value: float, unit: str, lang: str = "en") -> str:
    """A quantity: the number, then its unit if it has one."""
    return f"{number(value, lang)} {unit}".strip()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    return "" if value is None else str(value)


def _figure(chart: str, cap_id: str, fr: str, en: str, data: str) -> str:
    return f'<figure>{chart}<figcaption id="{cap_id}">{_both(fr, en)}</figcaption></figure>{data}'


def _timeseries(panel: Panel, rows: Rows, tz: ZoneInfo, cap_id: str) -> str:
    series = {k: v for k, v in _series(rows).items() if any(math.isfinite(p[1]) for p in v)}
    if not series:
        return _empty()
    unit = unit_label(panel.unit)
    stats = {
        name: (
            min(v for _, v in pts if math.isfinite(v)),
            max(v for _, v in pts if math.isfinite(v)),
            max(pts),
        )
        for name, pts in series.items()
    }
    first = min(t for pts in series.values() for t, _ in pts)
    last = max(t for pts in series.values() for t, _ in pts)
    span = {lang: f"{local(first, tz)} - {local(last, tz)}" for lang in ("fr", "en")}
    top = max(stats, key=lambda n: stats[n][1])
    lo, hi, (t_last, v_last) = stats[top]
    if len(series) == 1:
        fr = (
            f"{span['fr']} : de {number(lo, 'fr')} à {_q(hi, unit, 'fr')}, dernière valeur "
            f"{_q(v_last, unit, 'fr')} le {local(t_last, tz)}."
        )
        en = (
            f"{span['en']}: from {number(lo)} to {_q(hi, unit)}, last value "
            f"{_q(v_last, unit)} at {local(t_last, tz)}."
        )
    else:
        fr = (
            f"{len(series)} séries, {span['fr']} ; la plus haute, {top}, atteint "
            f"{_q(hi, unit, 'fr')}."
        )
        en = f"{len(series)} series, {span['en']}; the highest, {top}, reaches {_q(hi, unit)}."
    ranked = sorted(stats, key=lambda n: -stats[n][1])[:MAX_SERIES_ROWS]
    data = _data(
        ["série / series", "min", "max", "dernière / last", "à / at"],
        [
            [n, number(stats[n][0]), number(stats[n][1]), number(stats[n][2][1]),
             local(stats[n][2][0], tz)]
            for n in ranked
        ],
    )  # fmt: skip
    return _figure(line_chart(series, unit, tz, cap_id), cap_id, fr, en, data)


def _bars(panel: Panel, rows: Rows, cap_id: str) -> str:
    """One bar per group (tags), or per field when the query selects several."""
    fields = [k for k, v in rows[0].items() if k != "time" and not isinstance(v, str)]
    palette = ("#1f5fa8", "#8a4f00", "#2e6b30", "#6a3d9a")
    if len(fields) > 1:
        values = {f: sum(float(r.get(f) or 0) for r in rows) for f in fields}
        bars = [(f, values[f], palette[i % len(palette)]) for i, f in enumerate(fields)]
    else:
        last = {k: v[-1][1] for k, v in _series(rows).items()}
        names = sorted(last, key=lambda n: -last[n])[:MAX_SERIES_ROWS]
        bars = [(n, last[n], _level(panel, last[n])[0]) for n in names]
    if not bars:
        return _empty()
    unit = unit_label(panel.unit)
    name, value, _ = max(bars, key=lambda b: b[1])
    fr = f"{len(bars)} barres ; la plus grande : {name}, {_q(value, unit, 'fr')}."
    en = f"{len(bars)} bars; the largest: {name}, {_q(value, unit)}."
    data = _data(
        ["nom / name", f"valeur / value {unit}".strip()], [[n, number(v)] for n, v, _ in bars]
    )
    return _figure(bar_chart(bars, unit, cap_id), cap_id, fr, en, data)


def _map(panel: Panel, rows: Rows, cap_id: str) -> str:
    placed = [r for r in rows if r.get("lat") is not None and r.get("lon") is not None]
    if not placed:
        return _empty()
    hit = [r for r in placed if float(r.get("alerts") or 0) > 0]
    ok, alerted = _LEVELS["green"][0], _LEVELS["red"][0]
    assets = [(float(r["lat"]), float(r["lon"]), r in hit) for r in placed]
    fr = (
        f"{len(placed)} équipements placés sur leur position ; {len(hit)} ont levé des alertes "
        "(carrés rouges), les autres sont des points verts."
    )
    en = (
        f"{len(placed)} assets at their positions; {len(hit)} raised alerts (red squares), "
        "the others are green dots."
    )
    data = _data(
        ["équipement / asset", "lat", "lon", "alertes / alerts"],
        [
            [str(r.get("device", "")), f"{r['lat']:.5f}", f"{r['lon']:.5f}", _fmt(r.get("alerts"))]
            for r in hit[:MAX_SERIES_ROWS]
        ],
    )
    return _figure(map_chart(assets, cap_id, ok, alerted), cap_id, fr, en, data)


def _stat(panel: Panel, rows: Rows) -> str:
    values = [v for s in _series(rows).values() for _, v in s]
    total = sum(values) if values else 0.0
    colour, fr, en = _level(panel, total)
    unit = html.escape(unit_label(panel.unit))
    word = f" <small>({_both(fr, en)})</small>" if panel.thresholds else ""
    return f'<p class="stat" style="color:{colour}">{_q(total, unit)}{word}</p>'


def _rows_table(rows: Rows) -> str:
    columns = [c for c in rows[0] if c != "time"]
    return _table(columns, [[_fmt(r.get(c)) for c in columns] for r in rows[:50]])


def _empty() -> str:
    return f'<p class="empty">{_both("pas de données", "no data")}</p>'


def render_panel(panel: Panel, rows: Rows, tz: ZoneInfo | None = None, panel_id: str = "p") -> str:
    """One panel as HTML: the chart with its text equivalent and data, the number or the
    table."""
    tz = tz or ZoneInfo(DEFAULT_TIMEZONE)
    title = f"<h3>{html.escape(panel.fr or panel.title)}"
    title += f'<small lang="en">{html.escape(panel.title)}</small></h3>'
    width = f"calc({panel.width / 24 * 100:.1f}% - 1rem)"
    if not rows:
        body = _empty()
    elif panel.viz is Viz.STAT:
        body = _stat(panel, rows)
    elif panel.viz is Viz.TABLE:
        body = _rows_table(rows)
    elif panel.viz is Viz.BARGAUGE:
        body = _bars(panel, rows, f"{panel_id}-cap")
    elif panel.viz is Viz.GEOMAP:
        body = _map(panel, rows, f"{panel_id}-cap")
    else:
        body = _timeseries(panel, rows, tz, f"{panel_id}-cap")
    kind = "panel n" if panel.viz is Viz.STAT else "panel"
    return f'<div class="{kind}" style="width:{width}">{title}{body}</div>'


def render(
    dashboards: Sequence[Dashboard],
    results: Mapping[tuple[str, str], Rows],
    territory: str,
    period: str,
    generated: datetime,
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """The whole page; ``results`` maps (dashboard uid, panel title) to its query's rows.
    Times are the territory's local time."""
    tz = ZoneInfo(timezone)
    sections = []
    for n, dash in enumerate(dashboards):
        panels = "".join(
            render_panel(p, results.get((dash.uid, p.title), []), tz, f"d{n}p{i}")
            for i, p in enumerate(dash.panels)
        )
        sections.append(
            f'<section id="{dash.uid}" aria-labelledby="{dash.uid}-h"><h2 id="{dash.uid}-h">'
            f'{html.escape(dash.fr or dash.title)} <small lang="en">{html.escape(dash.title)}'
            f'</small></h2><div class="grid">{panels}</div></section>'
        )
    told = summary(dashboards, results)
    said = (
        '<div class="summary">'
        + f"<p>{html.escape(' '.join(told['fr']))}</p>"
        + f'<p lang="en">{html.escape(" ".join(told["en"]))}</p></div>'
        if told
        else ""
    )
    nav = (
        '<nav aria-label="Sommaire / Contents"><ul>'
        + "".join(
            f'<li><a href="#{d.uid}">{html.escape(d.fr or d.title)}</a></li>' for d in dashboards
        )
        + "</ul></nav>"
        if len(dashboards) > 1
        else ""
    )
    when = local(int(generated.timestamp() * 1000), tz, "%Y-%m-%d %H:%M %Z")
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Vigie - {html.escape(territory)} - bulletin</title><style>{_STYLE}</style>"
        '</head><body><a class="skip" href="#main">Aller au contenu '
        '<span lang="en">/ Skip to content</span></a>'
        f"<header><h1>Vigie - {html.escape(territory)} <small>bulletin</small></h1>"
        '<p class="meta">'
        + _both(
            f"Période : {period} · généré le {when} · données de la collectivité",
            f"/ period: {period} · generated {when} · the territory's own data",
        )
        + "</p></header>"
        f'{nav}<main id="main">{said}' + "".join(sections) + "</main></body></html>"
    )


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements = 0
        self.requests = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1
        for name, value in attrs:
            if name in ("src", "href", "data", "poster") and value and not value.startswith("#"):
                self.requests += 1  # anything the browser would fetch beside the page

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def page_metrics(page: str) -> tuple[int, int, float]:
    """What the EcoIndex reads of a page: its elements, its requests (the page itself and
    anything it fetches) and its weight in kilobytes."""
    counter = _Counter()
    counter.feed(page)
    return counter.elements, 1 + counter.requests, len(page.encode()) / 1024
