"""The stream workers' tunable policies: lamp, bin and road KPIs, and the shared meters' hourly
balance and night flows. Settings values (``VIGIE_STREAMS__KPI__LAMP_OFF_W``,
``VIGIE_STREAMS__GROUP__LEAK_RATIO`` ...), frozen; each worker sets the territory's local
clock on them. Part of the shared core."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from vigie.localtime import LocalClock


class KpiPolicy(BaseModel):
    """Per-device KPIs and the alerts they raise."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    lamp_off_w: float = 1.0  # a lamp below this while it should burn is failing
    lamp_fail_readings: int = 3
    switch_off_hours: tuple[int, int] | None = None  # local (from, to), e.g. (23, 5)
    bin_full_pct: float = 80.0
    bin_clear_pct: float = 60.0
    bin_emptied_drop_pct: float = 10.0
    congestion_pct: float = 50.0
    congestion_clear_pct: float = 30.0
    congestion_readings: int = 2
    meter_down_readings: int = 3  # polls in a row a field meter did not answer
    # readings in a row a sensor's probe gave nothing valid (one glitch is no failing probe)
    sensor_fault_readings: int = 2
    silent_after_ms: int = 900_000  # set from streams.silent_after_s
    clock: LocalClock = Field(default_factory=LocalClock, exclude=True)  # the territory's


class GroupPolicy(BaseModel):
    """Shared meters: hourly energy balance and attribution, night minimum flows."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    window_ms: int = 3_600_000  # set from streams.attribution_window_s
    lateness_ms: int = 1_800_000  # set from streams.group_lateness_s
    max_ratio: float = 1.08  # meter/model ratio still explained by line losses
    nominal_losses: float = 0.03
    remainder_alert_share: float = 0.10  # unexplained / metered that raises an alert...
    remainder_alert_min_w: float = 200.0  # ...when it also averages this much power
    night_from_h: int = 2
    night_to_h: int = 5
    leak_ratio: float = 1.25  # night minimum / baseline that suggests a leak
    leak_min_excess_m3h: float = 0.5
    history_nights: int = 7
    clock: LocalClock = Field(default_factory=LocalClock, exclude=True)  # the territory's
