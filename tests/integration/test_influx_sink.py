"""Integration: the InfluxDB 1.x sink against the real InfluxDB started by the stack."""

import asyncio
import time

import pytest

from streams.sinks.influx_v1 import InfluxV1Sink
from vigie import influxql

pytestmark = pytest.mark.integration


def test_writes_are_idempotent_and_retention_policies_exist(settings):
    url, db = settings.influx.url, settings.influx.database

    async def go():
        async with InfluxV1Sink(url, db) as sink:
            line = "agg_1m,device=a,metric=power_w count=2i,sum=3.0 60000"
            await sink.write([line], "long")
            await sink.write([line.replace("sum=3.0", "sum=5.0")], "long")
            now = int(time.time() * 1000)
            await sink.write([f"telemetry,device=a,metric=power_w value=1.5 {now}"], "raw")
            await sink.write(["telemetry,device=a,metric=power_w value=1.5 1000"], "raw")
            assert sink.partial_writes == 1  # beyond the 7-day raw retention: reported

    asyncio.run(go())
    rows = influxql.query(url, db, 'SELECT "count", "sum" FROM "long"."agg_1m"')
    assert rows == [{"time": 60000, "count": 2, "sum": 5.0}]
    policies = {r["name"]: r for r in influxql.query(url, db, f'SHOW RETENTION POLICIES ON "{db}"')}
    assert policies["raw"]["default"] is True
    assert policies["raw"]["duration"] == "168h0m0s"
    assert policies["long"]["duration"] == "0s"
