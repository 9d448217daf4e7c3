"""Generated Grafana dashboards: well-formed models from the specification."""

import json
import re

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as GrafanaDashboard

from dashboards.catalog import ALL
from dashboards.grafana import build, dashboard_json
from dashboards.spec import Viz, render


def test_every_dashboard_is_a_valid_grafana_model(tmp_path):
    uids = [d.uid for d in ALL]
    assert len(set(uids)) == len(uids)
    for path in build(ALL, tmp_path):
        model = json.loads(path.read_text())
        assert model["uid"] and model["schemaVersion"] >= 36 and model["panels"]
        ids = [p.get("id") for p in model["panels"]]
        assert len(set(ids)) == len(ids)
        for panel in model["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
            assert panel["targets"][0]["rawQuery"] is True
            assert panel["datasource"]["uid"] == "vigie-influxdb"
            assert panel["options"] is not None
        assert model["templating"]["list"][0]["name"] == "territory"
        # read back by the SDK's schema-generated types: same model, nothing dropped
        again = json.loads(JSONEncoder().encode(GrafanaDashboard.from_json(model)))
        assert again["uid"] == model["uid"]
        assert [p["title"] for p in again["panels"]] == [p["title"] for p in model["panels"]]
        assert again["templating"] == model["templating"]


def test_panels_do_not_overlap():
    for dash in ALL:
        cells = set()
        for panel in dashboard_json(dash)["panels"]:
            g = panel["gridPos"]
            mine = {
                (x, y)
                for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])
            }
            assert not cells & mine, (dash.title, panel["title"])
            cells |= mine


def test_queries_are_scoped_to_territory_and_time_and_render_to_plain_influxql():
    for dash in ALL:
        for panel in dash.panels:
            assert "$territory" in panel.query, panel.title
            assert "$timeFilter" in panel.query or "now() -" in panel.query, panel.title
            plain = render(panel.query, "t1")
            assert not re.search(r"\$[A-Za-z_]", plain) and "'t1'" in plain
            assert panel.fr, f"{panel.title}: no French title"
        assert dash.fr
    assert dashboard_json(ALL[0])["description"] == "For elected officials."


def test_technical_dashboards_drill_down_by_district_and_device():
    drill = [d for d in ALL if d.drill_down]
    assert {d.uid for d in drill} >= {"vigie-lighting", "vigie-water", "vigie-waste"}
    for dash in drill:
        names = [v["name"] for v in dashboard_json(dash)["templating"]["list"]]
        assert names == ["territory", "district", "device"]
        assert any("$device" in p.query for p in dash.panels), dash.title
        district = dashboard_json(dash)["templating"]["list"][1]
        assert district["includeAll"] is True and district["multi"] is True
    one = render(drill[0].panels[-1].query, "t1", district="north", device="(a|b)")
    assert "/^north$/" in one and "/^(a|b)$/" in one


def test_hypervisor_has_a_map_of_assets_and_a_week_comparison():
    hyper = dashboard_json(ALL[0])
    geo = [p for p in hyper["panels"] if p["type"] == "geomap"]
    assert len(geo) == 1
    layer = geo[0]["options"]["layers"][0]
    assert layer["location"]["latitude"] == "lat" and layer["location"]["longitude"] == "lon"
    assert geo[0]["targets"][0]["resultFormat"] == "table"
    spec = next(p for p in ALL[0].panels if p.viz is Viz.GEOMAP)
    assert '"lat"' in spec.query and '"lon"' in spec.query
    assert any("now() - 8d" in p.query for p in ALL[0].panels)


def test_days_on_the_dashboards_are_the_territorys_local_days():
    """Grafana drew UTC days ('browser' at best); InfluxQL grouped by UTC days."""
    data = dashboard_json(ALL[0], "America/Cayenne")
    assert data["timezone"] == "America/Cayenne"
    grouped = [
        t["query"]
        for p in data["panels"]
        for t in p.get("targets", [])
        if "GROUP BY time(" in t["query"]
    ]
    assert grouped and all(q.endswith("tz('America/Cayenne')") for q in grouped)


def test_vertical_dashboards_mark_their_alerts_on_the_time_axis():
    """Grafana's InfluxDB annotation: a raw InfluxQL target whose text and tag columns are
    columns the query selects, scoped to the territory, the period and the drill-down."""
    marked = {d.uid: d for d in ALL if d.annotations}
    assert set(marked) >= {"vigie-lighting", "vigie-water", "vigie-waste", "vigie-mobility"}
    fleet = marked["vigie-fleet"].annotations[0].query  # the alerts the notifier links there
    assert all(k in fleet for k in ("device_silent", "meter_down")), fleet
    for dash in marked.values():
        listed = dashboard_json(dash)["annotations"]["list"]
        assert listed[-1]["datasource"]["uid"] == "vigie-influxdb" and listed[-1]["enable"]
        target = listed[-1]["target"]
        assert target["rawQuery"] is True and target["fromAnnotations"] is True
        selected = re.findall(r'"(\w+)"', target["query"].split(" FROM ")[0])
        assert target["textColumn"] in selected
        assert set(target["tagsColumn"].split(",")) <= set(selected)
        assert "$territory" in target["query"] and "$timeFilter" in target["query"]
        if dash.drill_down:
            assert "$district" in target["query"] and "$device" in target["query"]
    assert not dashboard_json(ALL[0]).get("annotations", {}).get("list"), "kept uncluttered"


def test_alert_operations_read_the_notifiers_lifecycle_points():
    from notify.service import ops_line
    from notify.store import Transition

    ops = next(d for d in ALL if d.uid == "vigie-alert-ops")
    assert all("alert_ops" in p.query for p in ops.panels)
    opened = ops_line(Transition("t", "lamp_failure", "L1", "d1", "open", 1000, 0, None))
    acked = ops_line(
        Transition("t", "lamp_failure", "L1", "d1", "acknowledged", 61000, 60000, None)
    )
    cleared = ops_line(Transition("t", "lamp_failure", "L1", "d1", "cleared", 90000, 89000, None))
    assert "open=1i,acked=0i" in opened and "open=1i,acked=1i" in acked
    assert "open=0i,acked=0i" in cleared and "wait_s=89.0" in cleared
