"""`vigie dashboards provision` through grafana-client, against Grafana's published API contract.

No Grafana server can run on these machines: the requests go to a stand-in
(tests/contracts/grafana_standin.py) that checks each method, path and body against the subset
of Grafana's api-merged.json that Vigie uses, and keeps state so idempotency shows.
"""

from __future__ import annotations

import pytest

from dashboards.catalog import ALL
from dashboards.provision import ProvisionError, connect, datasource_body, provision
from tests.contracts.grafana_standin import GrafanaStandIn, violations
from vigie.sections import GrafanaSettings, InfluxSettings


@pytest.fixture
def grafana(tmp_path):
    with GrafanaStandIn() as standin:
        token = tmp_path / "grafana-token"
        token.write_text("glsa_test_token\n")
        yield standin, GrafanaSettings(url=standin.url, token_file=token)


def _influx(tmp_path) -> InfluxSettings:
    secret = tmp_path / "reader"
    secret.write_text("s3cret")
    return InfluxSettings(read_username="vigie-reader", read_password_file=secret)


def test_provisioning_follows_the_contract_and_is_idempotent(grafana, tmp_path):
    standin, settings = grafana
    api = connect(settings)
    body = datasource_body(_influx(tmp_path), url="http://influxdb:8086")
    first = provision(api, ALL, body)
    st = standin.state
    assert st.violations == []
    assert set(first.created) == {
        "folder Vigie",
        "data source Vigie InfluxDB",
        "team Elected officials",
    }
    assert set(st.dashboards) == {d.uid for d in ALL}
    assert all(d["folderUid"] == "vigie" for d in st.dashboards.values())
    assert all(a == "Bearer glsa_test_token" for a in st.auth)
    ds = next(iter(st.datasources.values()))
    assert ds["user"] == "vigie-reader" and ds["secureJsonData"] == {"password": "s3cret"}

    second = provision(api, ALL, body)
    assert st.violations == []
    assert second.created == []  # nothing new: folder, data source and team updated in place
    assert len(st.folders) == len(st.teams) == len(st.datasources) == 1
    assert {d["version"] for d in st.dashboards.values()} == {2}
    team_id = next(iter(st.teams))
    assert {"teamId": team_id, "permission": 1} in st.permissions["vigie"]
    assert all(item["permission"] == 1 for item in st.permissions["vigie"])  # read-only


def test_the_contract_stand_in_refuses_what_grafana_would_not_take():
    assert violations("CreateTeamCommand", {"name": "x", "colour": "red"}) == [
        "body.colour: not a property of CreateTeamCommand"
    ]
    bad = violations("UpdateDashboardAclCommand", {"items": [{"teamId": 1, "permission": 3}]})
    assert bad == ["body.items[0].permission: 3 not in [1, 2, 4]"]
    assert violations("SaveDashboardCommand", {"overwrite": True}) == [
        "body.dashboard: required by SaveDashboardCommand"
    ]


def test_missing_credentials_and_unreachable_grafana_say_what_to_do(tmp_path):
    with pytest.raises(ProvisionError, match="VIGIE_GRAFANA__TOKEN_FILE"):
        connect(GrafanaSettings(url="http://127.0.0.1:9"))
    token = tmp_path / "t"
    token.write_text("x")
    api = connect(GrafanaSettings(url="http://127.0.0.1:9", token_file=token))
    with pytest.raises(ProvisionError, match="does not answer"):
        provision(api, ALL, {"name": "x"})
