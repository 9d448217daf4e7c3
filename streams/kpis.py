"""Per-device KPIs and the alerts they raise: lamps, bins, road counters. Pure.

- Lamp failure: a lamp drawing (almost) nothing while the sun is down at its position, for
  ``lamp_fail_readings`` readings in a row, outside the commune's switch-off hours.
- Bin: fill rate from the rising segment since the last emptying (two-point slope, %/h),
  hours to full, and "nearly full" above ``bin_full_pct`` (cleared below ``bin_clear_pct``).
- Road: traffic state from occupancy, with the Paris counters' thresholds: fluid < 15 %,
  dense 15-30 %, saturated 30-50 %, blocked >= 50 %; congestion raised after
  ``congestion_readings`` blocked readings, cleared below saturated.
- Field meter: an agent polling a meter (Modbus) reports ``meter_up`` = 0 when it does not
  answer; meter_down is raised after ``meter_down_readings`` such polls in a row, cleared on
  the first answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from streams.alerts import Alert, AlertKind, transition
from streams.daylight import DarkCalendar
from streams.windowing import DeviceState
from vigie.contracts import Asset
from vigie.policies import KpiPolicy

TRAFFIC_STATES = ("fluid", "dense", "saturated", "blocked")


def traffic_state(occupancy_pct: np.ndarray) -> np.ndarray:
    """0 fluid, 1 dense, 2 saturated, 3 blocked."""
    return np.searchsorted(np.array([15.0, 30.0, 50.0]), occupancy_pct, side="right")


def _switched_off(ts_ms: np.ndarray, policy: KpiPolicy) -> np.ndarray:
    """Per reading: whether it falls in the commune's switch-off hours (local time)."""
    if policy.switch_off_hours is None:
        return np.zeros(ts_ms.shape, bool)
    h = policy.clock.hour(ts_ms)
    a, b = policy.switch_off_hours
    return ((a <= h) | (h < b)) if a > b else ((a <= h) & (h < b))


def lamp(
    device: str,
    asset: Asset,
    state: DeviceState,
    ts: np.ndarray,
    power: np.ndarray,
    calendar: DarkCalendar,
    policy: KpiPolicy,
) -> list[Alert]:
    """Follow one lamp's power readings (time-sorted); raise or clear lamp_failure."""
    lit = calendar.dark_mask(asset.lat, asset.lon, ts) & ~_switched_off(ts, policy)
    ts, power = ts[lit], power[lit]
    healthy = power >= policy.lamp_off_w
    if healthy.all() and state.streak == 0 and AlertKind.LAMP_FAILURE not in state.alerts:
        return []  # burning as it should, as before: nothing changes
    alerts = []
    for t, p in zip(ts.tolist(), power.tolist(), strict=True):
        state.streak = state.streak + 1 if p < policy.lamp_off_w else 0
        failing = state.streak >= policy.lamp_fail_readings
        if p >= policy.lamp_off_w or failing:
            alert = transition(
                state.alerts,
                AlertKind.LAMP_FAILURE,
                device,
                failing,
                t,
                p,
                f"{p:.1f} W after dark, nominal {asset.nominal_power_w} W",
            )
            if alert:
                alerts.append(alert)
    return alerts


@dataclass(frozen=True, slots=True)
class BinLevel:
    ts_ms: int
    fill_pct: float
    rate_pct_h: float  # NaN until two readings of the current filling
    hours_to_full: float


def bin_(
    device: str, state: DeviceState, ts: np.ndarray, fill: np.ndarray, policy: KpiPolicy
) -> tuple[BinLevel | None, list[Alert]]:
    """Follow one bin's fill readings (time-sorted)."""
    alerts: list[Alert] = []
    last: tuple[int, float] | None = None
    for t, f in zip(ts.tolist(), fill.tolist(), strict=True):
        if not state.fill_ref or f < state.carry.get("fill_pct", [0, -1.0])[1] - (
            policy.bin_emptied_drop_pct
        ):
            state.fill_ref = [t, f]  # first reading, or the bin was emptied
        state.carry["fill_pct"] = [t, f]
        last = (t, f)
        is_open = AlertKind.BIN_NEARLY_FULL in state.alerts
        condition = f >= policy.bin_full_pct or (is_open and f > policy.bin_clear_pct)
        alert = transition(
            state.alerts, AlertKind.BIN_NEARLY_FULL, device, condition, t, f, f"filled to {f:.0f} %"
        )
        if alert:
            alerts.append(alert)
    if last is None:
        return None, alerts
    t0, f0 = state.fill_ref
    hours = (last[0] - t0) / 3_600_000
    rate = (last[1] - f0) / hours if hours > 0 else math.nan
    to_full = (100 - last[1]) / rate if rate > 0 else math.inf
    return BinLevel(last[0], last[1], rate, to_full), alerts


def road(
    device: str, state: DeviceState, ts: np.ndarray, occupancy: np.ndarray, policy: KpiPolicy
) -> list[Alert]:
    """Follow one counter's occupancy readings (time-sorted); raise or clear congestion."""
    alerts = []
    for t, occ in zip(ts.tolist(), occupancy.tolist(), strict=True):
        state.streak = state.streak + 1 if occ >= policy.congestion_pct else 0
        is_open = AlertKind.CONGESTION in state.alerts
        condition = state.streak >= policy.congestion_readings or (
            is_open and occ >= policy.congestion_clear_pct
        )
        alert = transition(
            state.alerts,
            AlertKind.CONGESTION,
            device,
            condition,
            t,
            occ,
            f"occupancy {occ:.0f} % ({TRAFFIC_STATES[int(traffic_state(np.array([occ]))[0])]})",
        )
        if alert:
            alerts.append(alert)
    return alerts


def meter(
    device: str, state: DeviceState, ts: np.ndarray, up: np.ndarray, policy: KpiPolicy
) -> list[Alert]:
    """Follow one device's meter_up readings (time-sorted); raise or clear meter_down."""
    return _in_a_row(
        device, state, "down", AlertKind.METER_DOWN, policy.meter_down_readings, ts, up,
        lambda n: f"no answer from the meter for {n} polls" if n else "answers again",
    )  # fmt: skip


def sensor(
    device: str, state: DeviceState, ts: np.ndarray, ok: np.ndarray, policy: KpiPolicy
) -> list[Alert]:
    """Follow one device's sensor_ok readings (time-sorted); raise sensor_fault once after
    ``sensor_fault_readings`` invalid ones in a row, clear it on the first valid one."""
    return _in_a_row(
        device, state, "faulty", AlertKind.SENSOR_FAULT, policy.sensor_fault_readings, ts, ok,
        lambda n: f"no valid reading from the probe for {n} readings" if n
        else "reads within its range again",
    )  # fmt: skip


def _in_a_row(
    device: str,
    state: DeviceState,
    counter: Literal["down", "faulty"],
    kind: AlertKind,
    threshold: int,
    ts: np.ndarray,
    good: np.ndarray,
    detail: Callable[[int], str],
) -> list[Alert]:
    """Count a device's failed readings in a row (1: fine, 0: failed) in its state; raise
    ``kind`` once the count reaches ``threshold``, clear it on the first good reading."""
    alerts = []
    for t, g in zip(ts.tolist(), good.tolist(), strict=True):
        n = getattr(state, counter) + 1 if g < 0.5 else 0
        setattr(state, counter, n)
        alert = transition(state.alerts, kind, device, n >= threshold, t, n, detail(n))
        if alert:
            alerts.append(alert)
    return alerts


def silent(device: str, state: DeviceState, newest_ms: int, policy: KpiPolicy) -> Alert | None:
    """Raise device_silent when a device lags the newest data of its worker; clear on return."""
    lag = newest_ms - state.watermark_ms
    return transition(
        state.alerts,
        AlertKind.DEVICE_SILENT,
        device,
        lag > policy.silent_after_ms,
        max(newest_ms, state.watermark_ms),
        lag / 1000,
        f"no reading for {lag / 60_000:.0f} min",
    )
