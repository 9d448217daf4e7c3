"""The territory's local calendar across both daylight-saving changes of 2026 (Europe/Paris:
clocks forward on 29 March at 02:00, back on 25 October at 03:00)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from streams.groups import GroupPolicy, GroupState, close_nights
from streams.kpis import KpiPolicy, _switched_off
from vigie.contracts import Territory
from vigie.localtime import DAY_MS, HOUR_MS, LocalClock, LocalTimeError

PARIS = LocalClock("Europe/Paris")


def _utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


def _local(*args: int) -> int:
    naive_epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # wall-clock arithmetic, no zone
    return int((dt.datetime(*args, tzinfo=dt.UTC) - naive_epoch).total_seconds() * 1000)


def test_offsets_follow_both_changes():
    ts = np.array(
        [
            _utc(2026, 3, 29, 0, 59),
            _utc(2026, 3, 29, 1, 0),
            _utc(2026, 10, 25, 0, 59),
            _utc(2026, 10, 25, 1, 0),
        ]
    )
    assert (PARIS.offsets_ms(ts) // HOUR_MS).tolist() == [1, 2, 2, 1]
    assert PARIS.hour(ts).tolist() == pytest.approx([1 + 59 / 60, 3, 2 + 59 / 60, 2])


def test_the_change_days_last_23_and_25_hours():
    assert PARIS.day_length_ms(_local(2026, 3, 29)) == 23 * HOUR_MS
    assert PARIS.day_length_ms(_local(2026, 10, 25)) == 25 * HOUR_MS
    assert PARIS.day_length_ms(_local(2026, 6, 1)) == DAY_MS


def test_skipped_and_repeated_local_times_are_refused_not_guessed():
    with pytest.raises(LocalTimeError, match="does not exist"):
        PARIS.utc_of_local(_local(2026, 3, 29, 2, 30))
    with pytest.raises(LocalTimeError, match="happens twice"):
        PARIS.utc_of_local(_local(2026, 10, 25, 2, 30))
    assert PARIS.utc_of_local(_local(2026, 7, 1, 12)) == _utc(2026, 7, 1, 10)
    assert PARIS.utc_of_local(_local(2026, 1, 1, 12)) == _utc(2026, 1, 1, 11)


def test_a_registry_names_its_time_zone_and_an_unknown_one_is_refused():
    base = {"id": "t", "name": "T", "lat": 0.0, "lon": 0.0, "districts": [], "assets": []}
    assert Territory.model_validate(base).timezone == "Europe/Paris"
    assert Territory.model_validate({**base, "timezone": "America/Cayenne"}).timezone
    with pytest.raises(ValueError, match="IANA"):
        Territory.model_validate({**base, "timezone": "CET+1"})


def test_switch_off_hours_are_local_in_summer_and_winter():
    policy = KpiPolicy(switch_off_hours=(23, 5), clock=PARIS)
    # 22:30 UTC is 23:30 in January (off) and 00:30 in July (off); 21:30 UTC is 22:30 / 23:30
    ts = np.array([_utc(2026, 1, 10, 22, 30), _utc(2026, 7, 10, 21, 30), _utc(2026, 1, 10, 21, 30)])
    assert _switched_off(ts, policy).tolist() == [True, True, False]


def test_night_minimum_window_is_local_across_the_spring_change():
    """02:00-05:00 local: 00:00-03:00 UTC in summer time, 01:00-04:00 in winter time."""
    policy = GroupPolicy(clock=PARIS, lateness_ms=0)
    state = GroupState()
    summer = np.array([_utc(2026, 7, 1, 0, 30), _utc(2026, 7, 1, 3, 30)])  # 02:30 and 05:30
    state.observe_night_flow(summer, np.array([4.0, 1.0]), policy)
    state.watermark_ms = _utc(2026, 7, 1, 12)
    verdicts, _ = close_nights("dma", state, policy)
    assert [v.min_flow_m3h for v in verdicts] == [4.0], "05:30 local is past the night"
    assert verdicts[0].night_ms == _utc(2026, 7, 1, 3), "the night ends at 05:00 local"
