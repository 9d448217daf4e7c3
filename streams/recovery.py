"""A device's windows started again from what InfluxDB holds, for a worker that lost its
state. Pure.

A worker keeps each device's open windows in a faust table whose changelog lives in Kafka. The
embedded Kafka-compatible broker keeps data in memory: when it restarts, the changelog is gone,
and a worker starting from nothing would write a window holding only the readings that came
after, over the complete one already stored. So before a device with no state is folded, the
worker reads back what it wrote for that device:

- the windows the bulk can touch, as stored (``agg_1m`` and ``agg_hop_1h``: count, sum, min,
  max, last and its time), which ``seeded_states`` turns back into open windows, so a window
  written again holds what was stored plus what is new (the state read back is one row per
  window, whatever the readings' rate);
- how many raw readings InfluxDB holds in each of those 1-minute windows (aggregated by
  InfluxDB, one row per window): a worker stopped between writing a bulk's raw readings and
  its windows (a ``kill -9``, or its exit when the broker came back empty) left windows that
  miss readings the raw store holds, and those readings, being stored, would never be
  counted again. ``short_windows`` finds them and ``completed`` makes them again from the raw
  aggregates (the raw readings are the truth a window is made of);
- the raw readings stored over the bulk's own time span: a reading InfluxDB already holds
  (same device, metric and time: the same point) is a repeat whose receipt was lost, and
  ``without_stored`` drops it, so nothing counts twice;
- the last sequence mark of the fleet measurement (``SeqMark``), so batches lost with the
  broker show as missing sequence numbers, and those an edge agent sends again fill them.

Alert states and energy carries start afresh: a repeated alert is the price of a broker
restart, never a wrong aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from streams.windowing import DeviceState, WindowPolicy, WindowRow, open_only
from vigie.contracts import TelemetryBatch
from vigie.sequence import SeqWindow


class SeqMark(NamedTuple):
    """A device's sequence as the fleet measurement last stored it."""

    last_seq: int
    missing: int  # numbers missing until then
    first_seq: int | None = None  # where the missing count starts
    edge_dropped: int = 0  # batches the agent's queue bound dropped


def window_span(
    batches: Iterable[TelemetryBatch], window_ms: int, policy: WindowPolicy
) -> tuple[int, int]:
    """[start, end) in ms of the starts of every window of that length these batches can
    touch or that can still be open beside them."""
    stamps = [r["ts_ms"] for b in batches for r in b.readings]
    return min(stamps) - window_ms - policy.allowed_lateness_ms, max(stamps) + 1


def reading_span(batches: Iterable[TelemetryBatch]) -> tuple[int, int]:
    """[first, last] in ms of the batches' own readings."""
    stamps = [r["ts_ms"] for b in batches for r in b.readings]
    return min(stamps), max(stamps)


class RawWindow(NamedTuple):
    """A 1-minute window as InfluxDB aggregates the raw readings stored in it."""

    device_id: str
    metric: str
    start_ms: int
    readings: int
    sum: float
    min: float
    max: float
    last: float


def short_windows(
    stored: Iterable[tuple[WindowRow, bool]], raw: Iterable[RawWindow]
) -> list[RawWindow]:
    """The 1-minute windows holding fewer readings than the raw store has in their minute (or
    stored not at all): a worker stopped between its raw and its window writes left them."""
    counts = {(w.device_id, w.metric, w.start_ms): w.count for w, hop in stored if not hop}
    return [r for r in raw if r.readings > counts.get((r.device_id, r.metric, r.start_ms), 0)]


def completed(
    raw: Iterable[RawWindow], last_ts: Mapping[tuple[str, str, int], int]
) -> list[WindowRow]:
    """Those windows as the pipeline would have folded them, with their last reading's time."""
    return [
        WindowRow(r.device_id, r.metric, r.start_ms, r.readings, r.sum, r.min, r.max,
                  last_ts[(r.device_id, r.metric, r.start_ms)], r.last)
        for r in raw
        if (r.device_id, r.metric, r.start_ms) in last_ts
    ]  # fmt: skip


def reconciled(
    stored: Iterable[tuple[WindowRow, bool]], computed: Iterable[WindowRow]
) -> list[tuple[WindowRow, bool]]:
    """Stored windows with each 1-minute one the raw readings give replaced by that one (and
    added where none was stored); hopping windows as stored."""
    fresh = {(w.device_id, w.metric, w.start_ms): w for w in computed}
    out = [(w, hop) for w, hop in stored if hop or (w.device_id, w.metric, w.start_ms) not in fresh]
    return out + [(w, False) for w in fresh.values()]


def seeded_states(
    windows: Iterable[tuple[WindowRow, bool]],
    policy: WindowPolicy,
    marks: Mapping[str, SeqMark] | None = None,
) -> dict[str, DeviceState]:
    """Each device's state from its stored windows (each with whether it is a hopping one):
    the windows still open, and a watermark at the latest reading they hold; its sequence
    window from its mark, when there is one (else the next real batch starts it)."""
    states: dict[str, DeviceState] = {}
    for w, hop in windows:
        state = states.setdefault(w.device_id, DeviceState())
        target = state.hops if hop else state.windows
        target[f"{w.metric}|{w.start_ms}"] = [w.count, w.sum, w.min, w.max, w.last_ts_ms, w.last]
        state.watermark_ms = max(state.watermark_ms, w.last_ts_ms)
    for state in states.values():
        state.windows = open_only(state.windows, state.watermark_ms, policy.window_ms, policy)
        state.hops = open_only(state.hops, state.watermark_ms, policy.hop_window_ms, policy)
    for device, mark in (marks or {}).items():
        state = states.setdefault(device, DeviceState())
        if mark.last_seq >= 0:
            state.seq = SeqWindow(mark.last_seq, size=policy.seq_window)
            state.missing = mark.missing
            state.seq_start = mark.last_seq if mark.first_seq is None else mark.first_seq
            state.edge_dropped = mark.edge_dropped
    return states


def without_stored(
    batches: list[TelemetryBatch], stored: Mapping[str, set[tuple[str, int]]]
) -> list[TelemetryBatch]:
    """The batches less the readings InfluxDB already holds (device -> {(metric, ts)}); a batch
    left with no reading is dropped."""
    out = []
    for batch in batches:
        known = stored.get(batch.device_id)
        if not known:
            out.append(batch)
            continue
        fresh = [r for r in batch.readings if (r["metric"], r["ts_ms"]) not in known]
        if len(fresh) == len(batch.readings):
            out.append(batch)
        elif fresh:
            out.append(batch.model_copy(update={"readings": fresh}))
    return out
