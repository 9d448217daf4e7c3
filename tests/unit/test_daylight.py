import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.daylight import DarkCalendar
from vigie.sun import is_dark

START = 1_789_948_800_000  # 2026-09-21T00:00Z


@settings(max_examples=50, deadline=None)
@given(
    st.floats(-60, 60),
    st.floats(-180, 180),
    st.lists(st.integers(0, 3 * 86_400_000), min_size=1, max_size=80),
)
def test_dark_mask_agrees_with_is_dark_reading_by_reading(lat, lon, offsets):
    ts = np.array(sorted(START + o for o in offsets), np.int64)
    mask = DarkCalendar().dark_mask(lat, lon, ts)
    assert mask.tolist() == [is_dark(lat, lon, int(t)) for t in ts]


def test_a_night_in_grenoble_is_dark_and_its_noon_is_not():
    cal = DarkCalendar()
    noon, midnight = START + 12 * 3_600_000, START + 23 * 3_600_000
    assert cal.dark_mask(45.19, 5.72, np.array([noon, midnight])).tolist() == [False, True]
