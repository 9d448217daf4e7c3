from streams.windowing import DeviceState, WindowPolicy, step
from vigie.contracts import TelemetryBatch

POLICY = WindowPolicy(window_ms=60_000, allowed_lateness_ms=60_000)


def _batch(device, seq, points):
    return TelemetryBatch(
        device_id=device,
        seq=seq,
        sent_at_ms=0,
        readings=[{"ts_ms": t, "metric": "power_w", "value": v} for t, v in points],
    )


def test_window_split_across_batches_merges_to_full_value():
    states: dict[str, DeviceState] = {}
    step(states, [_batch("a", 0, [(0, 1.0), (10_000, 3.0)])], POLICY)
    out = step(states, [_batch("a", 1, [(20_000, 5.0)])], POLICY)
    row = next(r for r in out.rows if r.start_ms == 0)
    assert (row.count, row.sum, row.min, row.max, row.last) == (3, 9.0, 1.0, 5.0, 5.0)


def test_redelivered_batch_is_not_counted_twice_even_after_state_round_trip():
    states: dict[str, DeviceState] = {}
    b = _batch("a", 7, [(0, 2.0)])
    step(states, [b], POLICY)
    states = {k: DeviceState.from_bytes(v.to_bytes()) for k, v in states.items()}
    out = step(states, [b], POLICY)
    assert out.duplicates == 1 and not out.rows
    assert states["a"].windows["power_w|0"][0] == 1


def test_late_reading_is_reported_not_merged():
    states: dict[str, DeviceState] = {}
    step(states, [_batch("a", 0, [(0, 1.0)])], POLICY)
    step(states, [_batch("a", 1, [(300_000, 1.0)])], POLICY)  # closes window 0
    out = step(states, [_batch("a", 2, [(5_000, 9.0)])], POLICY)
    assert out.late == [("a", "power_w", 5_000, 9.0)]
    assert not any(r.start_ms == 0 for r in out.rows)
    assert states["a"].late == 1


def test_out_of_order_within_lateness_is_merged():
    states: dict[str, DeviceState] = {}
    step(states, [_batch("a", 0, [(70_000, 1.0)])], POLICY)
    out = step(states, [_batch("a", 1, [(30_000, 4.0)])], POLICY)
    assert not out.late
    assert [r.sum for r in out.rows if r.start_ms == 0] == [4.0]


def test_missing_sequence_numbers_are_counted_and_refilled():
    states: dict[str, DeviceState] = {}
    step(states, [_batch("a", 0, [(0, 1.0)])], POLICY)
    step(states, [_batch("a", 4, [(1_000, 1.0)])], POLICY)
    assert states["a"].missing == 3
    step(states, [_batch("a", 2, [(2_000, 1.0)])], POLICY)
    assert DeviceState.from_bytes(states["a"].to_bytes()).missing == 2
