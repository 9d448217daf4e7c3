"""Runs the dashboards' queries against InfluxDB and writes the static snapshot (I/O side)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dashboards.snapshot import Rows, render
from dashboards.spec import Dashboard
from dashboards.spec import render as render_query
from vigie import influxql
from vigie.sections import InfluxSettings

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def interval_for(since: str, points: int = 150) -> str:
    """A GROUP BY time() step giving about ``points`` points over the period (at least 1m)."""
    match = re.fullmatch(r"(\d+)([mhdw])", since)
    if not match:
        raise ValueError(f"period {since!r}: expected a number and m, h, d or w (e.g. 7d)")
    seconds = int(match[1]) * _UNITS[match[2]]
    return f"{max(1, seconds // points // 60)}m"


def collect(
    influx: InfluxSettings, dashboards: Sequence[Dashboard], territory: str, since: str
) -> dict[tuple[str, str], Rows]:
    """Each panel's rows for the period, keyed by (dashboard uid, panel title)."""
    step = interval_for(since)
    return {
        (d.uid, p.title): influxql.query(influx, render_query(p.query, territory, since, step))
        for d in dashboards
        for p in d.panels
    }


def write_snapshot(
    influx: InfluxSettings,
    dashboards: Sequence[Dashboard],
    territory: str,
    since: str,
    out: Path,
) -> Path:
    results = collect(influx, dashboards, territory, since)
    page = render(dashboards, results, territory, f"{since} / {since}", datetime.now(UTC))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
