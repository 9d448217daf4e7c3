"""Open-data cells: every period present, counts never extrapolated, coverage stated, days
of the local calendar (23 and 25 hours on the daylight-saving changes)."""

from __future__ import annotations

import datetime as dt

from reports.opendata.datasets import mobility_cells, periods
from vigie.localtime import HOUR_MS, LocalClock

PARIS = LocalClock("Europe/Paris")


def _utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


def test_local_days_last_23_and_25_hours_across_the_changes():
    spring = periods(_utc(2026, 3, 27, 23), _utc(2026, 3, 30, 22), "1d", PARIS)
    assert [(b - a) // HOUR_MS for a, b in spring] == [24, 23, 24]
    assert spring[1][0] == _utc(2026, 3, 28, 23), "29 March begins at midnight, UTC+1"
    autumn = periods(_utc(2026, 10, 24, 22), _utc(2026, 10, 26, 23), "1d", PARIS)
    assert [(b - a) // HOUR_MS for a, b in autumn] == [25, 24]


def test_a_day_with_one_hour_of_data_is_counted_not_extrapolated():
    day = periods(_utc(2026, 6, 1, 22), _utc(2026, 6, 2, 22), "1d", PARIS)
    rows = [{"time": _utc(2026, 6, 2, 7), "district": "centre", "device": "c1", "flow_vehh": 812.0}]
    (cell,) = mobility_cells(rows, day, {"centre": 2})
    assert cell["vehicles"] == 812, "what was counted, not 812 x 24"
    assert cell["coverage"] == round(1 / 48, 4), "one counter-hour of 2 counters x 24 hours"


def test_every_period_and_district_has_a_cell_with_its_coverage():
    hours = periods(_utc(2026, 6, 1, 0), _utc(2026, 6, 1, 3), "1h", PARIS)
    rows = [
        {"time": _utc(2026, 6, 1, 1), "district": "a", "device": "c1", "flow_vehh": 10.4},
        {"time": _utc(2026, 6, 1, 1), "district": "a", "device": "c2", "flow_vehh": 20.4},
    ]
    cells = mobility_cells(rows, hours, {"a": 2, "b": 1})
    assert [(c["district"], c["vehicles"], c["coverage"]) for c in cells] == [
        ("a", None, 0.0),
        ("b", None, 0.0),
        ("a", 31, 1.0),
        ("b", None, 0.0),
        ("a", None, 0.0),
        ("b", None, 0.0),
    ]
