"""Dashboards as code: panels with InfluxQL, units and thresholds, independent of Grafana.

Queries are InfluxQL so that they run on InfluxDB 1.x, 2.x (v1 compatibility, DBRP mappings
made by the sink) and 3.x. They use Grafana's ``$timeFilter`` and ``$__interval`` macros, the
``$territory`` variable and, on the technical dashboards, the ``$district`` and ``$device``
drill-down variables (regular expressions: Grafana writes a multiple choice as ``(a|b)``);
``render`` substitutes them for other readers (tests, the static snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from vigie.localtime import DEFAULT_TIMEZONE


class Viz(StrEnum):
    TIMESERIES = "timeseries"
    STAT = "stat"
    TABLE = "table"
    BARGAUGE = "bargauge"
    GEOMAP = "geomap"


@dataclass(frozen=True)
class Panel:
    title: str
    query: str
    unit: str = "none"
    viz: Viz = Viz.TIMESERIES
    thresholds: tuple[tuple[float, str], ...] = ()  # (from value, colour)
    width: int = 12
    height: int = 8
    fr: str = ""  # the title in French (the snapshot is bilingual)
    key: str = ""  # what the bulletin's plain-language summary reads it as


@dataclass(frozen=True)
class Annotation:
    """Events marked on a dashboard's time axis: an InfluxQL query returning one row per
    event, the column that gives its text and the columns shown as its tags."""

    name: str
    query: str
    text: str
    tags: tuple[str, ...]
    colour: str = "red"


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    panels: tuple[Panel, ...]
    audience: str = "technical services"
    tags: tuple[str, ...] = field(default_factory=tuple)
    fr: str = ""
    drill_down: bool = False  # $district and $device variables
    annotations: tuple[Annotation, ...] = ()


VARIABLES = ("territory", "district", "device")


def in_zone(query: str, timezone: str) -> str:
    """A query grouping by time, grouped in the territory's local time: a day bucket is a
    local day (23 or 25 hours on the changes), not a UTC one."""
    return f"{query} tz('{timezone}')" if "GROUP BY time(" in query else query


def render(
    query: str,
    territory: str,
    since: str = "30d",
    interval: str = "1h",
    district: str = ".*",
    device: str = ".*",
    time_filter: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> str:
    """A panel query as plain InfluxQL, Grafana's macros and variables replaced; the period
    is back from now (``since``) unless ``time_filter`` names it; time buckets in the
    territory's time zone."""
    return (
        in_zone(query, timezone)
        .replace("$timeFilter", time_filter or f"time > now() - {since}")
        .replace("$__interval", interval)
        .replace("$territory", territory)
        .replace("$district", district)
        .replace("$device", device)
    )
