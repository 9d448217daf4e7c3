"""Generated Grafana dashboards: well-formed models from the specification."""

import json

from dashboards.catalog import ALL
from dashboards.grafana import build, dashboard_json
from dashboards.spec import render


def test_every_dashboard_is_a_valid_grafana_model(tmp_path):
    uids = [d.uid for d in ALL]
    assert len(set(uids)) == len(uids)
    for path in build(ALL, tmp_path):
        model = json.loads(path.read_text())
        assert model["uid"] and model["schemaVersion"] >= 36 and model["panels"]
        ids = [p["id"] for p in model["panels"]]
        assert len(set(ids)) == len(ids)
        for panel in model["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
            assert panel["targets"][0]["rawQuery"] is True
            assert panel["datasource"]["uid"] == "vigie-influxdb"
        assert model["templating"]["list"][0]["name"] == "territory"


def test_queries_are_scoped_to_territory_and_time_and_render_to_plain_influxql():
    for dash in ALL:
        for panel in dash.panels:
            assert "$territory" in panel.query and "$timeFilter" in panel.query, panel.title
            plain = render(panel.query, "t1")
            assert "$" not in plain and "'t1'" in plain
    assert dashboard_json(ALL[0])["description"] == "For elected officials."
