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


def test_csv_import_of_paris_counters_reports_every_bad_row(tmp_path):
    path = tmp_path / "comptages.csv"
    path.write_text(PARIS, encoding="utf-8")
    mapping = CsvMapping(
        time="t_1h",
        device="iu_ac",
        delimiter=";",
        device_template="traffic-{}",
        values={"traffic_flow_vehh": "q", "occupancy_pct": "k"},
    )
    result = import_csv(path, mapping, _paris_registry().by_id())
    assert result.rows == 8
    expected = {
        4: "not a number",
        5: "empty",
        6: "not in the registry",
        7: "Invalid isoformat",
        8: "outside [0.0, 100.0]",
    }
    assert {p.line for p in result.problems} == set(expected)
    for problem in result.problems:
        assert expected[problem.line] in problem.reason
    readings = [
        (b.batch.device_id, r["metric"], r["value"])
        for b in result.emitted
        for r in b.batch.readings
    ]
    assert ("traffic-5001", "occupancy_pct", 21.5) in readings  # French decimal comma
    assert len(readings) == 6 == result.readings
    assert [b.batch.seq for b in result.emitted if b.batch.device_id == "traffic-5001"] == [0, 1]
