"""Integration: the roll-ups made by ``streams.catchup`` are the points InfluxDB's own
continuous queries make, on a real InfluxDB 1.x."""

from __future__ import annotations

import asyncio
import time

import pytest

from streams.catchup import catch_up, held, roll_up_devices
from streams.rollups import roll_up, windows
from streams.sinks.influx_v1 import InfluxV1Sink
from vigie import influxql
from vigie.contracts.storage import ROLLUPS, Measurement, at
from vigie.sections import read_secret

pytestmark = pytest.mark.integration
DAY = 1_767_225_600_000  # 2026-01-01T00:00Z
H = 3_600_000


def _minutes() -> list[str]:
    """Two devices over three hours around midnight, irregular, one window with no reading of
    its own minute (last_ts_ms earlier), values that do not sum to round figures."""
    out = []
    for n, dev in enumerate(("ctr-1", "ctr-2")):
        for k in range(0, 180, 7 + n):
            t = DAY - H + k * 60_000
            v = 100.0 + 13.7 * ((k * (n + 3)) % 11) / 3
            out.append(
                f"agg_1m,territory=ru,vertical=mobility,district=d,device={dev},"
                f"metric=traffic_flow_vehh count={1 + k % 3}i,sum={v * (1 + k % 3)},min={v - 1},"
                f"max={v + 2},mean={v},last={v + 0.5},last_ts_ms={t + 30_000 - k}i {t}"
            )
    return out


def _by_influxdb(settings, source: str, every: str, start: int, end: int) -> list[dict]:
    """What the continuous query of ``every`` would write: its select, without INTO."""
    rollup = next(r for r in ROLLUPS if r.every == every and r.source == source)
    return influxql.query(
        settings.influx,
        f"SELECT {rollup.fields} FROM {at(rollup.source)} WHERE time >= {start}ms AND "
        f"time < {end}ms GROUP BY time({every}), * fill(none)",
    )


FIELDS = ("count", "sum", "min", "max", "mean", "last", "last_ts_ms")


def _key(row: dict) -> tuple[str, int]:
    return row["device"], row["time"]


def _points(settings, measurement: Measurement) -> list[dict]:
    return influxql.query(settings.influx, f"SELECT * FROM {at(measurement)} GROUP BY *")


def _same(stored: list[dict], expected: list[dict]) -> None:
    """The same points, field for field (floats to the last bits InfluxDB keeps)."""
    assert sorted(_key(r) for r in stored) == sorted(_key(r) for r in expected)
    by_key = {_key(r): r for r in stored}
    for r in expected:
        got = tuple(by_key[_key(r)][f] for f in FIELDS)
        assert got == pytest.approx(tuple(r[f] for f in FIELDS), rel=1e-12), _key(r)


def test_catch_up_writes_what_the_continuous_queries_write(settings, stack, monkeypatch):
    writer = (settings.influx.username, read_secret(settings.influx.password_file))
    monkeypatch.setenv("VIGIE_INFLUX__MINUTE_RETENTION", "INF")  # 2026's minutes, kept
    stack.prepare_database(settings.influx.database)
    minutes = _minutes()

    async def write() -> None:
        async with InfluxV1Sink(settings.influx.url, settings.influx.database, auth=writer) as s:
            await s.write(minutes, "minute")

    asyncio.run(write())
    start, end = DAY - H, DAY + 2 * H
    theirs = _by_influxdb(settings, Measurement.AGG_1M, "1h", start, end)
    assert len(theirs) == 6  # two devices, three hours
    mine = roll_up(
        windows(
            influxql.query(settings.influx, f"SELECT * FROM {at(Measurement.AGG_1M)} GROUP BY *")
        ),
        H,
    )
    got = {(w.tags[3], w.start_ms): w for w in mine}
    assert sorted(got) == sorted(_key(r) for r in theirs)
    for r in theirs:
        w = got[_key(r)]
        values = (w.count, w.sum, w.min, w.max, w.sum / w.count, w.last, w.last_ts_ms)
        assert values == pytest.approx(tuple(r[f] for f in FIELDS), rel=1e-12), _key(r)

    caught = catch_up(settings.influx, "ru", start, end - 1)
    assert (caught.days, caught.hourly, caught.daily) == (2, 6, 4)  # two UTC days
    assert held(settings.influx, "ru", start, end - 1) == (6, 4)
    _same(_points(settings, Measurement.AGG_1H), theirs)
    days = _by_influxdb(settings, Measurement.AGG_1H, "1d", start - 23 * H, end + 22 * H)
    assert len(days) == 4
    _same(_points(settings, Measurement.AGG_1D), days)
    again = catch_up(settings.influx, "ru", start, end - 1)  # the same points, once
    assert (again.hourly, again.daily) == (6, 4)
    assert held(settings.influx, "ru", start, end - 1) == (6, 4)


def test_due_device_hours_roll_up_those_devices_only(settings, stack):
    """The worker's catch-up: the hours of the devices whose windows came late, and their
    days, from those devices' windows only (an on-time device is the continuous queries')."""
    writer = (settings.influx.username, read_secret(settings.influx.password_file))
    now = int(time.time() * 1000)
    hour = now - now % H - 5 * H  # five hours ago: past the continuous queries' span
    lines = [
        f"agg_1m,territory=ru,vertical=mobility,district=d,device={dev},metric=traffic_flow_vehh "
        f"count=1i,sum={v},min={v},max={v},mean={v},last={v},last_ts_ms={hour + k * 60_000}i "
        f"{hour + k * 60_000}"
        for dev, base in (("ctr-1", 100.0), ("ctr-2", 7.0))
        for k, v in ((k, base + k) for k in range(0, 60, 10))
    ]

    async def write() -> None:
        async with InfluxV1Sink(settings.influx.url, settings.influx.database, auth=writer) as s:
            await s.write(lines, "minute")

    asyncio.run(write())
    caught = roll_up_devices(settings.influx, {("ru", hour): ["ctr-1"]})  # ctr-2 was on time
    assert (caught.hourly, caught.daily, caught.days) == (1, 1, 1)
    hours = _points(settings, Measurement.AGG_1H)
    assert [(r["device"], r["time"], r["count"], r["sum"]) for r in hours] == [
        ("ctr-1", hour, 6, sum(100.0 + k for k in range(0, 60, 10)))
    ]
    day = _points(settings, Measurement.AGG_1D)
    assert [(r["device"], r["time"], r["count"], r["sum"]) for r in day] == [
        ("ctr-1", hour - hour % 86_400_000, 6, hours[0]["sum"])
    ]
