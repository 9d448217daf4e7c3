"""One bulk of validated batches -> lines for InfluxDB, alerts, and updated states. Pure.

The faust agent loads the states of the devices (and of their groups) it is about to touch,
calls ``Pipeline.process``, writes the lines, then saves the states: everything between is
computation on numpy columns (kernels in streams/kernels) and small per-device state machines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from streams import kpis
from streams.alerts import Alert, AlertKind
from streams.daylight import DarkCalendar
from streams.groups import GroupPolicy, GroupState, close_nights, close_windows
from streams.kernels.energy import integrate, meter_deltas
from streams.sinks import lineprotocol as lp
from streams.windowing import N_METRICS, DeviceState, StepResult, WindowPolicy, step
from vigie.contracts import Asset, AssetKind, TelemetryBatch
from vigie.contracts.metrics import METRIC_INDEX

POWER, CAB_INDEX = METRIC_INDEX["power_w"], METRIC_INDEX["energy_index_wh"]
VOLUME, FLOW = METRIC_INDEX["volume_index_m3"], METRIC_INDEX["flow_m3h"]
FILL, OCCUPANCY = METRIC_INDEX["fill_pct"], METRIC_INDEX["occupancy_pct"]


@dataclass(frozen=True)
class Policies:
    window: WindowPolicy = field(default_factory=WindowPolicy)
    group: GroupPolicy = field(default_factory=GroupPolicy)
    kpi: KpiPolicy = field(default_factory=lambda: kpis.KpiPolicy())
    raw_keep_ms: int = 7 * 86_400_000  # raw retention (0: forever); older history goes to long


KpiPolicy = kpis.KpiPolicy


@dataclass
class BulkOutput:
    raw: list[str] = field(default_factory=list)
    long: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    devices: set[str] = field(default_factory=set)  # states to save
    groups: set[str] = field(default_factory=set)
    readings: int = 0
    duplicates: int = 0
    late: int = 0
    history: int = 0  # of the readings, those imported as history
    reading_ts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # fresh ones

    def merge(self, other: BulkOutput, history: bool = False) -> None:
        """Add another lane's lines, alerts and counts (its states are the caller's to key);
        history's readings count, but not in the reading-to-storage lag."""
        self.raw += other.raw
        self.long += other.long
        self.alerts += other.alerts
        self.readings += other.readings
        self.duplicates += other.duplicates
        self.late += other.late
        self.history += other.readings if history else other.history
        if not history and other.reading_ts.size:
            self.reading_ts = np.concatenate([self.reading_ts, other.reading_ts])


def _by_age(lines: list[str], cutoff_ms: int) -> tuple[list[str], list[str]]:
    """Raw lines (ms timestamps last) split into those at or after the cutoff, and older."""
    recent, old = [], []
    for line in lines:
        (recent if int(line[line.rindex(" ") + 1 :]) >= cutoff_ms else old).append(line)
    return recent, old


def group_key(asset: Asset | None) -> str | None:
    """The shared meter a device belongs to (None for a device of no group)."""
    return asset.meter_group if asset is not None else None


class Pipeline:
    """Stateless between calls: every state it needs is passed in and updated in place."""

    def __init__(
        self, territory: str, registry: Mapping[str, Asset] | None, policies: Policies | None = None
    ) -> None:
        self.registry = registry or {}
        self.policies = policies or Policies()
        self.tags = lp.TagIndex(territory, self.registry)
        self.calendar = DarkCalendar()
        self.meter_device = {
            group_key(a): a.id
            for a in self.registry.values()
            if a.kind in (AssetKind.LIGHTING_CABINET, AssetKind.WATER_METER)
        }

    def groups_of(self, devices: Iterable[str]) -> set[str]:
        keys = {group_key(self.registry.get(d)) for d in devices}
        keys.discard(None)
        return keys  # type: ignore[return-value]

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
        out = BulkOutput()
        res = step(devices, batches, self.policies.window)
        out.duplicates, out.late, out.devices = res.duplicates, len(res.late), set(res.touched)
        for d in res.touched:
            devices[d].partition = partitions[d]
        out.raw = lp.raw_lines(((verticals[b.device_id], b) for b in res.fresh), self.tags)
        out.readings = len(out.raw)
        out.reading_ts = res.ts
        if self.policies.raw_keep_ms:  # 0: raw data kept forever
            out.raw, out.long = _by_age(out.raw, now_ms - self.policies.raw_keep_ms + 3_600_000)
        out.long += lp.aggregate_lines(res.rows, verticals, self.tags)
        out.long += lp.aggregate_lines(
            res.hop_rows, verticals, self.tags, lp.HOPPING, self.policies.window.hop_window_ms
        )
        out.long += lp.late_lines(res.late, verticals, self.tags)
        out.long += lp.fleet_lines(
            devices,
            res.touched,
            verticals,
            self.tags,
            now_ms,
            lp.FLEET_HISTORY if history else lp.FLEET,
        )
        if history:  # the per-reading KPIs, but no alert: it all happened long ago
            if res.fresh:
                self._device_kpis(res, devices, out)
            out.alerts = []
            return out
        if res.fresh:
            self._energy(res, devices, groups, partitions, out)
            self._device_kpis(res, devices, out)
        for g in sorted(out.groups):
            self._close_group(g, groups[g], out, force=False)
        out.long += lp.alert_lines(out.alerts, self.tags)
        return out

    def close_idle(self, groups: dict[str, GroupState]) -> BulkOutput:
        """Close every open group window (the stream went idle: no later data is coming)."""
        out = BulkOutput()
        for g in sorted(groups):
            if groups[g].windows or groups[g].nights:
                out.groups.add(g)
                self._close_group(g, groups[g], out, force=True)
        out.long += lp.alert_lines(out.alerts, self.tags)
        return out

    def silent_devices(self, devices: dict[str, DeviceState]) -> BulkOutput:
        """Raise device_silent for devices far behind the newest data; clear returning ones."""
        out = BulkOutput()
        if not devices:
            return out
        newest = max(s.watermark_ms for s in devices.values())
        for d, state in devices.items():
            alert = kpis.silent(d, state, newest, self.policies.kpi)
            if alert:
                out.alerts.append(alert)
                out.devices.add(d)
        out.long += lp.alert_lines(out.alerts, self.tags)
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
                    out.long.append(lp.waste_line(device, level, self.tags))
            elif metric == OCCUPANCY and asset.kind is AssetKind.TRAFFIC_COUNTER:
                out.alerts += kpis.road(device, state, ts[a:b], val[a:b], policy)
                states = kpis.traffic_state(val[a:b])
                out.long += [  # one point per counter and reading interval
                    lp.road_line(device, t, v, s, self.tags)
                    for t, v, s in zip(
                        ts[a:b].tolist(), val[a:b].tolist(), states.tolist(), strict=True
                    )
                ]
        for d in res.touched:
            if AlertKind.DEVICE_SILENT in devices[d].alerts:
                alert = kpis.silent(d, devices[d], devices[d].watermark_ms, policy)
                if alert:
                    out.alerts.append(alert)

    def _close_group(self, key: str, state: GroupState, out: BulkOutput, force: bool) -> None:
        policy = self.policies.group
        balances, alerts = close_windows(key, state, policy, force)
        if balances and key in self.meter_device:
            out.long += lp.balance_lines(balances, self.meter_device, self.tags)
            out.long += lp.attribution_lines(balances, self.meter_device, self.tags)
        out.alerts += alerts
        if key.startswith("dma:"):
            verdicts, leak_alerts = close_nights(
                key, state, policy, force, subject=self.meter_device.get(key)
            )
            if key in self.meter_device:
                out.long += lp.night_lines(verdicts, self.meter_device, self.tags)
            out.alerts += leak_alerts
