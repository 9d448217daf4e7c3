"""Integration: the InfluxDB 1.x sink against the real InfluxDB started by the stack."""

import asyncio
import base64
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from streams.sinks.influx_v1 import InfluxV1Sink
from vigie import influxql
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.sections import read_secret

pytestmark = pytest.mark.integration


def test_writes_are_idempotent_and_retention_policies_exist(settings):
    url, db = settings.influx.url, settings.influx.database
    writer = (settings.influx.username, read_secret(settings.influx.password_file))

    async def go():
        async with InfluxV1Sink(url, db, auth=writer) as sink:
            line = "agg_1m,device=a,metric=power_w count=2i,sum=3.0 60000"
            await sink.write([line], "long")
            await sink.write([line.replace("sum=3.0", "sum=5.0")], "long")
            now = int(time.time() * 1000)
            await sink.write([f"telemetry,device=a,metric=power_w value=1.5 {now}"], "raw")
            await sink.write(["telemetry,device=a,metric=power_w value=1.5 1000"], "raw")
            assert sink.partial_writes == 1  # beyond the 7-day raw retention: reported

    asyncio.run(go())
    rows = influxql.query(settings.influx, 'SELECT "count", "sum" FROM "long"."agg_1m"')
    assert rows == [{"time": 60000, "count": 2, "sum": 5.0}]
    policies = {
        r["name"]: r for r in influxql.query(settings.influx, f'SHOW RETENTION POLICIES ON "{db}"')
    }
    assert policies["raw"]["default"] is True
    assert policies["raw"]["duration"] == "168h0m0s"
    assert policies["minute"]["duration"] == f"{400 * 24}h0m0s"
    assert policies["long"]["duration"] == "0s"


def test_the_retention_ladder_rolls_minutes_up_into_hours_and_days(settings, stack, monkeypatch):
    """The continuous queries the stack creates (run every 2 s here, every hour by default)
    turn the 1-minute windows into hourly and daily ones: counts and sums add up, the mean
    follows, min, max and the last value are the extreme and the latest window's. Fleet rows
    roll up into each device's last state of the day."""
    monkeypatch.setenv("VIGIE_INFLUX__ROLLUP_EVERY", "2s")
    stack.prepare_database(settings.influx.database)
    url, db = settings.influx.url, settings.influx.database
    writer = (settings.influx.username, read_secret(settings.influx.password_file))
    hour = int(time.time()) // 3600 * 3600 * 1000
    windows = {  # (device, start) -> count, sum, min, max, last
        ("a", hour - 3_600_000): (2, 3.0, 1.0, 2.0, 2.0),
        ("a", hour - 60_000): (1, 4.0, 4.0, 4.0, 4.0),
        ("a", hour): (3, 9.0, 2.0, 4.0, 3.0),
        ("a", hour + 60_000): (1, 0.5, 0.5, 0.5, 0.5),
        ("b", hour): (1, 7.0, 7.0, 7.0, 7.0),
    }
    lines = [
        f"agg_1m,territory=t,device={d},metric=power_w count={c}i,sum={s},min={lo},max={hi},"
        f"mean={s / c},last={last},last_ts_ms={t + 59_000}i {t}"
        for (d, t), (c, s, lo, hi, last) in windows.items()
    ]

    fleet = [  # two rows of device a in the hour, the later one wins every field
        f"fleet,territory=t,device=a last_seq=4i,missing_seq=1i,late=0i,last_reading_ms={hour}i,"
        f"alerts=1i,edge_dropped=0i,first_seq=0i,lat=45.1,lon=5.1 {hour + 1_000}",
        f"fleet,territory=t,device=a last_seq=9i,missing_seq=2i,late=3i,last_reading_ms={hour}i,"
        f"alerts=0i,edge_dropped=5i,lat=45.1,lon=5.1 {hour + 2_000}",
    ]

    async def go():
        async with InfluxV1Sink(url, db, auth=writer) as sink:
            await sink.write(lines + fleet, "minute")

    asyncio.run(go())
    expected_hours = [
        {"time": hour - 3_600_000, "device": "a", "count": 3, "sum": 7.0, "min": 1.0,
         "max": 4.0, "mean": 7.0 / 3, "last": 4.0, "last_ts_ms": hour - 1_000},
        {"time": hour, "device": "a", "count": 4, "sum": 9.5, "min": 0.5, "max": 4.0,
         "mean": 9.5 / 4, "last": 0.5, "last_ts_ms": hour + 119_000},
        {"time": hour, "device": "b", "count": 1, "sum": 7.0, "min": 7.0, "max": 7.0,
         "mean": 7.0, "last": 7.0, "last_ts_ms": hour + 59_000},
    ]  # fmt: skip
    fields = '"count", "sum", "min", "max", "mean", "last", "last_ts_ms"'
    deadline = time.monotonic() + 30
    while True:
        hours = influxql.query(
            settings.influx, f'SELECT {fields} FROM "long"."agg_1h" GROUP BY "device"'
        )
        days = influxql.query(
            settings.influx, f'SELECT {fields} FROM "long"."agg_1d" GROUP BY "device"'
        )
        fleet_days = influxql.query(settings.influx, f"SELECT * FROM {at(M.FLEET_1D)}")
        rolled = len(hours) == 3 and sum(r["count"] for r in days) == 8 and fleet_days
        if rolled or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sorted(hours, key=lambda r: (r["time"], r["device"])) == [
        {**h, "mean": pytest.approx(h["mean"])} for h in expected_hours
    ]
    day = {r["device"]: r for r in days if r["device"] == "b"}["b"]
    assert (day["count"], day["sum"], day["last"]) == (1, 7.0, 7.0)
    assert sum(r["count"] for r in days if r["device"] == "a") == 7  # one day, or two at 00:xx
    kept = ("device", "last_seq", "missing_seq", "late", "edge_dropped", "first_seq")
    assert [{k: r[k] for k in kept} for r in fleet_days] == [
        {"device": "a", "last_seq": 9, "missing_seq": 2, "late": 3, "edge_dropped": 5,
         "first_seq": 0}
    ]  # fmt: skip


def _status(
    settings,
    path: str,
    params: dict,
    user: str | None,
    password_file=None,
    body: bytes | None = None,
) -> int:
    url = f"{settings.influx.url}{path}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if user:
        token = f"{user}:{read_secret(password_file)}"
        request.add_header("Authorization", "Basic " + base64.b64encode(token.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_influxdb_refuses_anonymous_and_the_reader_cannot_write(settings):
    influx, db = settings.influx, settings.influx.database
    line = b"probe,device=x value=1.0"
    read = {"db": db, "q": 'SELECT * FROM "minute"."agg_1m"'}
    assert _status(settings, "/write", {"db": db}, None, body=line) == 401
    assert _status(settings, "/query", read, None) == 401
    assert (
        _status(
            settings,
            "/write",
            {"db": db},
            influx.read_username,
            influx.read_password_file,
            body=line,
        )
        == 403
    )
    assert _status(settings, "/query", read, influx.read_username, influx.read_password_file) == 200
    assert (
        _status(settings, "/write", {"db": db}, influx.username, influx.password_file, body=line)
        == 204
    )


def test_hopping_windows_labelled_by_their_end_read_back_at_their_start(settings):
    """A worker that lost its state reads its windows back: a hopping window stored at its
    end (07:15 holds 06:15-07:15) starts again at its start."""
    from streams.readback import read_back
    from streams.sinks import lineprotocol as lp
    from streams.windowing import WindowRow

    hour = 3_600_000
    base = (int(time.time() * 1000) // hour - 3) * hour
    rows = [
        WindowRow("ctr-1", "traffic_flow_vehh", base + k * 900_000, 2, 10.0, 4.0, 6.0, 0, 6.0)
        for k in range(4)
    ]
    lines = lp.aggregate_lines(rows, {"ctr-1": "mobility"}, lp.TagIndex("t", {}), lp.HOPPING, hour)
    assert [int(x.rsplit(" ", 1)[1]) for x in lines] == [r.start_ms + hour for r in rows]
    writer = (settings.influx.username, read_secret(settings.influx.password_file))

    async def go():
        async with InfluxV1Sink(settings.influx.url, settings.influx.database, auth=writer) as s:
            await s.write(lines, "long")

    asyncio.run(go())
    stored, _, _ = read_back(
        settings, ["ctr-1"], {"agg_hop_1h": (base, base + hour)}, (base, base), False, hour
    )
    assert sorted(w.start_ms for w, hop in stored if hop) == [r.start_ms for r in rows]
