"""What the pipeline computes from one bulk, as typed rows; the sink's serialiser turns them
into its backend's format (``streams/sinks/lineprotocol.py`` for both InfluxDB sinks).

Rows carry the device (and its vertical where the registry cannot say it); tags such as the
territory and district are the serialiser's, from the registry of the territory served.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from streams.alerts import Alert
from streams.groups import Balance, NightVerdict
from streams.kpis import BinLevel
from streams.windowing import WindowRow
from vigie.contracts import TelemetryBatch

LateReading = tuple[str, str, int, float]  # device, metric, reading time, value


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One device's delivery health after a bulk (the fleet view)."""

    device: str
    last_seq: int  # -1: none yet
    missing_seq: int
    late: int
    last_reading_ms: int
    alerts: int
    edge_dropped: int
    first_seq: int | None  # the first sequence number the device reported, when it did
    at_ms: int


@dataclass(frozen=True, slots=True)
class RoadPoint:
    """A counter's occupancy and traffic state over one reading interval."""

    device: str
    ts_ms: int
    occupancy_pct: float
    state: int


@dataclass(frozen=True, slots=True)
class BinPoint:
    device: str
    level: BinLevel


@dataclass(frozen=True, slots=True)
class MeterBalance:
    """A closed hour of a shared meter, with the device that meters it."""

    meter: str
    balance: Balance


@dataclass(frozen=True, slots=True)
class DistrictAttribution:
    """A meter's hour attributed to one district of its lamps."""

    district: str
    meter: str
    start_ms: int
    attributed_wh: float
    burning_h: float
    full_power_wh: float
    lamps_wh: float
    lamps: int


@dataclass(frozen=True, slots=True)
class MeterNight:
    meter: str
    verdict: NightVerdict


@dataclass
class BulkOutput:
    """Everything one bulk produced, and what it changed (states to save)."""

    verticals: dict[str, str] = field(default_factory=dict)  # device -> vertical, as received
    fresh: list[TelemetryBatch] = field(default_factory=list)  # raw readings to store
    raw_from_ms: int | None = None  # older raw readings go to the long retention
    minute_from_ms: int | None = None  # older 1-minute windows too (imported history)
    windows: list[WindowRow] = field(default_factory=list)  # 1-minute tumbling
    hop_windows: list[WindowRow] = field(default_factory=list)  # labelled by their end
    hop_window_ms: int = 0
    late_readings: list[LateReading] = field(default_factory=list)
    fleet: list[FleetRow] = field(default_factory=list)
    fleet_history: bool = False  # the fleet rows describe imported history
    balances: list[MeterBalance] = field(default_factory=list)
    attributions: list[DistrictAttribution] = field(default_factory=list)
    nights: list[MeterNight] = field(default_factory=list)
    bins: list[BinPoint] = field(default_factory=list)
    roads: list[RoadPoint] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    devices: set[str] = field(default_factory=set)  # states to save
    groups: set[str] = field(default_factory=set)
    readings: int = 0
    duplicates: int = 0
    late: int = 0
    history: int = 0  # of the readings, those imported as history
    reading_ts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # fresh ones

    def merge(self, other: BulkOutput, history: bool = False) -> None:
        """Add another part's counts and alerts (its rows are serialised with its own
        territory's tags, its states are the caller's to key); history's readings count, but
        not in the reading-to-storage lag."""
        self.alerts += other.alerts
        self.readings += other.readings
        self.duplicates += other.duplicates
        self.late += other.late
        self.history += other.readings if history else other.history
        if not history and other.reading_ts.size:
            self.reading_ts = np.concatenate([self.reading_ts, other.reading_ts])
