"""A device's windows rebuilt from what InfluxDB holds, for a worker that lost its state. Pure.

A worker keeps each device's open windows in a faust table whose changelog lives in Kafka. The
embedded Kafka-compatible broker keeps data in memory: when it restarts, the changelog is gone,
and a worker starting from nothing would write a window holding only the readings that came
after, over the complete one already stored. So before a device with no state is folded, the
worker reads the device's raw readings that the bulk's windows cover back from InfluxDB:

- the windows start from those readings (``seeded_states``), so a window written again holds
  what was stored plus what is new;
- a reading already stored (same device, metric and time: the same InfluxDB point) is a repeat
  whose receipt was lost, and is dropped (``without_stored``), so nothing counts twice.

- the sequence window starts at the last sequence number the fleet measurement recorded,
  with its missing count (``SeqMark``), so batches lost with the broker show as missing
  sequence numbers, and the ones an edge agent sends again fill their gaps.

Alert states and energy carries start afresh: a repeated alert is the price of a broker
restart, never a wrong aggregate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from streams.windowing import DeviceState, WindowPolicy, step
from vigie.contracts import TelemetryBatch
from vigie.contracts.envelope import MAX_READINGS_PER_BATCH
from vigie.sequence import SeqWindow

StoredReading = tuple[str, str, int, float]  # device, metric, ts_ms, value
SeqMark = tuple[int, int]  # the last sequence number stored, and missing ones until then


def recovery_span(batches: Iterable[TelemetryBatch], policy: WindowPolicy) -> tuple[int, int]:
    """[start, end) in ms of every window (1-minute and hopping) these batches can touch."""
    stamps = [r["ts_ms"] for b in batches for r in b.readings]
    reach = max(policy.window_ms, policy.hop_window_ms) + policy.allowed_lateness_ms
    return min(stamps) - reach, max(stamps) + max(policy.window_ms, policy.hop_window_ms)


def seeded_states(
    stored: Iterable[StoredReading],
    policy: WindowPolicy,
    marks: Mapping[str, SeqMark] | None = None,
) -> dict[str, DeviceState]:
    """Each device's state as if its stored readings had just been folded: open windows and
    watermark, no late count; the sequence window from the device's mark, when there is
    one (else the next real batch starts it)."""
    by_device: dict[str, list[StoredReading]] = defaultdict(list)
    for row in stored:
        by_device[row[0]].append(row)
    states: dict[str, DeviceState] = {}
    for device, rows in by_device.items():
        rows.sort(key=lambda r: r[2])
        batches = [
            TelemetryBatch(
                device_id=device,
                seq=i,
                sent_at_ms=rows[-1][2],
                readings=[{"ts_ms": t, "metric": m, "value": v} for _, m, t, v in chunk],
            )
            for i, chunk in enumerate(_chunks(rows, MAX_READINGS_PER_BATCH))
        ]
        step(states, batches, policy)
        state = states[device]
        state.seq, state.missing, state.late = None, 0, 0
    for device, (last_seq, missing) in (marks or {}).items():
        state = states.setdefault(device, DeviceState())
        if last_seq >= 0:
            state.seq = SeqWindow(last_seq, size=policy.seq_window)
            state.missing = missing
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


def _chunks(rows: list[StoredReading], size: int) -> Iterable[list[StoredReading]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]
