"""Storage receipts, the agent's resend rule and window recovery from stored readings. Pure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.queue import BatchQueue
from edge.session import Link
from streams.recovery import SeqMark, seeded_states, without_stored
from streams.windowing import WindowPolicy, step
from vigie.contracts import Receipt, TelemetryBatch

POLICY = WindowPolicy()


@given(st.sets(st.integers(0, 300), max_size=80))
def test_a_receipt_names_exactly_its_sequence_numbers_in_fewest_ranges(seqs):
    receipt = Receipt.of(seqs)
    named = {s for first, last in receipt.stored for s in range(first, last + 1)}
    assert named == seqs
    gaps = sum(1 for s in seqs if s + 1 not in seqs)
    assert len(receipt.stored) == gaps


def test_the_queue_forgets_what_a_receipt_names_and_nothing_else(tmp_path):
    queue = BatchQueue(tmp_path / "q.db")
    queue.put_many([(s, 0, "lighting", b"{}") for s in range(10)])
    assert queue.forget(Receipt.of([0, 1, 2, 5, 9, 42]).stored) == 5
    assert [q.seq for q in queue.oldest(100)] == [3, 4, 6, 7, 8]
    queue.close()


def test_a_batch_is_sent_again_after_the_timeout_then_ever_later_until_a_receipt():
    link = Link(sent_at={7: 100.0})
    assert not link.resend_due(7, 159.0, 60.0)
    assert link.resend_due(7, 161.0, 60.0)
    link.rounds = 3  # three rounds without a receipt: the wait is 8 times longer
    assert not link.resend_due(7, 100.0 + 479.0, 60.0)
    assert link.resend_due(7, 100.0 + 481.0, 60.0)
    link.receipted([(7, 7)])
    assert link.rounds == 0 and 7 not in link.sent_at
    assert not link.resend_due(7, 10_000.0, 60.0), "never sent on this connection: not due"


def _batch(
    device: str, seq: int, readings: list[tuple[int, float]], metric: str = "power_w"
) -> TelemetryBatch:
    return TelemetryBatch(
        device_id=device,
        seq=seq,
        sent_at_ms=readings[-1][0],
        readings=[{"ts_ms": t, "metric": metric, "value": v} for t, v in readings],
    )


_READINGS = st.lists(
    st.tuples(st.integers(0, 600_000), st.floats(0, 100, allow_nan=False)),
    min_size=2,
    max_size=60,
    unique_by=lambda r: r[0],
)


def _as_stored(rows, hop: bool = False) -> list:
    """The rows a worker wrote, as InfluxDB holds them (agg_1m / agg_hop_1h)."""
    return [(r, hop) for r in rows]


@settings(max_examples=200, deadline=None)
@given(
    _READINGS,
    st.integers(1, 59),
    st.integers(0, 10),
    st.sampled_from(["power_w", "traffic_flow_vehh"]),
)
def test_windows_rebuilt_from_stored_windows_equal_an_uninterrupted_fold(
    readings, cut, repeat, metric
):
    """A worker that lost its state reads back the windows it wrote and the points already
    stored, drops repeats, folds the rest: every window it writes, 1-minute and hopping,
    equals the one a worker that never stopped would write."""
    readings = sorted(readings)
    cut = min(cut, len(readings) - 1)
    before, after = readings[:cut], readings[cut:]
    whole: dict = {}
    step(whole, [_batch("d", 0, before, metric)], POLICY)
    expected = step(whole, [_batch("d", 1, after, metric)], POLICY)
    # what the interrupted worker wrote for the first part: its windows, as stored
    first: dict = {}
    wrote = step(first, [_batch("d", 0, before, metric)], POLICY)
    stored = _latest(_as_stored(wrote.rows) + _as_stored(wrote.hop_rows, hop=True))
    states = seeded_states(stored, POLICY, {"d": SeqMark(0, 0)})
    again = before[len(before) - min(repeat, len(before)) :] + after
    known = {"d": {(metric, t) for t, _ in before}}
    fresh = without_stored([_batch("d", 1, again, metric)], known)
    got = step(states, fresh, POLICY)
    for rows, want in ((got.rows, expected.rows), (got.hop_rows, expected.hop_rows)):
        final = {(r.metric, r.start_ms): (r.count, r.sum, r.min, r.max, r.last) for r in want}
        assert {(r.metric, r.start_ms) for r in rows} == set(final)
        for r in rows:
            count, total, lo, hi, last = final[(r.metric, r.start_ms)]
            assert (r.count, r.min, r.max, r.last) == (count, lo, hi, last)
            assert r.sum == pytest.approx(total, rel=1e-12, abs=1e-12)  # summed in another order
    assert sum(len(b.readings) for b in fresh) == len(after)


def _latest(windows: list) -> list:
    """One row per window, as InfluxDB keeps the last point written at a series and time."""
    return list({(hop, w.metric, w.start_ms): (w, hop) for w, hop in windows}.values())


def test_a_rebuilt_sequence_window_counts_what_the_broker_lost_and_a_resend_fills_it():
    states = seeded_states([], POLICY, {"d": SeqMark(10, 2)})
    got = step(states, [_batch("d", 14, [(1_000, 1.0)])], POLICY)
    assert states["d"].missing == 2 + 3, "11, 12 and 13 lost with the broker"
    step(states, [_batch("d", 12, [(900, 1.0)])], POLICY)
    assert states["d"].missing == 4, "an edge agent sent 12 again"
    assert got.duplicates == 0
    again = step(states, [_batch("d", 10, [(800, 1.0)])], POLICY)
    assert again.duplicates == 1, "the last stored batch is known"


def test_a_window_shorter_than_its_raw_readings_is_made_again_from_them():
    from streams.recovery import RawWindow, completed, reconciled, short_windows
    from streams.windowing import WindowRow

    # a worker stopped between its raw and its window writes left the window with 4 of 10
    short = WindowRow("d", "power_w", 60_000, 4, 6.0, 0.0, 3.0, 63_000, 3.0)
    hop = WindowRow("d", "power_w", 0, 1, 1.0, 1.0, 1.0, 5_000, 1.0)
    whole = WindowRow("d", "flow_m3h", 60_000, 2, 2.0, 1.0, 1.0, 61_000, 1.0)
    raw = [
        RawWindow("d", "power_w", 60_000, 10, 45.0, 0.0, 9.0, 9.0),
        RawWindow("d", "flow_m3h", 60_000, 2, 2.0, 1.0, 1.0, 1.0),  # as stored
        RawWindow("e", "power_w", 60_000, 3, 3.0, 1.0, 1.0, 1.0),  # never stored
    ]
    stored = [(short, False), (hop, True), (whole, False)]
    found = short_windows(stored, raw)
    assert [(r.device_id, r.metric) for r in found] == [("d", "power_w"), ("e", "power_w")]
    made = completed(found, {("d", "power_w", 60_000): 69_000})
    assert made == [WindowRow("d", "power_w", 60_000, 10, 45.0, 0.0, 9.0, 69_000, 9.0)]
    out = reconciled(stored, made)
    assert sorted(out, key=lambda r: (r[1], r[0].metric)) == [
        (whole, False),
        (made[0], False),
        (hop, True),
    ], "the raw readings win; hopping windows and consistent ones stay as stored"
