"""Storage receipts, the agent's resend rule and window recovery from stored readings. Pure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.queue import BatchQueue
from edge.session import Link
from streams.recovery import seeded_states, without_stored
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


def _batch(device: str, seq: int, readings: list[tuple[int, float]]) -> TelemetryBatch:
    return TelemetryBatch(
        device_id=device,
        seq=seq,
        sent_at_ms=readings[-1][0],
        readings=[{"ts_ms": t, "metric": "power_w", "value": v} for t, v in readings],
    )


_READINGS = st.lists(
    st.tuples(st.integers(0, 600_000), st.floats(0, 100, allow_nan=False)),
    min_size=2,
    max_size=60,
    unique_by=lambda r: r[0],
)


@settings(max_examples=150, deadline=None)
@given(_READINGS, st.integers(1, 59), st.integers(0, 10))
def test_windows_rebuilt_from_stored_readings_equal_an_uninterrupted_fold(readings, cut, repeat):
    """A worker that lost its state reads back what was stored, drops repeats, folds the rest:
    every window it writes equals the one a worker that never stopped would write."""
    readings = sorted(readings)
    cut = min(cut, len(readings) - 1)
    before, after = readings[:cut], readings[cut:]
    whole: dict = {}
    expected = step(whole, [_batch("d", 0, before), _batch("d", 1, after)], POLICY)
    # the first part is stored, the state is lost; a few stored readings come again
    stored = [("d", "power_w", t, v) for t, v in before]
    states = seeded_states(stored, POLICY)
    again = before[len(before) - min(repeat, len(before)) :] + after
    known = {"d": {("power_w", t) for t, _ in before}}
    fresh = without_stored([_batch("d", 5, again)], known)
    got = step(states, fresh, POLICY)
    final = {(r.metric, r.start_ms): (r.count, r.sum, r.min, r.max) for r in expected.rows}
    for r in got.rows:
        count, total, lo, hi = final[(r.metric, r.start_ms)]
        assert (r.count, r.min, r.max) == (count, lo, hi)
        assert r.sum == pytest.approx(total, rel=1e-12, abs=1e-12)  # summed in another order
    assert got.duplicates == 0
    assert sum(len(b.readings) for b in fresh) == len(after)


def test_a_rebuilt_sequence_window_counts_what_the_broker_lost_and_a_resend_fills_it():
    states = seeded_states([], POLICY, {"d": (10, 2)})
    got = step(states, [_batch("d", 14, [(1_000, 1.0)])], POLICY)
    assert states["d"].missing == 2 + 3, "11, 12 and 13 lost with the broker"
    step(states, [_batch("d", 12, [(900, 1.0)])], POLICY)
    assert states["d"].missing == 4, "an edge agent sent 12 again"
    assert got.duplicates == 0
    again = step(states, [_batch("d", 10, [(800, 1.0)])], POLICY)
    assert again.duplicates == 1, "the last stored batch is known"
