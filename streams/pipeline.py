"""One bulk of validated batches -> typed rows (``streams/outputs.py``), alerts, and updated
states. Pure.

The faust agent loads the states of the devices (and of their groups) it is about to touch,
calls ``Pipeline.process``, has the sink serialise and write the rows, then saves the states:
everything between is computation on numpy columns (kernels in streams/kernels) and small
per-device state machines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from streams import kpis
from streams.alerts import AlertKind
from streams.daylight import DarkCalendar
from streams.groups import Balance, GroupPolicy, GroupState, close_nights, close_windows
from streams.kernels.energy import integrate, meter_deltas
from streams.outputs import (
    BinPoint,
    BulkOutput,
    DistrictAttribution,
    FleetRow,
    MeterBalance,
    MeterNight,
    RoadPoint,
)
from streams.windowing import N_METRICS, DeviceState, StepResult, WindowPolicy, WindowRow, step
from vigie.contracts import Asset, AssetKind, TelemetryBatch
from vigie.contracts.metrics import METRIC_INDEX

POWER, CAB_INDEX = METRIC_INDEX["power_w"], METRIC_INDEX["energy_index_wh"]
VOLUME, FLOW = METRIC_INDEX["volume_index_m3"], METRIC_INDEX["flow_m3h"]
FILL, OCCUPANCY = METRIC_INDEX["fill_pct"], METRIC_INDEX["occupancy_pct"]
HOUR_MS = 3_600_000
METER_UP = METRIC_INDEX["meter_up"]
SENSOR_OK = METRIC_INDEX["sensor_ok"]


@dataclass(frozen=True)
class Policies:
    window: WindowPolicy = field(default_factory=WindowPolicy)
    group: GroupPolicy = field(default_factory=GroupPolicy)
    kpi: kpis.KpiPolicy = field(default_factory=kpis.KpiPolicy)
    raw_keep_ms: int = 7 * 86_400_000  # raw retention (0: forever); older history goes to long
    minute_keep_ms: int = 400 * 86_400_000  # 1-minute windows' retention, the same way


KpiPolicy = kpis.KpiPolicy


def group_key(asset: Asset | None) -> str | None:
    """The shared meter a device belongs to (None for a device of no group)."""
    return asset.meter_group if asset is not None else None


def _note_rollups_due(
    windows: list[WindowRow], ts: np.ndarray, devices: dict[str, DeviceState], now_ms: int
) -> None:
    """Live 1-minute windows of an hour InfluxDB's continuous queries will not run over again
    (the next run covers the hour before this one): an agent's queue flushed after an outage.
    Their device-hours are noted in the device's state, with when, for the worker's catch-up
    (``streams.catchup``)."""
    before = now_ms - now_ms % HOUR_MS - HOUR_MS
    if not ts.size or ts.min() >= before:  # the usual bulk: nothing that old (``ts``: its readings)
        return
    for w in windows:
        if w.start_ms < before:
            devices[w.device_id].rollup_due[str(w.start_ms - w.start_ms % HOUR_MS)] = now_ms


class Pipeline:
    """Stateless between calls: every state it needs is passed in and updated in place."""

    def __init__(
        self, territory: str, registry: Mapping[str, Asset] | None, policies: Policies | None = None
    ) -> None:
        self.registry = registry or {}
        self.policies = policies or Policies()
        self.territory = territory
        self.calendar = DarkCalendar()
        self.meter_device = {
            group_key(a): a.id
            for a in self.registry.values()
            if a.kind in (AssetKind.LIGHTING_CABINET, AssetKind.WATER_METER)
        }

    def groups_of(self, devices: Iterable[str]) -> set[str]:
        keys = (group_key(self.registry.get(d)) for d in devices)
        return {k for k in keys if k is not None}

    def process(
        self,
        batches: list[TelemetryBatch],
        verticals: Mapping[str, str],
        partitions: Mapping[str, int],
        devices: dict[str, DeviceState],
        groups: dict[str, GroupState],
        now_ms: int,
        history: bool = False,
    ) -> BulkOutput:
        """Fold one bulk into the states and return what to write.

        ``history``: the batches are imported history (backfill channel), folded on states of
        their own (``devices`` holds those), with per-reading KPIs (traffic state, bin levels) but
        no energy attribution and no alert. Raw
        readings older than the raw retention (less an hour) go to the long retention, where
        they are kept, instead of being dropped by InfluxDB."""
        out = BulkOutput(verticals=dict(verticals))
        res = step(devices, batches, self.policies.window)
        out.duplicates, out.late, out.devices = res.duplicates, len(res.late), set(res.touched)
        for d in res.touched:
            devices[d].partition = partitions[d]
        out.fresh = res.fresh
        out.readings = sum(len(b.readings) for b in res.fresh)
        out.reading_ts = res.ts
        if self.policies.raw_keep_ms:  # 0: raw data kept forever
            out.raw_from_ms = now_ms - self.policies.raw_keep_ms + 3_600_000
        if self.policies.minute_keep_ms:
            out.minute_from_ms = now_ms - self.policies.minute_keep_ms + 3_600_000
        out.windows, out.hop_windows = _kept(res.rows), _kept(res.hop_rows)
        out.hop_window_ms = self.policies.window.hop_window_ms
        out.late_readings = res.late
        out.fleet = [_fleet_row(d, devices[d], now_ms) for d in sorted(res.touched)]
        out.fleet_history = history
        if history:  # the per-reading KPIs, but no alert: it all happened long ago
            if res.fresh:
                self._device_kpis(res, devices, out)
            out.alerts = []
            return out
        _note_rollups_due(out.windows, res.ts, devices, now_ms)
        if res.fresh:
            self._energy(res, devices, groups, partitions, out)
            self._device_kpis(res, devices, out)
        for g in sorted(out.groups):
            self._close_group(g, groups[g], out, force=False)
        return out

    def close_idle(self, groups: dict[str, GroupState]) -> BulkOutput:
        """Write every open group window as it stands (the stream went idle); a window data
        comes to after the pause is written again, whole."""
        out = BulkOutput()
        for g in sorted(groups):
            if groups[g].pending:
                out.groups.add(g)
                self._close_group(g, groups[g], out, force=True)
        return out

    def silent_devices(
        self, devices: dict[str, DeviceState], newest_ms: int | None = None
    ) -> BulkOutput:
        """Raise device_silent for devices far behind the newest data (``newest_ms``, by
        default these devices' newest); clear returning ones."""
        out = BulkOutput()
        if not devices:
            return out
        newest = max(s.watermark_ms for s in devices.values()) if newest_ms is None else newest_ms
        for d, state in devices.items():
            alert = kpis.silent(d, state, newest, self.policies.kpi)
            if alert:
                out.alerts.append(alert)
                out.devices.add(d)
        return out

    # -- steps --------------------------------------------------------------------------------

    def _rows(self, res: StepResult, metric: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mask = res.code % N_METRICS == metric
        return res.code[mask] // N_METRICS, res.ts[mask], res.values[mask]

    def _carry(
        self, res: StepResult, devices: dict[str, DeviceState], metric: str
    ) -> tuple[np.ndarray, np.ndarray]:
        pairs = [devices[d].carry.get(metric, [-1, float("nan")]) for d in res.devices]
        return (
            np.array([int(p[0]) for p in pairs], np.int64),
            np.array([p[1] for p in pairs], np.float64),
        )

    def _save_carry(
        self,
        res: StepResult,
        devices: dict[str, DeviceState],
        metric: str,
        carry_ts: np.ndarray,
        carry_value: np.ndarray,
    ) -> None:
        for i, d in enumerate(res.devices):
            if carry_ts[i] >= 0:
                devices[d].carry[metric] = [int(carry_ts[i]), float(carry_value[i])]

    def _group(
        self, key: str, groups: dict[str, GroupState], partition: int, out: BulkOutput
    ) -> GroupState:
        state = groups.setdefault(key, GroupState())
        state.partition = partition
        out.groups.add(key)
        return state

    def _energy(
        self,
        res: StepResult,
        devices: dict[str, DeviceState],
        groups: dict[str, GroupState],
        partitions: Mapping[str, int],
        out: BulkOutput,
    ) -> None:
        window = self.policies.group.window_ms
        n = len(res.devices)
        for metric, name in (
            (POWER, "power_w"),
            (CAB_INDEX, "energy_index_wh"),
            (VOLUME, "volume_index_m3"),
        ):
            dev, ts, val = self._rows(res, metric)
            if dev.size == 0:
                continue
            cts, cv = self._carry(res, devices, name)
            kernel = integrate if metric == POWER else meter_deltas
            totals = kernel(dev, ts, val, window, n, carry_ts=cts, carry_value=cv)
            self._save_carry(res, devices, name, totals.carry_ts, totals.carry_value)
            for g, w, amount, on in zip(
                totals.group.tolist(),
                totals.window_start_ms.tolist(),
                totals.total.tolist(),
                totals.on_ms.tolist(),
                strict=True,
            ):
                device = res.devices[g]
                key = group_key(self.registry.get(device))
                if key is None:
                    continue
                state = self._group(key, groups, partitions[device], out)
                if metric == POWER:
                    state.add_member(w, device, amount, on)
                else:
                    state.add_meter(w, amount)
        dev, ts, val = self._rows(res, FLOW)
        for i in np.unique(dev).tolist():
            key = group_key(self.registry.get(res.devices[i]))
            if key is not None:
                sel = dev == i
                self._group(key, groups, partitions[res.devices[i]], out).observe_night_flow(
                    ts[sel], val[sel], self.policies.group
                )
        for d in res.touched:
            key = group_key(self.registry.get(d))
            if key is not None and key in groups:
                groups[key].watermark_ms = max(groups[key].watermark_ms, devices[d].watermark_ms)

    def _device_kpis(
        self, res: StepResult, devices: dict[str, DeviceState], out: BulkOutput
    ) -> None:
        policy = self.policies.kpi
        order = np.lexsort((res.ts, res.code))
        code, ts, val = res.code[order], res.ts[order], res.values[order]
        bounds = np.flatnonzero(np.r_[True, code[1:] != code[:-1], True])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            device, metric = res.devices[code[a] // N_METRICS], code[a] % N_METRICS
            asset, state = self.registry.get(device), devices[device]
            if asset is None:
                continue
            if metric == POWER and asset.kind is AssetKind.LAMP:
                out.alerts += kpis.lamp(
                    device, asset, state, ts[a:b], val[a:b], self.calendar, policy
                )
            elif metric == FILL:
                level, alerts = kpis.bin_(device, state, ts[a:b], val[a:b], policy)
                out.alerts += alerts
                if level is not None:
                    out.bins.append(BinPoint(device, level))
            elif metric == OCCUPANCY and asset.kind is AssetKind.TRAFFIC_COUNTER:
                out.alerts += kpis.road(device, state, ts[a:b], val[a:b], policy)
                states = kpis.traffic_state(val[a:b])
                out.roads += [  # one point per counter and reading interval
                    RoadPoint(device, t, v, s)
                    for t, v, s in zip(
                        ts[a:b].tolist(), val[a:b].tolist(), states.tolist(), strict=True
                    )
                ]
            elif metric == METER_UP:
                out.alerts += kpis.meter(device, state, ts[a:b], val[a:b], policy)
            elif metric == SENSOR_OK:
                out.alerts += kpis.sensor(device, state, ts[a:b], val[a:b], policy)
        for d in res.touched:
            if AlertKind.DEVICE_SILENT in devices[d].alerts:
                alert = kpis.silent(d, devices[d], devices[d].watermark_ms, policy)
                if alert:
                    out.alerts.append(alert)

    def _close_group(self, key: str, state: GroupState, out: BulkOutput, force: bool) -> None:
        policy = self.policies.group
        balances, alerts = close_windows(key, state, policy, force)
        meter = self.meter_device.get(key)
        if balances and meter is not None:
            out.balances += [MeterBalance(meter, b) for b in balances]
            out.attributions += [a for b in balances for a in self._by_district(meter, b)]
        out.alerts += alerts
        if key.startswith("dma:"):
            # a night is judged once the data passed its end, never on an idle pause: judged
            # half-way, its minimum would be too high (a leak's excess too large), and the
            # rest of the night would be judged again on its own
            verdicts, leak_alerts = close_nights(
                key, state, policy, subject=self.meter_device.get(key)
            )
            if meter is not None:
                out.nights += [MeterNight(meter, v) for v in verdicts]
            out.alerts += leak_alerts

    def _by_district(self, meter: str, b: Balance) -> list[DistrictAttribution]:
        """A meter's hour per member district: attributed energy (with the line losses), the
        lamps' own energy from their readings, burning hours, and the same hours at full
        power."""
        per_district: dict[str, list[float]] = {}
        for member, wh in b.attributed_wh.items():
            asset = self.registry.get(member)
            if asset is None:
                continue
            on_h = b.on_ms[member] / 3_600_000
            acc = per_district.setdefault(asset.district, [0.0, 0.0, 0.0, 0.0, 0])
            acc[0] += wh
            acc[1] += on_h
            acc[2] += (asset.nominal_power_w or 0.0) * on_h
            acc[3] += b.model_wh.get(member, 0.0)
            acc[4] += 1
        return [
            DistrictAttribution(district, meter, b.start_ms, wh, on_h, full, model, int(n))
            for district, (wh, on_h, full, model, n) in sorted(per_district.items())
        ]


def _kept(rows: list[WindowRow]) -> list[WindowRow]:
    """The windows with readings to store."""
    return [r for r in rows if r.count and not math.isnan(r.sum)]


def _fleet_row(device: str, st: DeviceState, now_ms: int) -> FleetRow:
    """Per device: last sequence number, missing sequence numbers (counted from the first one
    the device reported or, failing that, the first one seen), batches its queue dropped, late
    readings, last seen and alerts currently raised."""
    return FleetRow(
        device,
        st.seq.high if st.seq is not None else -1,
        st.missing,
        st.late,
        st.watermark_ms,
        len(st.alerts),
        st.edge_dropped,
        st.seq_start,
        now_ms,
    )
