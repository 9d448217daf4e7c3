"""Dashboards, their folder, the InfluxDB data source and a read-only team, through Grafana's
HTTP API (grafana-client). Idempotent: running it again updates in place and creates nothing.

File provisioning (docker-compose) needs Grafana's disk; this path needs only its URL and a
service-account token, for a Grafana run by someone else (the territory's IT, a cloud).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.grafana import DATASOURCE_UID, dashboard_json
from dashboards.spec import Dashboard
from vigie.errors import ConnectError
from vigie.sections import GrafanaSettings, InfluxSettings, read_secret

VIEW = 1  # Grafana's folder permission levels: 1 view, 2 edit, 4 admin


class ProvisionError(ConnectError):
    """Grafana refused something; the message says what and what to check."""


@dataclass
class ProvisionReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def connect(settings: GrafanaSettings) -> GrafanaApi:
    """A Grafana API client with the settings' token, else their user and password."""
    token = read_secret(settings.token_file)
    if token:
        return GrafanaApi.from_url(settings.url, credential=token)
    password = read_secret(settings.password_file)
    if not password:
        raise ProvisionError(
            "no Grafana credential: set VIGIE_GRAFANA__TOKEN_FILE (a service account token) "
            "or VIGIE_GRAFANA__PASSWORD_FILE"
        )
    return GrafanaApi.from_url(settings.url, credential=(settings.user, password))


def datasource_body(influx: InfluxSettings, url: str | None = None) -> dict[str, Any]:
    """Grafana's InfluxDB data source for the dashboards' InfluxQL, with the read credential."""
    body: dict[str, Any] = {
        "name": "Vigie InfluxDB",
        "uid": DATASOURCE_UID,
        "type": "influxdb",
        "access": "proxy",
        "url": url or influx.url,
        "database": influx.database,
        "isDefault": True,
        "jsonData": {"httpMode": "GET"},
    }
    if influx.backend == "v2":
        token = read_secret(influx.token_file)
        body["jsonData"]["httpHeaderName1"] = "Authorization"
        body["secureJsonData"] = {"httpHeaderValue1": f"Token {token or ''}"}
    elif influx.read_username:
        body["user"] = influx.read_username
        body["secureJsonData"] = {"password": read_secret(influx.read_password_file) or ""}
    return body


def _missing(exc: GrafanaClientError) -> bool:
    return exc.status_code == 404


def provision(
    api: GrafanaApi,
    dashboards: tuple[Dashboard, ...],
    datasource: dict[str, Any],
    folder_title: str = "Vigie",
    viewer_team: str = "Elected officials",
) -> ProvisionReport:
    """Upsert the folder, data source, viewer team and dashboards; returns what changed."""
    report = ProvisionReport()
    try:
        api.client.GET("/health")
    except Exception as exc:
        raise ProvisionError(f"Grafana does not answer at {api.client.url_host}: {exc}") from exc
    folder_uid = "vigie"
    try:
        api.folder.get_folder(folder_uid)
        report.updated.append(f"folder {folder_title}")
    except GrafanaClientError as exc:
        if not _missing(exc):
            raise ProvisionError(f"reading folder {folder_uid!r}: {exc.message}") from exc
        api.folder.create_folder(folder_title, uid=folder_uid)
        report.created.append(f"folder {folder_title}")
    try:
        existing = api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        api.datasource.update_datasource(existing["id"], datasource)
        report.updated.append(f"data source {datasource['name']}")
    except GrafanaClientError as exc:
        if not _missing(exc):
            raise ProvisionError(f"reading data source: {exc.message}") from exc
        api.datasource.create_datasource(datasource)
        report.created.append(f"data source {datasource['name']}")
    teams = [t for t in api.teams.search_teams(viewer_team) if t.get("name") == viewer_team]
    if teams:
        team_id = teams[0]["id"]
        report.updated.append(f"team {viewer_team}")
    else:
        team_id = api.teams.add_team({"name": viewer_team})["teamId"]
        report.created.append(f"team {viewer_team}")
    # the folder is read-only for everyone but administrators: viewers, editors and the team
    api.folder.update_folder_permissions(
        folder_uid,
        {
            "items": [
                {"role": "Viewer", "permission": VIEW},
                {"role": "Editor", "permission": VIEW},
                {"teamId": team_id, "permission": VIEW},
            ]
        },
    )
    for dash in dashboards:
        api.dashboard.update_dashboard(
            {
                "dashboard": dashboard_json(dash),
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "provisioned by vigie dashboards provision",
            }
        )
        report.updated.append(f"dashboard {dash.title}")
    return report
