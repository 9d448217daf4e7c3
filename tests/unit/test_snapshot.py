"""The static snapshot: every panel rendered from rows, bilingual, self-contained."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from dashboards.catalog import ALL, HYPERVISOR
from dashboards.snapshot import render, render_panel
from dashboards.spec import Panel, Viz
from reports.bulletin import interval_for

T0 = 1_700_000_000_000


def _rows(panel: Panel) -> list[dict]:
    if panel.viz is Viz.GEOMAP:
        return [
            {"device": f"d{i}", "lat": 45.0 + i / 100, "lon": 4.0, "alerts": i % 2}
            for i in range(5)
        ]
    return [{"time": T0 + i * 60_000, "device": f"d{i % 2}", "v": float(i)} for i in range(10)]


def test_every_panel_renders_with_both_titles_and_no_external_resource():
    results = {(d.uid, p.title): _rows(p) for d in ALL for p in d.panels}
    page = render(ALL, results, "demo", "7d", datetime(2026, 11, 22, tzinfo=UTC))
    assert page.count('class="panel"') == sum(len(d.panels) for d in ALL)
    for dash in ALL:
        assert html.escape(dash.fr) in page and html.escape(dash.title) in page
    assert not any(f'{a}="http' in page for a in ("src", "href")) and "<script" not in page
    assert "pas de données" not in page


def test_a_stat_sums_and_colours_by_threshold_and_an_empty_panel_says_so():
    panel = Panel("Open", "q", viz=Viz.STAT, thresholds=((0, "green"), (10, "red")), fr="Ouvert")
    out = render_panel(panel, [{"time": T0, "open": 4.0}, {"time": T0, "open": 7.0}])
    assert "11.0" in out and "#c4162a" in out
    assert "pas de données / no data" in render_panel(panel, [])


def test_the_hypervisor_map_places_assets():
    geo = next(p for p in HYPERVISOR.panels if p.viz is Viz.GEOMAP)
    svg = render_panel(geo, _rows(geo))
    assert "<svg" in svg and svg.count("<use") + svg.count("<path") >= 5


def test_interval_follows_the_period_in_steps_a_reader_can_name():
    assert interval_for("24h") == "15m"
    assert interval_for("7d") == "3h"
    assert interval_for("40w") == "7d"
    with pytest.raises(ValueError, match="7d"):
        interval_for("a week")


def test_a_period_of_its_own_is_bucketed_for_its_length_not_back_from_now():
    """A replay from March seen with --since 40w became two points per series."""
    from dashboards.spec import render
    from reports.bulletin import Period, step_for

    march = Period(start_ms=1_774_000_000_000, end_ms=1_774_000_000_000 + 50 * 3_600_000)
    assert step_for(march.span_s) == "30m", "50 hours: 100 points"
    query = render("SELECT x FROM y WHERE $timeFilter", "t", time_filter=march.time_filter)
    assert "time >= 1774000000000ms AND time < 1774180000000ms" in query
    assert "now()" not in query
    with pytest.raises(ValueError, match="before"):
        Period(start_ms=2, end_ms=1)
