"""The InfluxDB 2.x sink's requests checked against InfluxDB's published API contract.

No InfluxDB 2.x can run on these machines (DESIGN.md), so this is NOT an integration test with
a real server: a small recording HTTP server stands in for InfluxDB 2.x, answers with the
status codes the contract documents, and every request influxdb-client sent through our sink
is checked against ``tests/contracts/influxdb/oss-v2.yml`` (path, method, required and known
parameters, content type, documented success status).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from shell.stack.services import free_port
from streams.sinks.base import Retention, retention_seconds
from streams.sinks.influx_v2 import InfluxV2Sink
from vigie.retry import Backoff

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "influxdb" / "oss-v2.yml"


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(CONTRACT.read_text())


def _resolve(spec, item):  # type: ignore[no-untyped-def]
    while "$ref" in item:
        node = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            node = node[part]
        item = node
    return item


def check_against_contract(
    spec, method: str, path: str, query: dict, headers: dict, status: int
) -> None:
    """Raise AssertionError if the request does not follow the published contract."""
    prefix = "/api/v2"
    assert path.startswith(prefix), path
    op = spec["paths"][path[len(prefix) :]][method.lower()]
    params = [_resolve(spec, p) for p in op.get("parameters", [])]
    known_query = {p["name"] for p in params if p["in"] == "query"}
    for p in params:
        if p.get("required") and p["in"] == "query":
            assert p["name"] in query, f"{method} {path}: missing required {p['name']}"
    assert set(query) <= known_query, f"{method} {path}: unknown {set(query) - known_query}"
    if "requestBody" in op:
        body = _resolve(spec, op["requestBody"])
        ctype = headers.get("Content-Type", "").split(";")[0]
        assert ctype in body["content"], f"{method} {path}: content type {ctype!r}"
    assert str(status) in op["responses"], f"{method} {path}: {status} not documented"
    assert headers.get("Authorization", "").startswith("Token "), "token authentication"


class StandIn:
    """Records requests and answers as InfluxDB 2.x documents it (see the module docstring)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, dict, bytes, int]] = []
        self.buckets: dict[str, str] = {}
        self.fail_writes = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        path, method = request.path, request.method
        status, payload = 404, {}
        if path == "/api/v2/orgs" and method == "GET":
            status, payload = 200, {"orgs": [{"id": "0000000000000001", "name": "vigie"}]}
        elif path == "/api/v2/buckets" and method == "GET":
            name = request.query.get("name", "")
            found = (
                [
                    {
                        "id": self.buckets[name],
                        "name": name,
                        "orgID": "0000000000000001",
                        "retentionRules": [],
                    }
                ]
                if name in self.buckets
                else []
            )
            status, payload = 200, {"buckets": found}
        elif path == "/api/v2/buckets" and method == "POST":
            doc = json.loads(body)
            bucket_id = f"{len(self.buckets) + 1:016x}"
            self.buckets[doc["name"]] = bucket_id
            status, payload = (
                201,
                {
                    "id": bucket_id,
                    "name": doc["name"],
                    "orgID": doc["orgID"],
                    "retentionRules": doc.get("retentionRules", []),
                },
            )
        elif path == "/api/v2/dbrps" and method == "POST":
            doc = json.loads(body)
            status, payload = 201, {"id": "00000000000000d1", **doc, "virtual": False}
        elif path == "/api/v2/write" and method == "POST":
            if self.fail_writes:
                self.fail_writes -= 1
                status = 503
            else:
                status = 204
        self.requests.append(
            (method, path, dict(request.query), dict(request.headers), body, status)
        )
        if status == 204:
            return web.Response(status=204)
        return web.json_response(payload, status=status)


async def _run(stand_in: StandIn, work) -> None:  # type: ignore[no-untyped-def]
    runner = web.AppRunner(stand_in.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await work(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def test_sink_requests_follow_the_influxdb2_contract(spec):
    stand_in = StandIn()
    lines = [
        "agg_1m,device=a,metric=power_w count=2i,sum=3.0 60000",
        "agg_1m,device=b,metric=power_w count=1i,sum=1.0 60000",
    ]

    async def work(url: str) -> None:
        retry = Backoff(first_s=0.01, max_s=0.05)
        async with InfluxV2Sink(
            url, "vigie", "vigie", "t0ken", Retention("7d", "INF"), retry
        ) as sink:
            stand_in.fail_writes = 2  # the server is away for a moment: retried
            await sink.write(lines, "long")
            await sink.write(lines[:1], "raw")

    asyncio.run(_run(stand_in, work))
    for method, path, query, headers, _body, status in stand_in.requests:
        check_against_contract(spec, method, path, query, headers, status)
    writes = [r for r in stand_in.requests if r[1] == "/api/v2/write"]
    assert [(w[2]["bucket"], w[5]) for w in writes] == [
        ("vigie", 503),
        ("vigie", 503),
        ("vigie", 204),
        ("vigie-raw", 204),
    ]
    assert all(w[2]["precision"] == "ms" and w[2]["org"] == "vigie" for w in writes)
    assert writes[2][4].decode().splitlines() == lines
    created = {
        json.loads(r[4])["name"]: json.loads(r[4])["retentionRules"]
        for r in stand_in.requests
        if r[1] == "/api/v2/buckets" and r[0] == "POST"
    }
    assert created["vigie-raw"][0]["everySeconds"] == 7 * 86400
    assert created["vigie-minute"][0]["everySeconds"] == 400 * 86400
    assert created["vigie"][0]["everySeconds"] == 0
    dbrps = [json.loads(r[4]) for r in stand_in.requests if r[1] == "/api/v2/dbrps"]
    assert {(d["database"], d["retention_policy"]) for d in dbrps} == {
        ("vigie", "raw"),
        ("vigie", "minute"),
        ("vigie", "long"),
    }


def test_retention_durations():
    assert retention_seconds("7d") == 604800
    assert retention_seconds("12h30m") == 45000
    assert retention_seconds("INF") == 0
    with pytest.raises(ValueError):
        retention_seconds("soon")
