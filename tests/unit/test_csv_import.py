"""A counter's own export, as cities publish them: US-style 12-hour local times, no device
column, the spring change's hour present with empty cells, the autumn change's hour once, an
outage as a gap."""

from __future__ import annotations

import datetime as dt

import pytest

from simulators.csv_import import CsvMapping, import_csv
from vigie.contracts import Asset, AssetKind

COUNTER = Asset(id="cpt-1", kind=AssetKind.TRAFFIC_COUNTER, district="d1", lat=47.2, lon=-1.55)
FORMAT = "%m/%d/%Y %I:%M:%S %p"


def _file(tmp_path, rows: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    path = tmp_path / "counter.csv"
    path.write_text("Date,Channel1\n" + "".join(f"{d},{v}\n" for d, v in rows))
    return path


def _mapping(**over) -> CsvMapping:  # type: ignore[no-untyped-def]
    base = dict(time="Date", device=None, values={"traffic_flow_vehh": "Channel1"},
                time_format=FORMAT, timezone="Europe/Paris", device_value="cpt-1",
                period_s=3600)  # fmt: skip
    return CsvMapping(**{**base, **over})


def _utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


def test_twelve_hour_local_times_of_one_counter_become_its_readings(tmp_path):
    path = _file(tmp_path, [("01/01/2023 12:00:00 AM", "3"), ("01/01/2023 01:00:00 PM", "41")])
    done = import_csv(path, _mapping(), {"cpt-1": COUNTER})
    stamps = [r["ts_ms"] for e in done.emitted for r in e.batch.readings]
    assert stamps == [_utc(2022, 12, 31, 23), _utc(2023, 1, 1, 12)], "midnight and 1 pm, Paris"
    assert done.problems == []


def test_the_spring_hour_is_refused_and_an_outage_is_a_gap(tmp_path):
    rows = [("03/26/2023 01:00:00 AM", "2"), ("03/26/2023 02:00:00 AM", ""),
            ("03/26/2023 03:00:00 AM", "1"), ("03/26/2023 04:00:00 AM", "1"),
            ("03/26/2023 03:00:00 PM", "30")]  # fmt: skip
    done = import_csv(_file(tmp_path, rows), _mapping(), {"cpt-1": COUNTER})
    assert [str(p) for p in done.problems] == [
        "line 3: column Date: 2023-03-26T02:00:00 does not exist in Europe/Paris "
        "(clocks go forward)"
    ]
    seqs = [e.batch.seq for e in done.emitted]
    assert seqs[-1] - seqs[-2] == 11, "04:00 to 15:00: ten hours missing, a gap of sequence numbers"
    assert seqs[1] - seqs[0] == 1, "01:00 then 03:00 CEST is one hour of real time"


@pytest.mark.parametrize(
    ("rule", "utc_hour"), [("first", 0), ("second", 1)], ids=["summer time", "winter time"]
)
def test_the_autumn_hour_listed_once_follows_the_files_rule(tmp_path, rule, utc_hour):
    rows = [("10/29/2023 01:00:00 AM", "4"), ("10/29/2023 02:00:00 AM", "3"),
            ("10/29/2023 03:00:00 AM", "2")]  # fmt: skip
    refused = import_csv(_file(tmp_path, rows), _mapping(), {"cpt-1": COUNTER})
    assert "happens twice" in str(refused.problems[0]), "no rule: refused, not guessed"
    done = import_csv(_file(tmp_path, rows), _mapping(repeated=rule), {"cpt-1": COUNTER})
    stamps = [r["ts_ms"] for e in done.emitted for r in e.batch.readings]
    assert stamps[1] == _utc(2023, 10, 29, utc_hour)
    assert done.problems == []


def test_a_device_column_and_a_device_value_together_are_refused(tmp_path):
    path = _file(tmp_path, [("01/01/2023 12:00:00 AM", "3")])
    with pytest.raises(ValueError, match="not both"):
        import_csv(path, _mapping(device="Date"), {"cpt-1": COUNTER})
