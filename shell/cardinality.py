"""How many InfluxDB series a territory's registry makes, and the budget it must fit.

InfluxDB keeps an index entry per series (measurement plus tag set), in memory with the 1.x
default index; its cost grows with the number of series, not of points. What the stream
workers write is fixed by the registry: each device's metrics, raw, in 1-minute windows and
in the hourly and daily windows rolled up from them (and hourly hopping windows for road
traffic), its fleet rows (and their daily roll-up), the KPIs derived from it, and what it
reports about itself. ``series_of`` counts them per asset kind, as an upper bound
(every metric a device of that kind may send, health included); ``vigie registry import``,
``validate`` and ``show`` check the count against ``VIGIE_INFLUX__MAX_SERIES``.

The default budget, 1,000,000 series per database, is the top of the "moderate load" band of
InfluxData's hardware sizing guide for a single 1.x node (4-6 cores, 8-32 GB of RAM).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from vigie.contracts.registry import AssetKind, Territory
from vigie.contracts.storage import HOP_METRICS, ROLLUPS, Measurement

# what a device of each kind measures (what the simulator and the edge drivers send)
KIND_METRICS: dict[AssetKind, tuple[str, ...]] = {
    AssetKind.LAMP: ("power_w", "dimming_pct"),
    AssetKind.LIGHTING_CABINET: ("cabinet_power_w", "energy_index_wh", "voltage_v"),
    AssetKind.WATER_METER: ("flow_m3h", "volume_index_m3"),
    AssetKind.PRESSURE_SENSOR: ("pressure_bar",),
    AssetKind.BIN: ("fill_pct", "temperature_degc"),
    AssetKind.TRAFFIC_COUNTER: ("traffic_flow_vehh", "speed_kmh", "occupancy_pct"),
    AssetKind.PARKING_SENSOR: ("occupancy_pct",),
    AssetKind.BICYCLE_COUNTER: ("bicycles_count",),
    AssetKind.PEDESTRIAN_COUNTER: ("pedestrians_count",),
    AssetKind.SENSOR: (),  # what its ``measures`` says (``series_of``)
}
# what it reports about itself: a cabinet hosts an edge board (the agent's health and its
# meter's), a lamp controller is a mains-powered radio node (its link), the others are
# battery radio nodes (battery and link)
AGENT_HEALTH = (
    "cpu_temp_degc", "mem_used_pct", "disk_used_pct", "queue_depth", "queue_dropped",
    "seq_first", "link_up", "tx_messages", "tx_bytes", "cpu_s", "meter_up", "read_errors",
)  # fmt: skip
LINK_HEALTH = ("rssi_dbm", "snr_db")
# battery radio nodes; those with a probe (a bin's ultrasonic one) say whether it read well
BATTERY_HEALTH = ("battery_pct", "battery_v", "sensor_ok", *LINK_HEALTH)
KIND_HEALTH: dict[AssetKind, tuple[str, ...]] = {kind: BATTERY_HEALTH for kind in AssetKind} | {
    AssetKind.LIGHTING_CABINET: AGENT_HEALTH,
    AssetKind.LAMP: LINK_HEALTH,
}
# KPI series per device: a meter's balance (and a water meter's night flow), a bin's fill, a
# road counter's state; alerts add one per device and alert kind raised
KIND_KPIS: dict[AssetKind, int] = {
    AssetKind.LIGHTING_CABINET: 1,
    AssetKind.WATER_METER: 2,
    AssetKind.BIN: 1,
    AssetKind.TRAFFIC_COUNTER: 1,
}
# the window measurements each metric is in: raw, per minute, and the roll-ups of those
WINDOWS_PER_METRIC = 2 + sum(r.source in (Measurement.AGG_1M, Measurement.AGG_1H) for r in ROLLUPS)
# the device's rows on the fleet view, and their daily roll-up
FLEET_ROWS = 1 + sum(r.source is Measurement.FLEET for r in ROLLUPS)
PLATFORM_SERIES = 200  # the platform's own figures, dead letters by reason, footprint


def series_per_device(kind: AssetKind) -> int:
    """The series one device of ``kind`` may make: each metric raw, per minute, hour and day
    (and per hopping hour when hopped), its fleet rows and its KPIs."""
    metrics = KIND_METRICS[kind] + KIND_HEALTH[kind]
    per_metric = sum(WINDOWS_PER_METRIC + (m in HOP_METRICS) for m in metrics)
    return per_metric + FLEET_ROWS + KIND_KPIS.get(kind, 0)


@dataclass(frozen=True)
class SeriesEstimate:
    """A territory's series, per asset kind, and in all."""

    per_kind: dict[AssetKind, int]
    attribution: int  # a cabinet's energy shared per district of its lamps
    total: int

    def over(self, budget: int) -> bool:
        return self.total > budget


def series_of(territory: Territory) -> SeriesEstimate:
    """The series a territory's registry makes at most (see the module's docstring)."""
    count = Counter(a.kind for a in territory.assets)
    per_kind = {kind: n * series_per_device(kind) for kind, n in count.items()}
    for a in territory.assets:  # a sensor's declared metrics, each raw and in its windows
        if a.measures:
            per_kind[a.kind] += len(a.measures) * WINDOWS_PER_METRIC
    shared = {(a.cabinet_id, a.district) for a in territory.assets if a.cabinet_id}
    total = sum(per_kind.values()) + len(shared) + PLATFORM_SERIES
    return SeriesEstimate(per_kind, len(shared), total)
