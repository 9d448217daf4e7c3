"""Where results are stored: InfluxDB retention policies and measurements, named once.

Stream workers write them (``streams.sinks.lineprotocol``); dashboards, open data, the
footprint report, the demo and the benchmarks read them. A query names a measurement with
``at``: ``f"SELECT ... FROM {at(Measurement.FLEET)}"``; ``at`` knows which retention policy
keeps each measurement.

The retention ladder: raw readings for ``raw_retention`` (7 days), 1-minute windows for
``minute_retention`` (400 days: a year and its comparison month, minute by minute), then
hourly and daily windows rolled up from them by InfluxDB itself (continuous queries,
``rollup_queries``), kept with everything else (KPIs, alerts) for good. With one reading a
minute per sensor, a 1-minute window holds one reading: the ladder is what keeps the store
from growing by a copy of every reading forever. The fleet rows (one per device and bulk) live
as long as the 1-minute windows; each device's last state of each UTC day is kept for good
(``fleet_1d``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

RAW_RP = "raw"  # raw readings, short retention (7 days by default)
MINUTE_RP = "minute"  # 1-minute windows (400 days by default)
LONG_RP = "long"  # hourly and daily windows, KPIs and everything else, kept
# metrics also kept in hourly windows every 15 minutes (``agg_hop_1h``): road traffic
HOP_METRICS: tuple[str, ...] = ("traffic_flow_vehh", "speed_kmh", "occupancy_pct")


class Measurement(StrEnum):
    TELEMETRY = "telemetry"  # raw readings (in RAW_RP; in LONG_RP once past the raw retention)
    AGG_1M = "agg_1m"
    AGG_1H = "agg_1h"  # rolled up from agg_1m by InfluxDB, labelled by the hour's start
    AGG_1D = "agg_1d"  # rolled up from agg_1h, UTC days
    AGG_HOP_1H = "agg_hop_1h"  # 1-hour windows every 15 minutes, labelled by their end
    LATE = "late_readings"
    FLEET = "fleet"
    FLEET_HISTORY = "fleet_history"  # the same, for imported history (gaps in the source)
    FLEET_1D = "fleet_1d"  # each device's last fleet row of each UTC day, rolled up
    DEAD_LETTERS = "dead_letters"
    BALANCE = "energy_balance"
    ATTRIBUTION = "energy_attribution"
    NIGHT = "water_night"
    WASTE = "waste_fill"
    ROAD = "road_state"
    ALERTS = "alerts"
    PLATFORM = "platform"
    FOOTPRINT = "footprint"  # the footprint report's daily points
    SAVINGS = "savings"
    DAY_BALANCE = "balance"
    ALERT_OPS = "alert_ops"  # the notifier: open, acknowledged, cleared, and how long it took


KEPT_IN: dict[Measurement, str] = {  # else LONG_RP
    Measurement.AGG_1M: MINUTE_RP,
    Measurement.FLEET: MINUTE_RP,
    Measurement.FLEET_HISTORY: MINUTE_RP,
}
# the fields of a fleet row (``streams.sinks.lineprotocol.fleet_lines``)
FLEET_FIELDS = (
    "last_seq",
    "missing_seq",
    "late",
    "last_reading_ms",
    "alerts",
    "edge_dropped",
    "first_seq",
    "lat",
    "lon",
)


def at(measurement: Measurement, rp: str | None = None) -> str:
    """The InfluxQL name of a measurement in a retention policy (by default, the one that
    keeps it)."""
    return f'"{rp or KEPT_IN.get(measurement, LONG_RP)}"."{measurement}"'


# a window of windows: counts and sums add up, the mean follows from them, the last is the
# latest window's (tags kept: GROUP BY *)
_WINDOWS_ROLLED = (
    'sum("count") AS "count", sum("sum") AS "sum", min("min") AS "min", max("max") AS "max", '
    'sum("sum") / sum("count") AS "mean", last("last") AS "last", '
    'max("last_ts_ms") AS "last_ts_ms"'
)
# a device's fleet state at the end of the period: each field's latest value
_FLEET_ROLLED = ", ".join(f'last("{f}") AS "{f}"' for f in FLEET_FIELDS)


@dataclass(frozen=True)
class Rollup:
    """Points of ``every`` made from the shorter ones of ``source``."""

    target: Measurement
    source: Measurement
    every: str  # an InfluxQL duration
    span: str  # how far back each run recomputes (late windows, idle closes)
    fields: str = _WINDOWS_ROLLED  # the InfluxQL select list


ROLLUPS = (
    Rollup(Measurement.AGG_1H, Measurement.AGG_1M, "1h", "2h"),
    Rollup(Measurement.AGG_1D, Measurement.AGG_1H, "1d", "2d"),
    Rollup(Measurement.FLEET_1D, Measurement.FLEET, "1d", "2d", _FLEET_ROLLED),
)


def rollup_select(rollup: Rollup) -> str:
    """The InfluxQL that writes ``rollup``'s points (a continuous query sets the time range)."""
    return (
        f"SELECT {rollup.fields} INTO {at(rollup.target)} FROM {at(rollup.source)} "
        f"GROUP BY time({rollup.every}), *"
    )


def rollup_queries(database: str, run_every: str) -> list[str]:
    """Statements that (re)create the continuous queries of the ladder on ``database``, each
    run every ``run_every`` over its recent span (InfluxDB 1.x; an administrator's)."""
    out = []
    for r in ROLLUPS:
        out.append(f'DROP CONTINUOUS QUERY "{r.target}" ON "{database}"')
        out.append(
            f'CREATE CONTINUOUS QUERY "{r.target}" ON "{database}" RESAMPLE EVERY {run_every} '
            f"FOR {r.span} BEGIN {rollup_select(r)} END"
        )
    return out


def retention_policies(raw: str, minute: str, long: str) -> list[tuple[str, str, bool]]:
    """(name, duration, default) of each retention policy; raw is the default."""
    return [(RAW_RP, raw, True), (MINUTE_RP, minute, False), (LONG_RP, long, False)]


@dataclass(frozen=True)
class SchemaStep:
    """One InfluxQL statement of the schema, and what to run instead when it fails (a
    retention policy that exists already is altered to the durations asked)."""

    statement: str
    otherwise: str | None = None


def schema(database: str, retention: tuple[str, str, str], rollup_every: str) -> list[SchemaStep]:
    """Everything Vigie's database needs, in order: the database, the retention ladder
    (``retention``: raw, minute, long durations; raw the default) and the continuous queries.
    The one place it is written; the stack (as administrator) and the stream workers' sink
    (when it may) run it."""
    steps = [SchemaStep(f'CREATE DATABASE "{database}"')]
    for name, duration, default in retention_policies(*retention):
        is_default = " DEFAULT" if default else ""
        steps.append(
            SchemaStep(
                f'CREATE RETENTION POLICY "{name}" ON "{database}" DURATION {duration} '
                f"REPLICATION 1{is_default}",
                f'ALTER RETENTION POLICY "{name}" ON "{database}" DURATION {duration}{is_default}',
            )
        )
    return steps + [SchemaStep(s) for s in rollup_queries(database, rollup_every)]
