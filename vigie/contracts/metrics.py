"""The metric registry: every metric a device may send, its unit, vertical and physical bounds.

Names carry their unit (``power_w``, ``flow_m3h``) so that a number is never read without it.
Vocabulary follows the FIWARE Smart Data Models where one exists (see REFERENCE-DATA.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vigie.errors import UsageError


class Vertical(StrEnum):
    """The territory's domains; each has its own MQTT subtree and Kafka topic."""

    LIGHTING = "lighting"
    WATER = "water"
    WASTE = "waste"
    MOBILITY = "mobility"


class MetricKind(StrEnum):
    """How a metric's values combine over time."""

    GAUGE = "gauge"  # instantaneous value (power, flow, fill level): a window's mean
    COUNT = "count"  # a count over the period before the reading (passages): a window's sum
    INDEX = "index"  # cumulative index (energy meter, water meter): a window's last; deltas


# which field of a window (count, sum, min, max, last) answers "how much in this period"
COMBINE: dict[MetricKind, str] = {
    MetricKind.GAUGE: "mean",
    MetricKind.COUNT: "sum",
    MetricKind.INDEX: "last",
}
# the most metrics one platform knows, built-in and declared (a worker's window codes are
# device index * METRIC_SLOTS + metric index)
METRIC_SLOTS = 256


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One registry entry: what the metric is and which values are physically possible."""

    name: str
    unit: str
    vertical: Vertical | None  # None: a device health metric, allowed in every vertical
    kind: MetricKind
    minimum: float
    maximum: float
    description: str
    fiware: str = ""  # the Smart Data Models entity and attribute it maps to

    @property
    def combine(self) -> str:
        """The window field that says how much in a period: mean, sum or last."""
        return COMBINE[self.kind]


_SPECS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "power_w",
        "W",
        Vertical.LIGHTING,
        MetricKind.GAUGE,
        0.0,
        5_000.0,
        "Active power drawn by a lamp",
        "Streetlight.powerConsumption",
    ),
    MetricSpec(
        "cabinet_power_w",
        "W",
        Vertical.LIGHTING,
        MetricKind.GAUGE,
        0.0,
        250_000.0,
        "Total active power at a lighting control cabinet",
        "StreetlightControlCabinet.totalActivePower",
    ),
    MetricSpec(
        "energy_index_wh",
        "Wh",
        Vertical.LIGHTING,
        MetricKind.INDEX,
        0.0,
        1e13,
        "Cumulative energy index of a cabinet meter",
        "StreetlightControlCabinet.lastMeterReading",
    ),
    MetricSpec(
        "voltage_v",
        "V",
        Vertical.LIGHTING,
        MetricKind.GAUGE,
        0.0,
        1_000.0,
        "Supply voltage at a cabinet meter (phase 1 to neutral)",
        "StreetlightControlCabinet.voltage",
    ),
    MetricSpec(
        "dimming_pct",
        "%",
        Vertical.LIGHTING,
        MetricKind.GAUGE,
        0.0,
        100.0,
        "Lamp output level",
        "Streetlight.illuminanceLevel",
    ),
    MetricSpec(
        "illuminance_lx",
        "lx",
        Vertical.LIGHTING,
        MetricKind.GAUGE,
        0.0,
        200_000.0,
        "Ambient illuminance",
    ),
    MetricSpec(
        "flow_m3h",
        "m3/h",
        Vertical.WATER,
        MetricKind.GAUGE,
        0.0,
        10_000.0,
        "Water flow through a meter",
        "WaterConsumptionObserved.flow",
    ),
    MetricSpec(
        "volume_index_m3",
        "m3",
        Vertical.WATER,
        MetricKind.INDEX,
        0.0,
        1e10,
        "Cumulative water meter index",
        "WaterConsumptionObserved.waterConsumption",
    ),
    MetricSpec(
        "pressure_bar", "bar", Vertical.WATER, MetricKind.GAUGE, 0.0, 25.0, "Network pressure"
    ),
    MetricSpec(
        "fill_pct",
        "%",
        Vertical.WASTE,
        MetricKind.GAUGE,
        0.0,
        100.0,
        "Container filling level",
        "WasteContainer.fillingLevel",
    ),
    MetricSpec(
        "temperature_degc",
        "degC",
        Vertical.WASTE,
        MetricKind.GAUGE,
        -50.0,
        150.0,
        "Temperature inside a container",
        "WasteContainer.temperature",
    ),
    MetricSpec(
        "traffic_flow_vehh",
        "veh/h",
        Vertical.MOBILITY,
        MetricKind.GAUGE,
        0.0,
        20_000.0,
        "Vehicle flow at a counting point",
        "TrafficFlowObserved.intensity",
    ),
    MetricSpec(
        "speed_kmh",
        "km/h",
        Vertical.MOBILITY,
        MetricKind.GAUGE,
        0.0,
        300.0,
        "Mean vehicle speed",
        "TrafficFlowObserved.averageVehicleSpeed",
    ),
    MetricSpec(
        "occupancy_pct",
        "%",
        Vertical.MOBILITY,
        MetricKind.GAUGE,
        0.0,
        100.0,
        "Road or parking occupancy",
        "TrafficFlowObserved.occupancy",
    ),
    # active mobility: what a counter's channel counted in the period ending at the reading's
    # time (an hour, 15 minutes, ...); windows add them up, a day's total is its sum
    MetricSpec(
        "bicycles_count",
        "{bicycle}",
        Vertical.MOBILITY,
        MetricKind.COUNT,
        0.0,
        100_000.0,
        "Bicycles counted in the period",
        "TrafficFlowObserved.intensity",
    ),
    MetricSpec(
        "pedestrians_count",
        "{pedestrian}",
        Vertical.MOBILITY,
        MetricKind.COUNT,
        0.0,
        100_000.0,
        "Pedestrians counted in the period",
        "TrafficFlowObserved.intensity",
    ),
)

_HEALTH: tuple[MetricSpec, ...] = (
    MetricSpec(
        "cpu_temp_degc", "degC", None, MetricKind.GAUGE, -60.0, 150.0, "Board CPU temperature"
    ),
    MetricSpec("mem_used_pct", "%", None, MetricKind.GAUGE, 0.0, 100.0, "Board memory in use"),
    MetricSpec("disk_used_pct", "%", None, MetricKind.GAUGE, 0.0, 100.0, "Board storage in use"),
    MetricSpec(
        "queue_depth",
        "batches",
        None,
        MetricKind.GAUGE,
        0.0,
        1e9,
        "Batches waiting in the edge store-and-forward queue",
    ),
    MetricSpec(
        "queue_dropped",
        "batches",
        None,
        MetricKind.INDEX,
        0.0,
        1e12,
        "Batches dropped by the queue bound since installation",
    ),
    MetricSpec(
        "seq_first",
        "seq",
        None,
        MetricKind.GAUGE,
        0.0,
        2.0**53,
        "First sequence number the agent's queue gave (gaps before the platform's first "
        "batch from the device count from it)",
    ),
    MetricSpec("link_up", "1", None, MetricKind.GAUGE, 0.0, 1.0, "Broker connection up"),
    MetricSpec(
        "battery_pct",
        "%",
        None,
        MetricKind.GAUGE,
        0.0,
        100.0,
        "Battery level",
        "Device.batteryLevel",
    ),
    MetricSpec(
        "rssi_dbm", "dBm", None, MetricKind.GAUGE, -150.0, 0.0, "Radio signal", "Device.rssi"
    ),
    MetricSpec("battery_v", "V", None, MetricKind.GAUGE, 0.0, 60.0, "Battery voltage"),
    MetricSpec("snr_db", "dB", None, MetricKind.GAUGE, -40.0, 40.0, "Radio signal-to-noise ratio"),
    # a field bus meter behind the board (Modbus): 1 when it answered this sample, else 0
    MetricSpec("meter_up", "1", None, MetricKind.GAUGE, 0.0, 1.0, "Field meter answered"),
    MetricSpec(
        "read_errors",
        "reads",
        None,
        MetricKind.GAUGE,
        0.0,
        1e6,
        "Field bus reads that failed since the previous sample",
    ),
    # the agent's own footprint, each over the interval since its previous health report
    MetricSpec("tx_messages", "messages", None, MetricKind.GAUGE, 0.0, 1e9, "MQTT messages sent"),
    MetricSpec("tx_bytes", "B", None, MetricKind.GAUGE, 0.0, 1e12, "MQTT payload bytes sent"),
    MetricSpec("cpu_s", "s", None, MetricKind.GAUGE, 0.0, 1e6, "CPU time used by the agent"),
    # a radio sensor's probe (ultrasonic, ...): 1 when it read a value within the range its
    # maker specifies, 0 when it did not answer or read outside it (the value is not kept)
    MetricSpec("sensor_ok", "1", None, MetricKind.GAUGE, 0.0, 1.0, "Sensor read within its range"),
)
_SPECS = _SPECS + _HEALTH

# The process's catalogue: the built-in metrics, then those a territory declares
# (``declare``, from its catalogue file, ``vigie.catalogue``). These three grow in place, so
# every module that imported them sees the declared metrics; nothing ever removes one.
METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}
METRIC_NAMES: list[str] = list(METRICS)
METRIC_INDEX: dict[str, int] = {name: i for i, name in enumerate(METRIC_NAMES)}
BUILTIN: frozenset[str] = frozenset(METRICS)


class CatalogueClash(UsageError, ValueError):
    """A declared metric that contradicts one the process knows already, or one too many."""


def declare(specs: tuple[MetricSpec, ...]) -> tuple[MetricSpec, ...]:
    """Add a territory's metrics to the process's catalogue; returns those that were new.

    Declaring the same metric again is a no-op (a registry loaded twice); a name the catalogue
    holds with another definition, or a built-in name, is refused, as is going past
    ``METRIC_SLOTS``. Nothing is added when anything is refused."""
    fresh: list[MetricSpec] = []
    for spec in specs:
        known = METRICS.get(spec.name)
        if known == spec and spec.name not in BUILTIN:
            continue
        if known is not None:
            what = "a built-in metric" if spec.name in BUILTIN else "declared otherwise"
            raise CatalogueClash(f"metric {spec.name}: {what} ({known.unit}, {known.kind})")
        fresh.append(spec)
    if len(METRIC_NAMES) + len(fresh) > METRIC_SLOTS:
        raise CatalogueClash(f"more than {METRIC_SLOTS} metrics in all")
    for spec in fresh:
        METRICS[spec.name] = spec
        METRIC_INDEX[spec.name] = len(METRIC_NAMES)
        METRIC_NAMES.append(spec.name)
    return tuple(fresh)


def metrics_of(vertical: Vertical) -> tuple[MetricSpec, ...]:
    """The metrics a device of this vertical may send (its own and the health metrics)."""
    return tuple(spec for spec in METRICS.values() if spec.vertical in (vertical, None))
