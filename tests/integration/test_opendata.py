"""Integration: the open data export from a real InfluxDB, privacy and metadata checked."""

from __future__ import annotations

import asyncio
import csv
import json
from collections import defaultdict

import pytest
from frictionless import validate

from reports.opendata.datasets import DATASETS
from reports.opendata.export import export, rows_of
from streams.sinks.influx_v1 import InfluxV1Sink
from tests.helpers import parse_line
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.localtime import LocalClock
from vigie.sections import read_secret

pytestmark = pytest.mark.integration
DAY = 1_767_225_600_000  # 2026-01-01T00:00Z
H = 3_600_000


def _lines() -> list[str]:
    tags = "territory=od,vertical={v},district={d},device={dev}"
    out = []
    for hour in range(3):
        t = DAY + hour * H
        for minute in range(0, 60, 10):
            at = t + minute * 60_000
            # busy road in the centre (two counters), a quiet lane in the hamlet (one)
            for dev, d, flow in (("ctr-0001", "centre", 400.0), ("ctr-0002", "centre", 200.0)):
                out.append(
                    f"agg_1m,{tags.format(v='mobility', d=d, dev=dev)},metric=traffic_flow_vehh "
                    f"count=1i,sum={flow},min={flow},max={flow},mean={flow},last={flow} {at}"
                )
            quiet = 3.0 if hour else 30.0  # 3 vehicles an hour: must not be published
            out.append(
                f"agg_1m,{tags.format(v='mobility', d='hamlet', dev='ctr-0003')},"
                f"metric=traffic_flow_vehh count=1i,sum={quiet},min={quiet},max={quiet},"
                f"mean={quiet},last={quiet} {at}"
            )
            # a bicycle channel counting 8 a period (48 an hour) and a pedestrian one 1 (6)
            for dev, metric, n in (
                ("bike-0001", "bicycles", 8.0),
                ("walk-0001", "pedestrians", 1.0),
            ):
                out.append(
                    f"agg_1m,{tags.format(v='mobility', d='centre', dev=dev)},"
                    f"metric={metric}_count count=1i,sum={n},min={n},max={n},mean={n},last={n} {at}"
                )
            out.append(
                f"agg_1m,{tags.format(v='waste', d='centre', dev='bin-0001')},metric=fill_pct "
                f"count=1i,sum=40.0,min=40.0,max=45.0,mean=42.0,last=44.0 {at}"
            )
        out.append(
            "energy_attribution,territory=od,vertical=lighting,district=centre,meter=cab-0001 "
            f"attributed_wh=1200.0,burning_h=20.0,full_power_wh=2000.0,lamps_wh=1100.0,"
            f"lamps=20i {t}"
        )
    out.append(
        "water_night,territory=od,vertical=water,district=centre,device=wm-0001,dma=dma-1 "
        f"min_flow_m3h=2.5,baseline_m3h=2.0,leak_index=1.25 {DAY + 5 * H}"
    )
    return out


def test_export_has_no_identifiers_no_small_counts_and_describes_every_field(
    settings, stack, tmp_path, monkeypatch
):
    writer = (settings.influx.username, read_secret(settings.influx.password_file))
    monkeypatch.setenv("VIGIE_INFLUX__MINUTE_RETENTION", "INF")  # DAY's minutes, kept
    stack.prepare_database(settings.influx.database)
    lines = _lines()
    minutes = [x for x in lines if x.startswith("agg_1m,")]

    async def write() -> None:
        async with InfluxV1Sink(settings.influx.url, settings.influx.database, auth=writer) as s:
            await s.write(minutes, "minute")
            await s.write([x for x in lines if x not in minutes], "long")

    asyncio.run(write())
    kept = settings.influx.model_copy(update={"minute_retention": "INF"})  # as prepared
    counts = export(kept, DATASETS, "od", DAY, DAY + 86_400_000, tmp_path, "1h", 10)
    assert all(counts[d.name] > 0 for d in DATASETS), counts

    everything = "".join(p.read_text() for p in tmp_path.iterdir())
    for identifier in ("ctr-000", "bin-0001", "cab-0001", "wm-0001", "bike-", "walk-"):
        assert identifier not in everything  # no device identifier in any file
    with (tmp_path / "mobility-counts.csv").open() as f:
        cells = list(csv.DictReader(f))
    assert len(cells) == 24 * 2, "a cell for every hour of the day and district, data or not"
    centre = [c for c in cells if c["district"] == "centre"]
    assert [c["vehicles"] for c in centre[:4]] == ["600", "600", "600", ""]
    assert [c["coverage"] for c in centre[:4]] == ["1.0", "1.0", "1.0", "0.0"]
    assert centre[0]["time"] == "2026-01-01T01:00:00+01:00", "local time with its offset"
    hamlet = {c["time"]: c for c in cells if c["district"] == "hamlet"}
    assert hamlet["2026-01-01T01:00:00+01:00"]["vehicles"] == "30"
    for t in ("2026-01-01T02:00:00+01:00", "2026-01-01T03:00:00+01:00"):
        assert hamlet[t]["vehicles"] == "" and hamlet[t]["suppressed"] == "True"
    published = [int(c["vehicles"]) for c in cells if c["vehicles"]]
    assert min(published) >= 10  # no cell below the threshold
    with (tmp_path / "bicycle-counts.csv").open() as f:
        bicycles = [(c["bicycles"], c["suppressed"]) for c in csv.DictReader(f)]
    assert bicycles == [("48", "False")] * 3, "each hour's bicycles, every channel summed"
    with (tmp_path / "pedestrian-counts.csv").open() as f:
        walkers = [(c["pedestrians"], c["suppressed"]) for c in csv.DictReader(f)]
    assert walkers == [("", "True")] * 3, "6 pedestrians an hour: under the threshold"

    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "etalab-2.0"
    report = validate(tmp_path / "datapackage.json")  # the package and every row against it
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    for resource in package["resources"]:
        with (tmp_path / resource["path"]).open() as f:
            header = next(csv.reader(f))
        described = [field["name"] for field in resource["schema"]["fields"]]
        assert header == described
        assert all("unit" in f and f["description"] for f in resource["schema"]["fields"])
        assert resource["update_frequency"]
    energy = json.loads((tmp_path / "lighting-energy.json").read_text())
    assert energy[0] == {
        "time": "2026-01-01T01:00:00+01:00",
        "district": "centre",
        "energy_kwh": 1.2,
        "full_power_kwh": 2.0,
        "burning_hours": 20.0,
    }


def _hourly(minutes: list[str], shift_ms: int) -> list[str]:
    """What InfluxDB's roll-up makes of 1-minute windows: one agg_1h point per series and
    hour (``vigie.contracts.storage.ROLLUPS``), moved by ``shift_ms``."""
    hours: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for line in sorted(minutes, key=lambda x: parse_line(x)[3]):
        _, tags, fields, t = parse_line(line)
        hours[(",".join(f"{k}={v}" for k, v in tags.items()), t - t % H)].append(fields)
    out = []
    for (tags, hour), ws in hours.items():
        count, total = sum(w["count"] for w in ws), sum(w["sum"] for w in ws)
        out.append(
            f"agg_1h,{tags} count={count}i,sum={total},min={min(w['min'] for w in ws)},"
            f"max={max(w['max'] for w in ws)},mean={total / count},last={ws[-1]['last']} "
            f"{hour + shift_ms}"
        )
    return out


def test_a_period_past_the_minute_retention_is_exported_from_the_hourly_windows(
    settings, stack, tmp_path, monkeypatch
):
    """Past the 1-minute windows' retention (400 days) only their hourly roll-ups hold a
    device's windows: the export reads those, and publishes the cells it published from the
    minutes. Read from the minutes, as before, the year-old day came out empty."""
    writer = (settings.influx.username, read_secret(settings.influx.password_file))
    monkeypatch.setenv("VIGIE_INFLUX__MINUTE_RETENTION", "INF")  # DAY's minutes, kept
    stack.prepare_database(settings.influx.database)
    minutes = [x for x in _lines() if x.startswith("agg_1m,")]
    old = DAY - 365 * 86_400_000  # 2025-01-01T00:00Z, past any 400-day retention from now

    async def write() -> None:
        async with InfluxV1Sink(settings.influx.url, settings.influx.database, auth=writer) as s:
            await s.write(minutes, "minute")
            await s.write(_hourly(minutes, old - DAY), "long")

    asyncio.run(write())
    per_device = [d for d in DATASETS if d.name in ("waste-filling", "mobility-counts")]
    kept = settings.influx.model_copy(update={"minute_retention": "INF"})
    export(kept, per_device, "od", DAY, DAY + 86_400_000, tmp_path / "minutes", "1h", 10)
    ladder = settings.influx.model_copy(update={"minute_retention": "400d"})
    export(ladder, per_device, "od", old, old + 86_400_000, tmp_path / "hours", "1h", 10)
    for d in per_device:
        recent, year_old = (
            [{k: v for k, v in r.items() if k != "time"} for r in json.loads(p.read_text())]
            for p in (
                tmp_path / "minutes" / f"{d.name}.json",
                tmp_path / "hours" / f"{d.name}.json",
            )
        )
        assert recent and year_old == recent, d.name
    waste = next(d for d in per_device if d.name == "waste-filling")
    span, clock = (old, old + 86_400_000), LocalClock()
    assert rows_of(ladder, waste, "od", span, "1h", 10, clock, windows=at(M.AGG_1M)) == []
