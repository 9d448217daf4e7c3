"""NGSI-LD out of the real platform: ``vigie interop export`` reads the latest measurements
from the real InfluxDB, ``vigie interop import`` takes them back into a registry, and
``vigie interop push`` upserts them into a context broker.

No NGSI-LD context broker (Orion-LD, Scorpio, Stellio) can run on the development machines:
``Broker`` below is a stand-in that checks each request against the shape ETSI GS CIM 009
gives the batch upsert (POST /ngsi-ld/v1/entityOperations/upsert, an array of normalized
entities, JSON-LD with each entity's @context) and answers as a broker does: 201, 207 with
the entities it refused, 503 while busy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reports.interop.ngsild import CONTEXT, entities
from reports.interop.push import BrokerError, push
from simulators.territory import generate
from vigie import influxql
from vigie.contracts import AssetKind
from vigie.contracts.storage import LONG_RP, MINUTE_RP

pytestmark = pytest.mark.integration

T = generate(2_000, territory_id="lyon", name="Lyon")


def shape_problems(entity: dict) -> list[str]:
    """What an NGSI-LD broker would refuse in one entity of a JSON-LD batch."""
    found = []
    if not str(entity.get("id", "")).startswith("urn:"):
        found.append("id is not a URI")
    if not isinstance(entity.get("type"), str):
        found.append("no type")
    if entity.get("@context") is None:
        found.append("application/ld+json without @context")
    for name, attr in entity.items():
        if name in ("id", "type", "@context"):
            continue
        kind = attr.get("type") if isinstance(attr, dict) else None
        if kind == "Relationship":
            targets = attr.get("object")
            targets = targets if isinstance(targets, list) else [targets]
            if not all(isinstance(t, str) and t.startswith("urn:") for t in targets):
                found.append(f"{name}: a relationship's object is a URI")
        elif kind == "GeoProperty":
            if attr.get("value", {}).get("type") != "Point":
                found.append(f"{name}: GeoJSON expected")
        elif kind != "Property" or "value" not in attr:
            found.append(f"{name}: not a Property, GeoProperty or Relationship")
    return found


class Broker:
    """The stand-in (see the module's docstring); ``refuse`` ids get a 207 error, ``busy``
    requests are answered 503 first."""

    def __init__(self) -> None:
        self.stored: dict[str, dict] = {}
        self.violations: list[str] = []
        self.requests = 0
        self.busy = 0
        self.refuse: set[str] = set()
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                broker.requests += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if broker.busy:
                    broker.busy -= 1
                    return self._answer(503, {"type": "https://uri.etsi.org/ngsi-ld/errors/"
                                              "InternalError", "title": "busy"})  # fmt: skip
                if not self.path.startswith("/ngsi-ld/v1/entityOperations/upsert"):
                    broker.violations.append(f"path {self.path}")
                if self.headers["Content-Type"] != "application/ld+json":
                    broker.violations.append(f"content type {self.headers['Content-Type']}")
                batch = json.loads(body)
                if not isinstance(batch, list) or not batch:
                    broker.violations.append("the body is not a non-empty array")
                errors = []
                for entity in batch:
                    broker.violations += [
                        f"{entity.get('id')}: {p}" for p in shape_problems(entity)
                    ]
                    if entity["id"] in broker.refuse:
                        errors.append({"entityId": entity["id"], "error": {
                            "type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData",
                            "title": "Unprocessable attribute"}})  # fmt: skip
                    else:
                        broker.stored[entity["id"]] = entity
                if errors:
                    ok = [e["id"] for e in batch if e["id"] not in broker.refuse]
                    return self._answer(207, {"success": ok, "errors": errors})
                return self._answer(201, [e["id"] for e in batch])

            def _answer(self, status: int, data: object) -> None:
                out = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def broker():
    b = Broker()
    yield b
    b.close()


def test_push_upserts_in_batches_retries_a_busy_broker_and_reports_refusals(broker):
    found = entities(T)
    broker.busy = 2
    refused = found[7]["id"]
    broker.refuse = {refused}
    report = push(broker.url, found, batch=100, sleep=lambda _s: None)
    assert broker.violations == []
    assert report.refused == {refused: "Unprocessable attribute"}
    assert sorted(report.upserted) == sorted(e["id"] for e in found if e["id"] != refused)
    assert set(broker.stored) == set(report.upserted)
    batches = -(-len(found) // 100)
    assert report.retries == 2 and report.requests == broker.requests == batches + 2
    assert all(e["@context"] == CONTEXT for e in broker.stored.values())


def test_a_broker_that_stays_away_says_what_to_do(broker):
    broker.busy = 10**6
    with pytest.raises(BrokerError, match="push again"):
        push(broker.url, entities(T)[:10], sleep=lambda _s: None)
    broker.close()
    with pytest.raises(BrokerError, match="answered nothing"):
        push(broker.url, entities(T)[:10], sleep=lambda _s: None)


def test_export_with_latest_measurements_import_and_push_from_the_command_line(
    settings, isolated, tmp_path, broker
):
    registry = tmp_path / "lyon.json"
    T.save(registry)
    env = {**os.environ, **isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": "lyon",
           "COLUMNS": "200"}  # fmt: skip
    bin_id = next(a.id for a in T.assets if a.kind is AssetKind.BIN)
    lamp = next(a for a in T.assets if a.kind is AssetKind.LAMP)
    counter = next(a for a in T.assets if a.kind is AssetKind.TRAFFIC_COUNTER)
    now = int(time.time() * 1000)
    hour = now - now % 3_600_000 - 3_600_000  # the last complete hour
    lines = [
        f"waste_fill,territory=lyon,device={bin_id} fill_pct=73.0 {now - 60_000}",
        f"alerts,territory=lyon,device={lamp.id},kind=lamp_failure open=1i {now - 60_000}",
    ] + [
        f"agg_1m,territory=lyon,device={counter.id},metric=traffic_flow_vehh mean={v} "
        f"{hour + i * 60_000}"
        for i, v in enumerate([300.0, 500.0] * 30)
    ]
    minutes = [x for x in lines if x.startswith("agg_1m,")]
    influxql.write_lines(settings.influx, [x for x in lines if x not in minutes], LONG_RP)
    influxql.write_lines(settings.influx, minutes, MINUTE_RP)

    def vigie(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shell", *args], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    out = vigie("interop", "export", "--format", "ngsi-ld", "--out", str(tmp_path / "ngsi"))
    assert out.returncode == 0, out.stdout + out.stderr
    path = tmp_path / "ngsi" / "lyon-entities.jsonld"
    said = " ".join(out.stderr.split())
    found = json.loads(path.read_text())
    assert f"wrote {path}: {len(found)} entities" in said
    by_id = {e["id"]: e for e in found}
    assert by_id[f"urn:ngsi-ld:WasteContainer:lyon:{bin_id}"]["fillingLevel"]["value"] == 0.73
    assert by_id[f"urn:ngsi-ld:Streetlight:lyon:{lamp.id}"]["status"]["value"] == "defectiveLamp"
    flow = by_id[f"urn:ngsi-ld:TrafficFlowObserved:lyon:{counter.id}"]
    assert flow["intensity"]["value"] == 400.0  # the hour's mean flow: vehicles in that hour

    empty = tmp_path / "empty.json"
    T.model_copy(update={"assets": []}).save(empty)
    back = vigie("interop", "import", str(path), "--registry", str(empty))
    assert back.returncode == 0, back.stdout + back.stderr
    assert type(T).load(empty) == T, "export then import: the same registry"

    pushed = vigie("interop", "push", "--broker", broker.url, "--batch", "500")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert f"the broker took {len(found)} of {len(found)} entities and refused 0" in " ".join(
        pushed.stderr.split()
    )
    assert broker.violations == [] and len(broker.stored) == len(found)
