"""Record/replay files and CSV import of real-format open data."""

import io

from simulators import recording
from simulators.csv_import import CsvMapping, import_csv
from simulators.recording import Recorded
from simulators.simulation import Simulation, SimulationPlan
from simulators.territory import generate
from vigie.contracts import Asset, AssetKind, District, Territory


def test_recording_round_trip_reproduces_messages_including_binary():
    t = generate(150, seed=3)
    emitted = list(Simulation(t, SimulationPlan(1_800_000_000_000, 1800)))
    records = list(recording.from_emitted(emitted, t.id))
    records.append(Recorded(1_800_000_000_000, "vigie/demo/lighting/x/telemetry", b"\xff\x00"))
    buf = io.StringIO()
    assert recording.write(records, buf) == len(records)
    back = [Recorded.from_line(line) for line in buf.getvalue().splitlines()]
    assert back == records


PARIS = """iu_ac;libelle;t_1h;q;k;etat_trafic
5001;Bd Voltaire;2024-03-04T08:00:00+01:00;812;21,5;Pré-saturé
5001;Bd Voltaire;2024-03-04T09:00:00+01:00;790;19.1;Pré-saturé
5002;Rue de Rivoli;2024-03-04T08:00:00+01:00;abc;12.0;Fluide
5002;Rue de Rivoli;2024-03-04T09:00:00+01:00;;12.0;Inconnu
9999;Inconnu;2024-03-04T08:00:00+01:00;100;3.0;Fluide
5002;Rue de Rivoli;not a date;300;4.0;Fluide
5002;Rue de Rivoli;2024-03-04T10:00:00+01:00;455;130;Bloqué
5002;Rue de Rivoli;2024-03-04T11:00:00+01:00;455;9.5;Fluide
"""


def _paris_registry() -> Territory:
    assets = [
        Asset(id=f"traffic-{n}", kind=AssetKind.TRAFFIC_COUNTER, district="d1", lat=48.85, lon=2.35)
        for n in (5001, 5002)
    ]
    return Territory(
        id="paris",
        name="Paris",
        lat=48.85,
        lon=2.35,
        districts=[District(id="d1", name="11e")],
        assets=assets,
    )


def _mapping(**kw) -> CsvMapping:
    return CsvMapping(
        time="t_1h",
        device="iu_ac",
        delimiter=";",
        device_template="traffic-{}",
        values={"traffic_flow_vehh": "q", "occupancy_pct": "k"},
        **kw,
    )


def test_csv_import_keeps_every_valid_value_and_reports_each_bad_one(tmp_path):
    path = tmp_path / "comptages.csv"
    path.write_text(PARIS, encoding="utf-8")
    result = import_csv(path, _mapping(), _paris_registry().by_id())
    assert result.rows == 8
    expected = {
        (4, "q"): "not a number",
        (5, "q"): "empty",
        (6, None): "not in the registry",
        (7, "t_1h"): "Invalid isoformat",
        (8, "k"): "outside [0.0, 100.0]",
    }
    assert {(p.line, p.column) for p in result.problems} == set(expected)
    for problem in result.problems:
        assert expected[(problem.line, problem.column)] in problem.reason
    readings = {
        (b.batch.device_id, r["metric"], r["ts_ms"], r["value"])
        for b in result.emitted
        for r in b.batch.readings
    }
    at = 1_709_535_600_000  # 2024-03-04T08:00:00+01:00
    assert ("traffic-5001", "occupancy_pct", at, 21.5) in readings  # French decimal comma
    # a row's valid values are kept when another of its cells is bad
    assert ("traffic-5002", "occupancy_pct", at, 12.0) in readings
    assert ("traffic-5002", "occupancy_pct", at + 3_600_000, 12.0) in readings
    assert ("traffic-5002", "traffic_flow_vehh", at + 7_200_000, 455.0) in readings
    assert len(readings) == 9 == result.readings
    assert (result.rows_rejected, result.values_rejected) == (2, 3)


def test_batches_are_numbered_by_hour_so_a_missing_hour_is_a_missing_number(tmp_path):
    path = tmp_path / "comptages.csv"
    path.write_text(PARIS, encoding="utf-8")
    result = import_csv(path, _mapping(), _paris_registry().by_id())
    seqs = {
        d: [b.batch.seq for b in result.emitted if b.batch.device_id == d]
        for d in ("traffic-5001", "traffic-5002")
    }
    first = 1_709_535_600_000 // 3_600_000
    assert seqs["traffic-5001"] == [first, first + 1]
    assert seqs["traffic-5002"] == [first, first + 1, first + 2, first + 3]
    again = import_csv(path, _mapping(), _paris_registry().by_id())
    assert [b.batch for b in again.emitted] == [b.batch for b in result.emitted], "same numbers"
    assert all(b.batch.seq == b.batch.readings[0]["ts_ms"] // 3_600_000 for b in result.emitted)


NAIVE = """iu_ac;t_1h;q;k
5001;2026-03-29 01:00:00;100;1
5001;2026-03-29 02:00:00;100;1
5001;2026-03-29 03:00:00;100;1
5001;2026-10-25 02:00:00;100;1
5001;2026-10-25 04:00:00;100;1
"""


def test_naive_local_times_need_a_time_zone_and_dst_holes_are_reported(tmp_path):
    path = tmp_path / "naive.csv"
    path.write_text(NAIVE, encoding="utf-8")
    refused = import_csv(path, _mapping(), _paris_registry().by_id())
    assert refused.readings == 0 and "--timezone" in refused.problems[0].reason
    result = import_csv(path, _mapping(timezone="Europe/Paris"), _paris_registry().by_id())
    reasons = {p.line: p.reason for p in result.problems}
    assert set(reasons) == {3, 5}
    assert "does not exist" in reasons[3] and "happens twice" in reasons[5]
    stamps = sorted({r["ts_ms"] for b in result.emitted for r in b.batch.readings})
    hours = [(t - stamps[0]) // 3_600_000 for t in stamps]
    assert hours[:2] == [0, 1], "01:00 CET then 03:00 CEST: one hour apart"
    assert stamps[2] - stamps[0] == (210 * 24 + 3) * 3_600_000, "04:00 CET, after the change"
