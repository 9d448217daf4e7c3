"""A stand-in for Grafana's HTTP API, checking every request against its published contract.

No Grafana server can be installed on the development and CI machines, so this is a mock, and
it is only as good as ``grafana/api-subset.json``: a request whose method, path or body is not
in Grafana's contract gets a 400 naming what is wrong, and is recorded as a violation. It keeps
folders, data sources, teams, permissions and dashboards in memory so that idempotency can be
observed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTRACT = json.loads((Path(__file__).parent / "grafana" / "api-subset.json").read_text())
_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "object": dict,
}


def _route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    base = CONTRACT["basePath"]
    if not path.startswith(base):
        return None
    path = path[len(base) :]
    for template, methods in CONTRACT["paths"].items():
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        match = re.match(pattern, path)
        if match and method.lower() in methods:
            return template, match.groupdict()
    return None


def violations(definition: str, body: Any, where: str = "body") -> list[str]:
    """What in ``body`` the contract's definition does not allow."""
    spec = CONTRACT["definitions"][definition]
    if not isinstance(body, dict):
        return [f"{where}: {definition} must be an object"]
    found = []
    for name in spec.get("required", []):
        if name not in body:
            found.append(f"{where}.{name}: required by {definition}")
    for name, value in body.items():
        kind = spec["properties"].get(name)
        if kind is None:
            found.append(f"{where}.{name}: not a property of {definition}")
        elif kind.startswith("array:"):
            if not isinstance(value, list):
                found.append(f"{where}.{name}: must be an array")
            else:
                for i, item in enumerate(value):
                    found += violations(kind[6:], item, f"{where}.{name}[{i}]")
        elif not isinstance(value, _TYPES[kind]) or (kind == "integer" and isinstance(value, bool)):
            found.append(f"{where}.{name}: must be {kind}")
        elif value not in spec.get("enums", {}).get(name, [value]):
            found.append(f"{where}.{name}: {value!r} not in {spec['enums'][name]}")
    return found


@dataclass
class State:
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[int, dict[str, Any]] = field(default_factory=dict)
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        st = self.state
        url = urlsplit(self.path)
        st.calls.append((method, url.path))
        st.auth.append(self.headers.get("Authorization", ""))
        route = _route(method, url.path)
        if route is None:
            st.violations.append(f"{method} {url.path}: not in Grafana's API")
            return self._reply(404, {"message": "not found"})
        template, params = route
        spec = CONTRACT["paths"][template][method.lower()]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        problems = violations(spec["body"], body) if "body" in spec else []
        allowed = set(spec.get("query", []))
        problems += [f"query {k}: not a parameter" for k in parse_qs(url.query) if k not in allowed]
        if problems:
            st.violations += [f"{method} {template}: {p}" for p in problems]
            return self._reply(400, {"message": "; ".join(problems)})
        self._reply(*self._serve(method, template, params, body, parse_qs(url.query)))

    def _serve(  # one branch per endpoint, as Grafana answers them
        self, method: str, template: str, p: dict[str, str], body: Any, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        st = self.state
        if template == "/health":
            return 200, {"database": "ok", "version": "11.3.0"}
        if template == "/folders/{folder_uid}":
            folder = st.folders.get(p["folder_uid"])
            return (200, folder) if folder else (404, {"message": "folder not found"})
        if template == "/folders":
            uid = body.get("uid") or f"f{len(st.folders)}"
            if uid in st.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            st.folders[uid] = {"id": len(st.folders) + 1, "uid": uid, "title": body["title"]}
            return 200, st.folders[uid]
        if template == "/folders/{folder_uid}/permissions":
            if p["folder_uid"] not in st.folders:
                return 404, {"message": "folder not found"}
            st.permissions[p["folder_uid"]] = body["items"]
            return 200, {"message": "Folder permissions updated"}
        if template == "/datasources/uid/{datasource_uid}":
            for ds in st.datasources.values():
                if ds.get("uid") == p["datasource_uid"]:
                    return 200, ds
            return 404, {"message": "Data source not found"}
        if template == "/datasources":
            if any(d["name"] == body["name"] for d in st.datasources.values()):
                return 409, {"message": "data source with the same name already exists"}
            ds_id = len(st.datasources) + 1
            st.datasources[ds_id] = {"id": ds_id, **body}
            return 200, {"id": ds_id, "message": "Datasource added", "datasource": body}
        if template == "/datasources/{datasource_id}":
            ds_id = int(p["datasource_id"])
            if ds_id not in st.datasources:
                return 404, {"message": "Data source not found"}
            st.datasources[ds_id] = {"id": ds_id, **body}
            return 200, {"id": ds_id, "message": "Datasource updated"}
        if template == "/teams/search":
            name = (query.get("query") or query.get("name") or [""])[0]
            hits = [t for t in st.teams.values() if name.lower() in t["name"].lower()]
            return 200, {"totalCount": len(hits), "teams": hits, "page": 1, "perPage": 1000}
        if template == "/teams":
            if any(t["name"] == body["name"] for t in st.teams.values()):
                return 409, {"message": "Team name taken"}
            team_id = len(st.teams) + 1
            st.teams[team_id] = {"id": team_id, "name": body["name"]}
            return 200, {"message": "Team created", "teamId": team_id}
        if template == "/dashboards/db":
            dash = body["dashboard"]
            uid = dash.get("uid")
            if uid in st.dashboards and not body.get("overwrite"):
                return 412, {"message": "A dashboard with the same uid already exists"}
            version = st.dashboards.get(uid, {}).get("version", 0) + 1
            st.dashboards[uid] = {"version": version, "folderUid": body.get("folderUid"), **dash}
            return 200, {"uid": uid, "status": "success", "version": version}
        return 404, {"message": "not found"}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class GrafanaStandIn:
    """Serves on a free loopback port; ``url`` for the client, ``state`` for the test."""

    def __init__(self) -> None:
        self.state = State()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GrafanaStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
