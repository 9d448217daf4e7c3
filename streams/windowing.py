"""Event-time windowing across batches: per-device state, de-duplication and lateness. Pure.

Each device keeps its open windows (partial aggregates), a watermark (latest reading time seen)
and a window over its sequence numbers. A step folds new batches into that state and returns
the full current value of every window it touched, so writing them is idempotent: a window
written twice holds the same numbers, and redelivered batches are recognised by sequence.
Windows close once the watermark passes their end plus the allowed lateness; a reading for a
closed window is late: it is counted and returned for reporting, never merged silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic_core import from_json, to_json

from streams.kernels.windows import WindowAggregates, hopping, tumbling
from vigie.contracts import TelemetryBatch
from vigie.contracts.metrics import METRIC_INDEX, METRIC_NAMES, METRIC_SLOTS
from vigie.contracts.storage import HOP_METRICS
from vigie.sequence import SEQ_WINDOW, SeqVerdict, SeqWindow

N_METRICS = METRIC_SLOTS  # codes: device index * METRIC_SLOTS + metric index (the catalogue grows)


@dataclass(frozen=True)
class WindowPolicy:
    window_ms: int = 60_000
    allowed_lateness_ms: int = 120_000
    seq_window: int = SEQ_WINDOW
    # hopping windows (road traffic over the last hour, every quarter hour)
    hop_window_ms: int = 3_600_000
    hop_ms: int = 900_000
    hop_metrics: tuple[str, ...] = HOP_METRICS


@dataclass
class DeviceState:
    """What a worker must remember about one device between batches."""

    seq: SeqWindow | None = None
    watermark_ms: int = -(2**62)
    windows: dict[str, list[float]] = field(default_factory=dict)  # "metric|start" -> acc
    hops: dict[str, list[float]] = field(default_factory=dict)  # hopping windows, the same
    late: int = 0
    missing: int = 0  # sequence numbers skipped and not (yet) seen
    seq_start: int | None = None  # the lowest sequence number ``missing`` counts from
    edge_dropped: int = 0  # batches the agent reports its queue bound dropped
    partition: int = 0  # where this device's records (and state changelog) live
    carry: dict[str, list[float]] = field(default_factory=dict)  # metric -> [ts, value]
    alerts: list[str] = field(default_factory=list)  # kinds currently raised
    streak: int = 0  # consecutive readings meeting an alert condition
    down: int = 0  # consecutive polls its field meter did not answer (meter_up = 0)
    faulty: int = 0  # consecutive readings its probe gave nothing valid (sensor_ok = 0)
    # hours (start, as text) whose windows came too late for InfluxDB's roll-ups -> when
    rollup_due: dict[str, int] = field(default_factory=dict)
    fill_ref: list[float] = field(default_factory=list)  # [ts, fill] where filling began

    def to_bytes(self) -> bytes:
        d = dict(self.__dict__)
        if self.seq is not None:
            d["seq"] = [self.seq.high, format(self.seq.bits, "x"), self.seq.size]
        return to_json(d)

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> DeviceState:
        if not raw:
            return cls()
        d = from_json(raw)
        seq = d.pop("seq")
        state = cls(**d)
        if seq is not None:
            state.seq = SeqWindow(seq[0], int(seq[1], 16), seq[2])
        return state


@dataclass(frozen=True, slots=True)
class WindowRow:
    """The current value of one (device, metric, window)."""

    device_id: str
    metric: str
    start_ms: int
    count: int
    sum: float
    min: float
    max: float
    last_ts_ms: int
    last: float

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else float("nan")


@dataclass
class StepResult:
    fresh: list[TelemetryBatch] = field(default_factory=list)
    duplicates: int = 0
    rows: list[WindowRow] = field(default_factory=list)
    hop_rows: list[WindowRow] = field(default_factory=list)
    late: list[tuple[str, str, int, float]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    # the fresh readings as columns: code = device index * N_METRICS + metric index
    devices: list[str] = field(default_factory=list)
    code: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))


def _merge(
    acc: list[float] | None, c: int, s: float, lo: float, hi: float, lts: int, last: float
) -> list[float]:
    if acc is None or acc[0] == 0:
        return [c, s, lo, hi, lts, last]
    if c == 0:
        return acc
    newer = lts >= acc[4]
    return [
        acc[0] + c,
        acc[1] + s,
        min(acc[2], lo),
        max(acc[3], hi),
        lts if newer else acc[4],
        last if newer else acc[5],
    ]


def step(
    states: dict[str, DeviceState], batches: list[TelemetryBatch], policy: WindowPolicy
) -> StepResult:
    """Fold batches into device states; return fresh batches, touched windows and late data."""
    out = StepResult()
    for batch in batches:
        state = states.setdefault(batch.device_id, DeviceState())
        if state.seq is None:
            state.seq = SeqWindow(batch.seq, size=policy.seq_window)
            state.seq_start = batch.seq
        else:
            verdict, missing = state.seq.observe(batch.seq)
            if verdict is SeqVerdict.DUPLICATE:
                out.duplicates += 1
                continue
            if state.seq_start is None or verdict is SeqVerdict.STALE:
                state.seq_start = batch.seq if state.seq_start is None else state.seq_start
            elif batch.seq < state.seq_start:  # below where counting began: the gap between
                missing = state.seq_start - batch.seq - 1
                state.seq_start = batch.seq
            state.missing = max(0, state.missing + missing)
        out.fresh.append(batch)
        out.touched.add(batch.device_id)
    if not out.fresh:
        return out
    devices = sorted(out.touched)
    dev_index = {d: i for i, d in enumerate(devices)}
    readings = [r for b in out.fresh for r in b.readings]
    n = len(readings)
    base = np.repeat(
        np.fromiter((dev_index[b.device_id] for b in out.fresh), np.int64, len(out.fresh)),
        np.fromiter((len(b.readings) for b in out.fresh), np.int64, len(out.fresh)),
    )
    group = base * N_METRICS + np.fromiter(
        (METRIC_INDEX[r["metric"]] for r in readings), np.int64, n
    )
    ts = np.fromiter((r["ts_ms"] for r in readings), np.int64, n)
    values = np.fromiter((r["value"] for r in readings), np.float64, n)
    out.devices, out.code, out.ts, out.values = devices, group, ts, values
    _edge_reports(states, devices, group, values)
    wm_before = {d: states[d].watermark_ms for d in devices}
    agg = tumbling(group, ts, values, policy.window_ms)
    out.rows, closed = _fold_windows(agg, policy.window_ms, policy, devices, states, wm_before)
    for g, start in closed:  # windows already written and forgotten: their readings are late
        device, metric = devices[g // N_METRICS], METRIC_NAMES[g % N_METRICS]
        mask = (group == g) & (ts >= start) & (ts < start + policy.window_ms)
        out.late.extend(
            (device, metric, int(t), float(v)) for t, v in zip(ts[mask], values[mask], strict=True)
        )
        states[device].late += int(mask.sum())
    hopped = np.isin(group % N_METRICS, [METRIC_INDEX[m] for m in policy.hop_metrics])
    if hopped.any():
        hop_agg = hopping(
            group[hopped], ts[hopped], values[hopped], policy.hop_window_ms, policy.hop_ms
        )
        # a reading too late for a hopping window is too late for its 1-minute one: counted
        out.hop_rows, _ = _fold_windows(
            hop_agg, policy.hop_window_ms, policy, devices, states, wm_before, hop=True
        )
    latest = np.full(len(devices), np.iinfo(np.int64).min, np.int64)
    np.maximum.at(latest, group // N_METRICS, ts)
    for device, seen_ms in zip(devices, latest.tolist(), strict=True):
        state = states[device]
        state.watermark_ms = max(state.watermark_ms, seen_ms)
        state.windows = open_only(state.windows, state.watermark_ms, policy.window_ms, policy)
        state.hops = open_only(state.hops, state.watermark_ms, policy.hop_window_ms, policy)
    return out


_SEQ_FIRST, _EDGE_DROPPED = METRIC_INDEX["seq_first"], METRIC_INDEX["queue_dropped"]


def _edge_reports(
    states: dict[str, DeviceState], devices: list[str], group: np.ndarray, values: np.ndarray
) -> None:
    """What an edge agent says of its own sequence: the first number its queue gave (numbers
    from there to the first one seen here are missing too) and its queue's drop counter."""
    metric = group % N_METRICS
    for k in np.flatnonzero((metric == _SEQ_FIRST) | (metric == _EDGE_DROPPED)).tolist():
        state = states[devices[int(group[k]) // N_METRICS]]
        value = int(values[k])
        if metric[k] == _EDGE_DROPPED:
            state.edge_dropped = max(state.edge_dropped, value)
        elif state.seq_start is not None and 0 <= value < state.seq_start:
            state.missing += state.seq_start - value
            state.seq_start = value


def open_only(
    windows: dict[str, list[float]], watermark_ms: int, window_ms: int, policy: WindowPolicy
) -> dict[str, list[float]]:
    """The windows still open under a watermark (closed ones are written and forgotten)."""
    horizon = watermark_ms - window_ms - policy.allowed_lateness_ms
    return {k: v for k, v in windows.items() if int(k.rsplit("|", 1)[1]) > horizon}


def _fold_windows(
    agg: WindowAggregates,
    window_ms: int,
    policy: WindowPolicy,
    devices: list[str],
    states: dict[str, DeviceState],
    wm_before: dict[str, int],
    hop: bool = False,
) -> tuple[list[WindowRow], list[tuple[int, int]]]:
    """Merge a bulk's partial windows into the devices' open ones. Returns the rows to write
    (each window's full current value) and the (group, start) of windows already closed."""
    rows, closed = [], []
    for k in range(len(agg.group)):
        g = int(agg.group[k])
        device, metric = devices[g // N_METRICS], METRIC_NAMES[g % N_METRICS]
        start = int(agg.window_start_ms[k])
        windows = states[device].hops if hop else states[device].windows
        key = f"{metric}|{start}"
        is_closed = start + window_ms + policy.allowed_lateness_ms <= wm_before[device]
        if is_closed and key not in windows:
            closed.append((g, start))
            continue
        acc = _merge(
            windows.get(key),
            int(agg.count[k]),
            float(agg.sum[k]),
            float(agg.min[k]),
            float(agg.max[k]),
            int(agg.last_ts_ms[k]),
            float(agg.last[k]),
        )
        windows[key] = acc
        rows.append(
            WindowRow(
                device, metric, start, int(acc[0]), acc[1], acc[2], acc[3], int(acc[4]), acc[5]
            )
        )
    return rows, closed
