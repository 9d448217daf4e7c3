"""Grafana dashboard JSON from the specification, built with grafana-foundation-sdk.

The SDK's types are generated from Grafana's own dashboard schema, so the models it encodes
are the ones Grafana reads; it has no InfluxDB query type, so ``InfluxQuery`` supplies the
target Grafana's InfluxDB data source expects for a raw InfluxQL query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, geomap, stat, table, timeseries
from grafana_foundation_sdk.builders import common as gcommon
from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as mcommon
from grafana_foundation_sdk.models import dashboard as model

from dashboards.spec import Annotation, Dashboard, Panel, Viz, in_zone
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.localtime import DEFAULT_TIMEZONE

DATASOURCE_UID = "vigie-influxdb"
DATASOURCE = model.DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
_TAGS = f'SHOW TAG VALUES FROM {at(M.AGG_1M)} WITH KEY = "{{key}}"'


class InfluxQLTarget(cogvariants.Dataquery):
    """A raw InfluxQL query of Grafana's InfluxDB data source."""

    def __init__(self, query: str, ref_id: str = "A", result_format: str = "time_series"):
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "rawQuery": True,
            "query": self.query,
            "resultFormat": self.result_format,
        }


class InfluxQuery(cogbuilder.Builder[InfluxQLTarget]):
    def __init__(self, query: str, result_format: str = "time_series") -> None:
        self._target = InfluxQLTarget(query, result_format=result_format)

    def build(self) -> InfluxQLTarget:
        return self._target


def _thresholds(panel: Panel) -> gdash.ThresholdsConfig:
    steps = [
        model.Threshold(value=None if i == 0 else v, color=c)
        for i, (v, c) in enumerate(panel.thresholds or ((0, "green"),))
    ]
    return gdash.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(steps)


def _geomap(panel: Panel) -> geomap.Panel:
    """Assets as markers coloured by the panel's thresholds: the query returns one row per
    device with ``lat``, ``lon`` and a state value."""
    markers = (
        gcommon.MapLayerOptions()
        .type("markers")
        .name("Assets")
        .location(
            gcommon.FrameGeometrySource()
            .mode(mcommon.FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .config({"style": {"color": {"field": "alerts"}, "size": {"fixed": 6}}})
        .tooltip(True)
    )
    return (
        geomap.Panel()
        .view(geomap.MapViewConfig().id("fit").zoom(13))
        .controls(geomap.ControlsOptions().show_zoom(True).show_scale(True))
        .basemap(gcommon.MapLayerOptions().type("osm-standard").name("Map"))
        .layers([markers])
    )


_BUILDERS: dict[Viz, Callable[[], Any]] = {
    Viz.TIMESERIES: timeseries.Panel,
    Viz.STAT: stat.Panel,
    Viz.TABLE: table.Panel,
    Viz.BARGAUGE: bargauge.Panel,
}


def _panel(panel: Panel, pid: int, timezone: str) -> cogbuilder.Builder[model.Panel]:
    builder: Any = _geomap(panel) if panel.viz is Viz.GEOMAP else _BUILDERS[panel.viz]()
    tabular = panel.viz in (Viz.TABLE, Viz.GEOMAP)
    return (
        builder.id(pid)
        .title(panel.title)
        .datasource(DATASOURCE)
        .with_target(
            InfluxQuery(in_zone(panel.query, timezone), "table" if tabular else "time_series")
        )
        .unit(panel.unit)
        .thresholds(_thresholds(panel))
        .span(panel.width)
        .height(panel.height)
    )


def _variable(name: str, query: str, label: str) -> gdash.QueryVariable:
    variable = (
        gdash.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    if name != "territory":
        variable = variable.multi(True).include_all(True).all_value(".*")
    return variable


def dashboard_builder(dash: Dashboard, timezone: str = DEFAULT_TIMEZONE) -> gdash.Dashboard:
    """A dashboard of the catalogue as Grafana's builder, in the territory's time zone."""
    builder = (
        gdash.Dashboard(dash.title)
        .uid(dash.uid)
        .tags(["vigie", *dash.tags])
        .description(f"For {dash.audience}.")
        .timezone(timezone)  # the territory's days, wherever the screen is
        .time("now-24h", "now")
        .refresh("1m")
        .readonly()
        .with_variable(_variable("territory", _TAGS.format(key="territory"), "Territory"))
    )
    if dash.drill_down:
        builder = builder.with_variable(
            _variable(
                "district",
                _TAGS.format(key="district") + " WHERE \"territory\" = '$territory'",
                "District",
            )
        ).with_variable(
            _variable(
                "device",
                _TAGS.format(key="device")
                + ' WHERE "territory" = \'$territory\' AND "district" =~ /^$district$/',
                "Device",
            )
        )
    for pid, panel in enumerate(dash.panels, start=1):
        builder = builder.with_panel(_panel(panel, pid, timezone))
    return builder


def annotation_json(mark: Annotation) -> dict[str, Any]:
    """An annotation query of Grafana's InfluxDB data source.

    The SDK's ``AnnotationTarget`` is the shape of Grafana's built-in annotation source
    (tags, limit); an InfluxDB annotation's target is an InfluxQL query with the columns that
    give each event's text and tags (``textColumn``, ``tagsColumn``, comma-separated), the
    shape the data source's annotation editor saves and its ``prepareAnnotation`` reads."""
    return {
        "name": mark.name,
        "datasource": DATASOURCE.to_json(),
        "enable": True,
        "hide": False,
        "iconColor": mark.colour,
        "target": {
            "refId": "Anno",
            "query": mark.query,
            "rawQuery": True,
            "resultFormat": "table",
            "fromAnnotations": True,
            "textColumn": mark.text,
            "tagsColumn": ",".join(mark.tags),
            "titleColumn": "",
            "timeEndColumn": "",
        },
    }


def dashboard_json(dash: Dashboard, timezone: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    """The Grafana dashboard model of one specification, as JSON data, in the territory's
    time zone (day boundaries, and the queries' time buckets)."""
    built = dashboard_builder(dash, timezone).build()
    data: dict[str, Any] = json.loads(JSONEncoder().encode(built))
    for panel in data["panels"]:
        if panel.get("options") is None:
            panel["options"] = {}  # the panel's own defaults
    if dash.annotations:
        marks = [annotation_json(m) for m in dash.annotations]
        data["annotations"] = {"list": data.get("annotations", {}).get("list", []) + marks}
    return data


def build(
    dashboards: tuple[Dashboard, ...], out: Path, timezone: str = DEFAULT_TIMEZONE
) -> list[Path]:
    """Write one JSON file per dashboard, as Grafana's file provisioning reads them."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for dash in dashboards:
        path = out / f"{dash.uid}.json"
        path.write_text(json.dumps(dashboard_json(dash, timezone), indent=1))
        paths.append(path)
    return paths
