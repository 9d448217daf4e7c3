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


def _health(device, seq, ts, **values):
    return TelemetryBatch(
        device_id=device,
        seq=seq,
        sent_at_ms=0,
        readings=[{"ts_ms": ts, "metric": m, "value": float(v)} for m, v in values.items()],
    )


def test_batches_an_agent_dropped_before_the_first_one_seen_count_as_missing():
    """The worker first sees seq 5: the agent says its queue started at 0 and dropped 5."""
    states: dict[str, DeviceState] = {}
    step(states, [_batch("a", 5, [(0, 1.0)])], POLICY)
    assert states["a"].missing == 0, "nothing is known before the agent reports"
    step(states, [_health("a", 6, 1_000, seq_first=0, queue_dropped=5)], POLICY)
    assert (states["a"].missing, states["a"].edge_dropped) == (5, 5)
    step(states, [_health("a", 7, 2_000, seq_first=0, queue_dropped=5)], POLICY)
    assert states["a"].missing == 5, "a repeated report changes nothing"
    step(states, [_batch("a", 3, [(3_000, 1.0)])], POLICY)
    assert states["a"].missing == 4, "a batch from before the first one seen fills its gap"
    again = DeviceState.from_bytes(states["a"].to_bytes())
    assert (again.missing, again.seq_start, again.edge_dropped) == (4, 0, 5)


def test_a_late_batch_below_the_first_one_seen_counts_the_numbers_between():
    states: dict[str, DeviceState] = {}
    step(states, [_batch("a", 10, [(0, 1.0)])], POLICY)
    step(states, [_batch("a", 7, [(1_000, 1.0)])], POLICY)
    assert (states["a"].missing, states["a"].seq_start) == (2, 7), "8 and 9 not seen"
    step(states, [_health("a", 11, 2_000, seq_first=7)], POLICY)
    assert states["a"].missing == 2, "the agent's first number was already seen"


def test_hopping_windows_of_road_traffic_hold_every_reading_of_their_hour_across_bulks():
    from streams.kernels.reference import hopping_reference

    states: dict[str, DeviceState] = {}
    points = [(t * 60_000 + 7, float(t % 13)) for t in range(0, 150)]  # 2.5 h, one a minute
    rows = {}
    for seq, start in enumerate(range(0, len(points), 20)):  # bulks of 20 minutes
        batch = TelemetryBatch(
            device_id="counter-1",
            seq=seq,
            sent_at_ms=0,
            readings=[
                {"ts_ms": t, "metric": "traffic_flow_vehh", "value": v}
                for t, v in points[start : start + 20]
            ],
        )
        out = step(states, [batch], POLICY)
        rows.update({r.start_ms: r for r in out.hop_rows})  # the latest value of each window
        assert states["counter-1"].hops, "open hopping windows are kept in the device's state"
    ts, vals = [t for t, _ in points], [v for _, v in points]
    ref = hopping_reference([0] * len(ts), ts, vals, 3_600_000, 900_000)
    assert set(rows) == {start for _, start in ref}
    for (_, start), (count, total, lo, hi, _last_ts, last) in ref.items():
        row = rows[start]
        assert (row.count, row.sum, row.min, row.max, row.last) == (count, total, lo, hi, last)


def test_only_road_traffic_gets_hopping_windows():
    out = step({}, [_batch("lamp-1", 0, [(0, 40.0)])], POLICY)
    assert out.rows and not out.hop_rows
