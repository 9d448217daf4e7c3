"""Where results are stored: InfluxDB retention policies and measurements, named once.

Stream workers write them (``streams.sinks.lineprotocol``); dashboards, open data, the
footprint report, the demo and the benchmarks read them. A query names a measurement with
``at``: ``f"SELECT ... FROM {at(Measurement.FLEET)}"``.
"""

from __future__ import annotations

from enum import StrEnum

RAW_RP = "raw"  # raw readings, short retention (7 days by default)
LONG_RP = "long"  # aggregates and everything else, kept
# metrics also kept in hourly windows every 15 minutes (``agg_hop_1h``): road traffic
HOP_METRICS: tuple[str, ...] = ("traffic_flow_vehh", "speed_kmh", "occupancy_pct")


class Measurement(StrEnum):
    TELEMETRY = "telemetry"  # raw readings (in RAW_RP; in LONG_RP once past the raw retention)
    AGG_1M = "agg_1m"
    AGG_HOP_1H = "agg_hop_1h"  # 1-hour windows every 15 minutes, labelled by their end
    LATE = "late_readings"
    FLEET = "fleet"
    FLEET_HISTORY = "fleet_history"  # the same, for imported history (gaps in the source)
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


def at(measurement: Measurement, rp: str = LONG_RP) -> str:
    """The InfluxQL name of a measurement in a retention policy."""
    return f'"{rp}"."{measurement}"'
