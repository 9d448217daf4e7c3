"""The bulletin as its readers get it: loaded in Debian's headless Chromium and audited with
axe-core against WCAG 2.1 A and AA (the basis of the French RGAA), weighed for the eco-design
budget (the EcoIndex's own formula), and printed to A4 PDF.

The rows are built here, at the sizes a real territory gives the queries (a week of hourly
points, a commune of 2,000 assets on the map, 30 devices per drill-down chart), because what
is audited is the page: its structure, its text equivalents, its weight. The end-to-end ground
truth test audits the same page drawn from a real run.
"""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from dashboards.catalog import ALL, HYPERVISOR
from dashboards.snapshot import render
from dashboards.spec import Panel, Viz
from reports.bulletin import print_pdf, weigh
from tests import browser
from vigie.contracts.alerts import AlertKind

pytestmark = pytest.mark.integration

T0 = 1_782_900_000_000  # a Monday of July 2026, 10:00 UTC
HOUR = 3_600_000
KINDS = [str(k) for k in AlertKind]


def _rows(panel: Panel, devices: int, k: int = 0) -> list[dict]:
    """Rows shaped like the panel's query gives them, at a real territory's sizes (``k``
    shifts the values: each chart's caption is its own)."""
    if panel.viz is Viz.GEOMAP:
        return [
            {"device": f"lamp-{i:05d}", "vertical": "lighting", "lat": 43.6 + (i % 50) / 400,
             "lon": 3.85 + (i // 50) / 300, "alerts": 1 if i % 23 == 0 else 0}
            for i in range(2000)
        ]  # fmt: skip
    if panel.viz is Viz.STAT:
        return [{"time": T0, "sum": 812.34}]
    if "kind" in panel.query and panel.viz is Viz.BARGAUGE:
        return [{"kind": kind, "sum": float(n + k)} for n, kind in enumerate(KINDS)]
    if panel.viz is Viz.BARGAUGE and 'AS "savings"' in panel.query:
        return [
            {"time": T0 + d * 24 * HOUR, "savings": 40.0 + d, "footprint": 8.2 + k}
            for d in range(7)
        ]
    if panel.viz in (Viz.BARGAUGE, Viz.TABLE):
        return [{"device": f"dev-{i:03d}", "last": 10.0 + i + k} for i in range(devices)]
    grouped = "GROUP BY time(" in panel.query and '"device"' in panel.query.split("GROUP BY")[1]
    return [
        {"time": T0 + h * HOUR, **({"device": f"dev-{d:03d}"} if grouped else {}),
         "mean": 50 + k + 40 * math.sin(h / 24 * 2 * math.pi + d)}
        for h in range(168)
        for d in range(devices if grouped else 1)
    ]  # fmt: skip


def _page(tmp_path, dashboards, name: str):
    panels = [(d.uid, p) for d in dashboards for p in d.panels]
    results = {(uid, p.title): _rows(p, 30, k) for k, (uid, p) in enumerate(panels)}
    page = render(dashboards, results, "montpellier", "7d", datetime.fromtimestamp(T0 / 1000, UTC))
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    return path


@pytest.mark.parametrize("which", ["hypervisor", "all"])
def test_the_bulletin_passes_wcag_21_aa_in_a_real_browser(tmp_path, which):
    dashboards = (HYPERVISOR,) if which == "hypervisor" else ALL
    page = _page(tmp_path, dashboards, f"{which}.html")
    audit = browser.audit(page)
    assert audit.violations == [], audit.violations
    assert audit.passes > 10  # the rules ran on something
    assert audit.requests == [page.resolve().as_uri()], "nothing fetched beside the page"
    assert audit.elements == weigh(page).elements, "the command counts what the browser holds"


def test_the_hypervisor_bulletin_keeps_its_weight_budget_and_an_ecoindex_of_a_or_b(tmp_path):
    page = _page(tmp_path, (HYPERVISOR,), "hypervisor.html")
    weight = weigh(page)
    audit = browser.audit(page)
    print(
        f"hypervisor bulletin: {weight.kilobytes:.0f} KB, {audit.elements} elements, "
        f"{len(audit.requests)} request, EcoIndex {weight.score:.0f} ({weight.grade})"
    )
    assert page.stat().st_size < 250 * 1024
    assert "<script" not in page.read_text()
    assert weight.grade in ("A", "B"), weight


def test_the_bulletin_prints_one_dashboard_per_page_and_cuts_no_chart(tmp_path):
    dashboards = ALL
    page = _page(tmp_path, dashboards, "all.html")
    pdf = print_pdf(page, tmp_path / "all.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert "A4" in info.stdout or "595.2" in info.stdout
    texts = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in range(1, pages + 1)
    ]  # fmt: skip
    # each dashboard starts a page of its own: its title heads that page
    starts = [next(i for i, t in enumerate(texts) if (d.fr or d.title) in t) for d in dashboards]
    assert starts == sorted(starts) and len(set(starts)) == len(dashboards)
    for dash, start in zip(dashboards[1:], starts[1:], strict=True):
        head = next(line for line in texts[start].splitlines() if line.strip())
        assert (dash.fr or dash.title) in head, (dash.title, head)
    # no chart cut: a chart's title above it and its caption below it on the same page
    flat = ["".join(t.split()) for t in texts]
    charts = re.findall(
        r'<h3>([^<]+)<small lang="en">(?:(?!<h3>).)*?<figcaption id="[^"]+">([^<]+) <span',
        page.read_text(),
    )
    assert len(charts) == sum(
        p.viz not in (Viz.STAT, Viz.TABLE) for d in dashboards for p in d.panels
    )
    # each caption by its own word pairs with a figure in them (a page's text comes out in
    # reading order, a wrapped line may land apart, so pairs rather than whole sentences)
    pairs = [
        {a + b for a, b in pairwise(html.unescape(c).split()) if re.search(r"\d", a + b)}
        for _, c in charts
    ]
    cut = []
    for (title, _), mine in zip(charts, pairs, strict=True):
        own = mine - {p for other in pairs if other is not mine for p in other}
        on = {k for k, t in enumerate(flat) if "".join(html.unescape(title).split()) in t}
        under = {k for k, t in enumerate(flat) for pair in own if pair in t}
        if not own or len(on) != 1 or on != under:
            cut.append((html.unescape(title), sorted(own)[:3], sorted(on), sorted(under)))
    assert not cut, cut
    for old in browser.artefact("x").parent.glob("bulletin-print-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(browser.artefact("bulletin-print"))],
        check=True,
    )
    assert pages <= 2 * len(dashboards), pages


def test_the_command_writes_weighs_and_prints_the_bulletin(settings, isolated, tmp_path):
    """``vigie dashboards snapshot --pdf`` against the real InfluxDB (a territory with no data
    yet: every panel says so), then the figures it prints checked against the file."""
    out = tmp_path / "bulletin.html"
    run = subprocess.run(
        [sys.executable, "-m", "shell", "dashboards", "snapshot", "--since", "1d", "--out",
         str(out), "--pdf"],
        env={**os.environ, **isolated, "COLUMNS": "200"}, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    said = " ".join((run.stdout + run.stderr).split())
    weight = weigh(out)
    assert f"{weight.elements} elements, 0 requests beyond the page, no script" in said
    assert f"EcoIndex {weight.score:.0f} ({weight.grade})" in said
    assert "pas de données" in out.read_text()
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert browser.audit(out).violations == []
