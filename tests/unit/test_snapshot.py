"""The static snapshot: every panel rendered from rows, bilingual, self-contained."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

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
    assert page.count('<div class="panel') == sum(len(d.panels) for d in ALL)
    for dash in ALL:
        assert html.escape(dash.fr) in page and html.escape(dash.title) in page
    assert not any(f'{a}="http' in page for a in ("src", "href")) and "<script" not in page
    assert "pas de données" not in page


def test_a_stat_sums_and_says_its_level_in_words_and_an_empty_panel_says_so():
    panel = Panel("Open", "q", viz=Viz.STAT, thresholds=((0, "green"), (10, "red")), fr="Ouvert")
    out = render_panel(panel, [{"time": T0, "open": 4.0}, {"time": T0, "open": 7.0}])
    assert "11.0" in out and "#b3261e" in out
    assert "alerte" in out and '<span lang="en" class="en">alert</span>' in out  # not colour only
    assert "pas de données" in render_panel(panel, []) and "no data" in render_panel(panel, [])


def test_the_hypervisor_map_places_assets_and_marks_alerts_by_shape():
    geo = next(p for p in HYPERVISOR.panels if p.viz is Viz.GEOMAP)
    out = render_panel(geo, _rows(geo))
    assert out.count("h0") == 3 and out.count("h8v8h-8z") == 2  # dots, squares
    assert "5 assets at their positions; 2 raised alerts (red squares)" in out


def test_every_chart_has_a_text_equivalent_and_its_data_and_headings_are_in_order():
    results = {(d.uid, p.title): _rows(p) for d in ALL for p in d.panels}
    page = render(ALL, results, "demo", "7d", datetime(2026, 11, 22, tzinfo=UTC))
    charts = page.count('<svg class="chart" role="img" aria-labelledby="')
    assert charts == sum(p.viz not in (Viz.STAT, Viz.TABLE) for d in ALL for p in d.panels)
    labels = re.findall(r'<svg class="chart" role="img" aria-labelledby="([^"]+)"', page)
    assert all(f'<figcaption id="{label}">' in page for label in labels)
    assert page.count("<details><summary>") == charts
    levels = [int(h) for h in re.findall(r"<h([1-6])[ >]", page)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    assert page.startswith('<!DOCTYPE html><html lang="fr">') and 'href="#main"' in page
    assert '<main id="main">' in page and page.count('lang="en"') > 2 * len(ALL)


def test_times_are_the_territorys_local_time():
    series = next(p for p in HYPERVISOR.panels if p.viz is Viz.TIMESERIES)
    rows = [{"time": 1_782_990_000_000, "v": 1.0}, {"time": 1_782_993_600_000, "v": 2.0}]
    paris = render_panel(series, rows, ZoneInfo("Europe/Paris"))
    cayenne = render_panel(series, rows, ZoneInfo("America/Cayenne"))
    assert "02/07 13:00" in paris and "02/07 08:00" in cayenne  # 11:00 UTC, summer


def test_the_summary_reads_the_hypervisor_aloud_in_both_languages():
    from dashboards.summary import summary

    keyed = {p.key: p.title for p in HYPERVISOR.panels if p.key}
    results = {
        ("vigie-hypervisor", keyed["lighting_24h"]): [{"time": T0, "sum": 800.0}],
        ("vigie-hypervisor", keyed["lighting_week_ago"]): [{"time": T0, "sum": 1000.0}],
        ("vigie-hypervisor", keyed["open_alerts"]): [
            {"kind": "lamp_failure", "sum": 3.0},
            {"kind": "suspected_leak", "sum": 1.0},
            {"kind": "congestion", "sum": 0.0},
        ],
    }
    said = summary([HYPERVISOR], results)
    assert said["fr"][0] == (
        "L'éclairage public a consommé 800 kWh ces dernières 24 heures, 20 % de moins que les "
        "mêmes 24 heures de la semaine précédente."
    )
    assert said["en"][1] == "No water distribution was measured over the last 24 hours."
    assert said["en"][2] == (
        "4 alerts are open; the most frequent: lamp failure (3) and suspected water leak (1)."
    )
    assert said["en"][3] == "No daily carbon balance has been computed yet."
    assert summary([d for d in ALL if d is not HYPERVISOR], results) == {}


def test_the_summary_says_the_latest_daily_carbon_balance_with_its_range():
    from dashboards.summary import summary

    title = next(p.title for p in HYPERVISOR.panels if p.key == "net_co2e")
    days = [
        {"time": T0, "low": -3.0, "middle": -1.0, "high": 0.5},
        {"time": T0 + 86_400_000, "low": 0.55, "middle": 1.29, "high": 2.03},
        {"time": T0 + 2 * 86_400_000, "low": None, "middle": None, "high": None},  # not yet
    ]
    said = summary([HYPERVISOR], {("vigie-hypervisor", title): days})
    assert said["en"][3] == (
        "On the latest daily balance, manufacturing included, the savings the platform enabled "
        "outweigh its own footprint by 1.3 kg CO2e (0.55 to 2.0)."
    )
    assert said["fr"][3] == (
        "Au dernier bilan journalier, fabrication comprise, les économies permises par la "
        "plateforme dépassent son empreinte de 1,3 kg CO2e (de 0,55 à 2,0)."
    )
    said = summary([HYPERVISOR], {("vigie-hypervisor", title): days[:1]})
    assert said["en"][3] == (
        "On the latest daily balance, manufacturing included, the platform's own footprint "
        "outweighs the savings it enabled by 1.0 kg CO2e (-3.0 to 0.50)."
    )
    fr = said["fr"][3]
    assert "l'empreinte de la plateforme dépasse les économies qu'elle permet de 1,0" in fr


def test_page_metrics_count_what_the_ecoindex_reads():
    from dashboards.snapshot import page_metrics

    page = '<html><head><title>t</title></head><body><svg><path d="M0 0"/></svg></body></html>'
    assert page_metrics(page)[:2] == (6, 1)
    assert page_metrics('<img src="x.png"><a href="#top">top</a>')[:2] == (2, 2)


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
