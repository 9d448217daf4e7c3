"""What the entities carry of the measurements, read from InfluxDB: each bin's last filling
level, the lamps whose failure alert is open, each counter's vehicles in the last complete
hour (the mean of its 1-minute flows, in vehicles per hour, over that hour; a bicycle or
pedestrian channel's sum of its counts)."""

from __future__ import annotations

from reports.interop.ngsild import Latest
from vigie import influxql
from vigie.contracts.metrics import BUILTIN, METRICS
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.sections import InfluxSettings

HOUR_MS = 3_600_000


def read_latest(influx: InfluxSettings, territory: str, now_ms: int) -> Latest:
    """The measurements the territory's entities carry, as of ``now_ms``."""
    where = f"\"territory\" = '{territory}'"
    bins = influxql.query(
        influx,
        f'SELECT last("fill_pct") AS "fill" FROM {at(M.WASTE)} WHERE {where} GROUP BY "device"',
    )
    alerts = influxql.query(
        influx,
        f'SELECT last("open") AS "open" FROM {at(M.ALERTS)} WHERE {where} AND '
        '"kind" = \'lamp_failure\' GROUP BY "device"',
    )
    hour_end = now_ms - now_ms % HOUR_MS
    hour_start = hour_end - HOUR_MS
    flows = influxql.query(
        influx,
        f'SELECT mean("mean") AS "flow" FROM {at(M.AGG_1M)} WHERE {where} AND '
        f"\"metric\" = 'traffic_flow_vehh' AND time >= {hour_start}ms AND time < {hour_end}ms "
        'GROUP BY "device"',
    )
    counted = influxql.query(
        influx,
        f'SELECT sum("sum") AS "flow" FROM {at(M.AGG_1M)} WHERE {where} AND '
        f"(\"metric\" = 'bicycles_count' OR \"metric\" = 'pedestrians_count') AND "
        f'time >= {hour_start}ms AND time < {hour_end}ms GROUP BY "device"',
    )
    flows = [*flows, *counted]
    declared = [s.name for s in METRICS.values() if s.name not in BUILTIN and s.fiware]
    values = (
        influxql.query(
            influx,
            f'SELECT last("last") AS "value" FROM {at(M.AGG_1M)} WHERE {where} AND '
            f'"metric" =~ /^({"|".join(declared)})$/ AND time < {now_ms}ms '
            'GROUP BY "device", "metric"',
        )
        if declared
        else []
    )
    return Latest(
        at_ms=now_ms,
        bin_fill={r["device"]: r["fill"] / 100 for r in bins if r.get("fill") is not None},
        failed_lamps=frozenset(r["device"] for r in alerts if r.get("open") == 1),
        traffic={
            r["device"]: (hour_start, hour_end - 1, float(r["flow"]))
            for r in flows
            if r.get("flow") is not None
        },
        declared={
            (r["device"], r["metric"]): (int(r["time"]), float(r["value"]))
            for r in values
            if r.get("value") is not None
        },
    )
