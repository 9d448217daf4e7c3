"""Grafana dashboard JSON from the specification, and the file provisioning that loads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.spec import Dashboard, Panel

DATASOURCE = {"type": "influxdb", "uid": "vigie-influxdb"}


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    steps = [
        {"value": None if i == 0 else v, "color": c}
        for i, (v, c) in enumerate(panel.thresholds or ((0, "green"),))
    ]
    return {
        "id": pid,
        "type": str(panel.viz),
        "title": panel.title,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "fieldConfig": {
            "defaults": {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "targets": [
            {
                "refId": "A",
                "datasource": DATASOURCE,
                "rawQuery": True,
                "query": panel.query,
                "resultFormat": "time_series",
            }
        ],
        "options": {},
    }


def dashboard_json(dash: Dashboard) -> dict[str, Any]:
    """The Grafana dashboard model (schemaVersion 39) of one specification."""
    panels, x, y = [], 0, 0
    for pid, panel in enumerate(dash.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + panel.height
        panels.append(_panel(panel, pid, x, y))
        x += panel.width
    territory_var = {
        "name": "territory",
        "type": "query",
        "datasource": DATASOURCE,
        "query": 'SHOW TAG VALUES FROM "long"."agg_1m" WITH KEY = "territory"',
        "refresh": 1,
    }
    return {
        "uid": dash.uid,
        "title": dash.title,
        "tags": ["vigie", *dash.tags],
        "timezone": "browser",
        "schemaVersion": 39,
        "editable": False,
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m",
        "templating": {"list": [territory_var]},
        "panels": panels,
        "description": f"For {dash.audience}.",
    }


def build(dashboards: tuple[Dashboard, ...], out: Path) -> list[Path]:
    """Write one JSON file per dashboard, as Grafana's file provisioning reads them."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for dash in dashboards:
        path = out / f"{dash.uid}.json"
        path.write_text(json.dumps(dashboard_json(dash), indent=1))
        paths.append(path)
    return paths
