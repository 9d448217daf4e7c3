"""End to end: a metric Vigie does not know, declared by the territory without code.

A water-quality probe sends turbidity in NTU, which the built-in catalogue has no metric for.
The territory declares it in the ``metrics.toml`` beside its registry; then, through the real
bridge, worker and InfluxDB, its readings are stored and windowed, its generic panel draws
them, the open data export has its data set and the NGSI-LD export its
``WaterQualityObserved``. A reading of a metric declared nowhere, and one out of the declared
bounds, are dead letters with their reasons, and the valid readings around them all arrive.
"""

from __future__ import annotations

import csv
import json
import time

import pytest

from dashboards.catalog import declared_metrics
from dashboards.spec import render
from reports.interop.latest import read_latest
from reports.interop.ngsild import entities, key_values
from reports.interop.schemas import problems
from reports.opendata.datasets import catalogue_dataset
from reports.opendata.export import export
from simulators.publish import publish
from simulators.recording import Recorded
from simulators.simulation import Emitted
from tests.helpers import read_topic_letters, running_chain
from vigie import influxql
from vigie.catalogue import catalogue_path, declared
from vigie.contracts import Asset, AssetKind, District, RejectReason, TelemetryBatch, Territory
from vigie.contracts import Vertical as V
from vigie.localtime import LocalClock
from vigie.registries import Registries

pytestmark = pytest.mark.e2e
CATALOGUE = """\
version = 1

[[metric]]
name = "turbidity_ntu"
unit = "[NTU]"
vertical = "water"
kind = "gauge"
minimum = 0
maximum = 4000
description = "Turbidity of the water"
fiware = "WaterQualityObserved.turbidity"
"""
TERRITORY = Territory(
    id="quality",
    name="Quality",
    lat=45.0,
    lon=5.0,
    districts=[District(id="river", name="River")],
    assets=[
        Asset(
            id="turb-1",
            kind=AssetKind.SENSOR,
            district="river",
            lat=45.01,
            lon=5.02,
            sensor_vertical=V.WATER,
            measures=["turbidity_ntu"],
        )
    ],
)


def _stored(settings) -> int:
    rows = influxql.query(
        settings.influx,
        'SELECT count("value") FROM "raw"."telemetry" WHERE "metric" = \'turbidity_ntu\'',
    )
    return int(rows[0]["count"]) if rows else 0


def test_a_declared_metric_is_stored_windowed_drawn_and_exported_with_no_code_change(
    settings, isolated, tmp_path
):
    catalogue_path(tmp_path / "territory.json").write_text(CATALOGUE)
    TERRITORY.save(tmp_path / "territory.json")
    Registries.load(tmp_path / "territory.json")  # this process knows it too, as the others
    now = int(time.time() * 1000)
    start = now - now % 60_000 - 10 * 60_000  # ten whole minutes back
    batches, expected = [], {}
    for n in range(10):  # one batch a minute, six readings of it
        minute = start + n * 60_000
        values = [round(2.0 + n + k / 10, 2) for k in range(6)]
        expected[minute] = (6, round(sum(values), 6), values[-1])
        readings = [
            {"ts_ms": minute + k * 10_000, "metric": "turbidity_ntu", "value": v}
            for k, v in enumerate(values)
        ]
        batches.append(TelemetryBatch(device_id="turb-1", seq=n, sent_at_ms=now, readings=readings))
    topic = f"{settings.mqtt.prefix}/quality/water/turb-1/telemetry"

    def raw(seq: int, metric: str, value: float) -> Recorded:
        body = {"v": 1, "device_id": "turb-1", "seq": seq, "sent_at_ms": now,
                "readings": [{"ts_ms": now - 5_000, "metric": metric, "value": value}]}  # fmt: skip
        return Recorded(now, topic, json.dumps(body).encode())

    sent = [
        *(Emitted(now, V.WATER, b) for b in batches[:5]),
        raw(100, "chlorine_mgl", 0.4),  # declared nowhere
        raw(101, "turbidity_ntu", 4200.0),  # over its declared maximum
        *(Emitted(now, V.WATER, b) for b in batches[5:]),
    ]
    with running_chain(settings, isolated, tmp_path, TERRITORY) as chain:
        report = publish(sent, settings.mqtt, TERRITORY.id, start_ms=now, show_progress=False)
        assert report.readings == 60
        deadline = time.monotonic() + 90
        while _stored(settings) < 60 and time.monotonic() < deadline:
            time.sleep(0.5)
        chain.check_alive()
        assert _stored(settings) == 60
        time.sleep(2)  # the last window's row follows its readings
        letters = read_topic_letters(settings)

    refused = {d.reason: d.detail for d in letters}
    assert refused.keys() == {RejectReason.UNKNOWN_METRIC, RejectReason.OUT_OF_BOUNDS}
    assert "'chlorine_mgl' is not in the metric catalogue" in refused[RejectReason.UNKNOWN_METRIC]
    assert "[NTU] outside [0.0, 4000.0] for turbidity_ntu" in refused[RejectReason.OUT_OF_BOUNDS]

    windows = influxql.query(
        settings.influx,
        'SELECT "count", "sum", "last" FROM "minute"."agg_1m" WHERE '
        "\"metric\" = 'turbidity_ntu' AND \"device\" = 'turb-1'",
    )
    got = {int(w["time"]): (w["count"], round(w["sum"], 6), w["last"]) for w in windows}
    assert got == expected, "each minute's window holds its six readings"

    # its generic panel, as Grafana would query it
    spec = next(s for s in declared() if s.name == "turbidity_ntu")
    (panel,) = declared_metrics((spec,)).panels
    drawn = influxql.query(
        settings.influx, render(panel.query, "quality", since="1h", interval="1m")
    )
    means = sorted(round(r["mean"], 6) for r in drawn if r.get("mean") is not None)
    assert means == sorted(round(s / c, 6) for c, s, _ in expected.values())

    # open data: the district's mean per hour, every reading in it
    dataset = catalogue_dataset(spec)
    hour = start - start % 3_600_000
    clock = LocalClock("Europe/Paris")
    counts = export(
        settings.influx, [dataset], "quality", hour, hour + 2 * 3_600_000, tmp_path / "od",
        "1h", 10, clock,
    )  # fmt: skip
    with (tmp_path / "od" / f"{dataset.name}.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert counts[dataset.name] == len(rows) >= 1 and {r["district"] for r in rows} == {"river"}
    per_hour: dict[int, list[float]] = {}
    for minute, (c, s, _) in expected.items():
        per_hour.setdefault(minute - minute % 3_600_000, []).append(s / c)
    assert sorted(round(float(r["turbidity_ntu"]), 4) for r in rows) == sorted(
        round(sum(m) / len(m), 4) for m in per_hour.values()
    )

    # NGSI-LD: the probe is a Device measuring turbidity; its last value an observation
    found = entities(TERRITORY, read_latest(settings.influx, "quality", int(time.time() * 1000)))
    device = key_values(next(e for e in found if e["type"] == "Device"))
    assert device["controlledProperty"] == ["turbidity"] and problems(device) == []
    observed = next(e for e in found if e["type"] == "WaterQualityObserved")
    last_minute = max(expected)
    assert observed["turbidity"]["value"] == expected[last_minute][2]
    assert observed["refDevice"]["object"] == "urn:ngsi-ld:Device:quality:turb-1"
