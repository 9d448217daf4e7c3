"""Runs the dashboards' queries against InfluxDB and writes the static snapshot (I/O side)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dashboards.snapshot import Rows, page_metrics, render
from dashboards.spec import Dashboard
from dashboards.spec import render as render_query
from vigie import influxql
from vigie.localtime import DEFAULT_TIMEZONE
from vigie.sections import InfluxSettings

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# GROUP BY steps a reader can name: a period is bucketed in the first that gives at most
# about 150 points
STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)


def _seconds(since: str) -> int:
    match = re.fullmatch(r"(\d+)([mhdw])", since)
    if not match:
        raise ValueError(f"period {since!r}: expected a number and m, h, d or w (e.g. 7d)")
    return int(match[1]) * _UNITS[match[2]]


def step_for(span_s: int, points: int = 150) -> str:
    """The GROUP BY time() step for a period of ``span_s`` seconds."""
    need = max(1, span_s // points)
    step = next((s for s in STEPS if s >= need), STEPS[-1])
    if step % 86400 == 0:
        return f"{step // 86400}d"
    return f"{step // 3600}h" if step % 3600 == 0 else f"{step // 60}m"


def interval_for(since: str, points: int = 150) -> str:
    """The step for a period back from now (``24h``, ``7d``, ``40w``)."""
    return step_for(_seconds(since), points)


@dataclass(frozen=True)
class Period:
    """What a snapshot covers: back from now (``since``), or from one instant to another."""

    since: str = "7d"
    start_ms: int | None = None
    end_ms: int | None = None

    def __post_init__(self) -> None:
        if (self.start_ms is None) != (self.end_ms is None):
            raise ValueError("a period needs both its start and its end")
        if self.start_ms is not None and self.end_ms is not None:
            if self.end_ms <= self.start_ms:
                raise ValueError("the period ends before it starts")
        else:
            _seconds(self.since)

    @property
    def span_s(self) -> int:
        if self.start_ms is not None and self.end_ms is not None:
            return (self.end_ms - self.start_ms) // 1000
        return _seconds(self.since)

    @property
    def time_filter(self) -> str | None:
        if self.start_ms is None:
            return None
        return f"time >= {self.start_ms}ms AND time < {self.end_ms}ms"

    def label(self) -> str:
        if self.start_ms is None or self.end_ms is None:
            return f"{self.since} / {self.since}"
        first, last = (
            datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
            for t in (self.start_ms, self.end_ms)
        )
        return f"{first} - {last}"


def collect(
    influx: InfluxSettings,
    dashboards: Sequence[Dashboard],
    territory: str,
    period: Period | str,
    timezone: str = DEFAULT_TIMEZONE,
) -> dict[tuple[str, str], Rows]:
    """Each panel's rows for the period, keyed by (dashboard uid, panel title)."""
    period = Period(period) if isinstance(period, str) else period
    step = step_for(period.span_s)
    return {
        (d.uid, p.title): influxql.query(
            influx,
            render_query(
                p.query,
                territory,
                period.since,
                step,
                time_filter=period.time_filter,
                timezone=timezone,
            ),
        )
        for d in dashboards
        for p in d.panels
    }


def write_snapshot(
    influx: InfluxSettings,
    dashboards: Sequence[Dashboard],
    territory: str,
    period: Period | str,
    out: Path,
    timezone: str = DEFAULT_TIMEZONE,
) -> Path:
    """Query every panel over the period and write the bulletin as one HTML file."""
    period = Period(period) if isinstance(period, str) else period
    results = collect(influx, dashboards, territory, period, timezone)
    page = render(dashboards, results, territory, period.label(), datetime.now(UTC), timezone)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


@dataclass(frozen=True)
class Weight:
    """A page's eco-design figures: what the EcoIndex reads, and its grade."""

    elements: int
    requests: int
    kilobytes: float
    score: float
    grade: str


def weigh(page: Path) -> Weight:
    """The EcoIndex of a page from its elements, requests and weight (``ecoindex-compute``,
    the reference implementation's formula)."""
    import asyncio

    from ecoindex.compute import compute_ecoindex

    elements, requests, kilobytes = page_metrics(page.read_text(encoding="utf-8"))
    index = asyncio.run(compute_ecoindex(nodes=elements, size=kilobytes, requests=requests))
    return Weight(elements, requests, kilobytes, float(index.score), str(index.grade.value))


CHROMIUMS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def chromium() -> str | None:
    """The headless Chromium of this machine, if it has one."""
    return next((shutil.which(name) for name in CHROMIUMS if shutil.which(name)), None)


def print_pdf(page: Path, out: Path, timeout_s: float = 120) -> Path:
    """The page printed to A4 by a headless Chromium (its print stylesheet: one dashboard
    per page, no chart cut)."""
    browser = chromium()
    if browser is None:
        raise FileNotFoundError(
            "no headless Chromium to print with: apt-get install chromium-headless-shell"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    run = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={out}", page.resolve().as_uri()],
        check=False, capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    if not out.exists():
        raise OSError(f"{browser} did not print {page}: {run.stderr[-500:]}")
    return out
