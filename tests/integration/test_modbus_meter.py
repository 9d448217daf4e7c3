"""Integration: a cabinet's Modbus meter read by the edge agent, stored in InfluxDB.

Each register map is served by pymodbus's own Modbus TCP server (``simulators.modbus_meter``)
holding known values; the agent's ``modbus`` driver reads it through the real Mosquitto,
bridge, Tansu, worker and InfluxDB. On the way the energy register wraps, and the meter
stops answering (the worker raises meter_down), then comes back (cleared).
"""

from __future__ import annotations

import threading
import time

import pytest

from edge.agent import Agent
from edge.config import AgentConfig
from edge.drivers.modbus_map import load_maps
from shell.stack.services import free_port
from simulators.modbus_meter import MeterServer
from tests.helpers import running_chain
from vigie import influxql
from vigie.contracts import Asset, AssetKind, District, Territory

pytestmark = pytest.mark.integration
WRAP_WH = 1_000_000.0  # the test meter's energy register wraps here (a sensor option)


def _territory(map_name: str) -> Territory:
    cabinet = Asset(
        id="cab-1",
        kind=AssetKind.LIGHTING_CABINET,
        district="centre",
        lat=45.0,
        lon=5.0,
        modbus={"unit": 7, "map": map_name},
    )
    return Territory(
        id="modbus",
        name="Modbus",
        lat=45.0,
        lon=5.0,
        districts=[District(id="centre", name="Centre")],
        assets=[cabinet],
    )


def _series(settings, metric: str) -> list[float]:
    rows = influxql.query(
        settings.influx,
        f'SELECT "value" FROM "raw"."telemetry" WHERE device=\'cab-1\' AND metric=\'{metric}\'',
    )
    return [r["value"] for r in rows]


def _count(settings) -> int:
    query = 'SELECT count("value") FROM "raw"."telemetry" WHERE device=\'cab-1\''
    return int(influxql.scalar(settings.influx, query) or 0)


def _by_metric(settings) -> str:
    query = 'SELECT count("value") FROM "raw"."telemetry" GROUP BY metric'
    return " ".join(f"{r['metric']}={r['count']}" for r in influxql.query(settings.influx, query))


@pytest.mark.parametrize("map_name", sorted(load_maps()))
def test_a_meter_read_through_the_chain_with_a_wrap_and_an_outage(
    stack, settings, isolated, tmp_path, map_name
):
    territory = _territory(map_name)
    port = free_port()
    meter = MeterServer(load_maps()[map_name], unit=7, port=port).start()
    meter.set(power_w=1500.0, energy_wh=999_000.0, voltage_v=230.5)
    config = AgentConfig.model_validate(
        {
            "territory": territory.id,
            "asset": territory.assets[0].model_dump(mode="json", exclude_none=True),
            "sensors": [
                {
                    "driver": "modbus",
                    "period_s": 0.1,
                    "options": {"host": "127.0.0.1", "port": port, "rollover_wh": WRAP_WH},
                }
            ],
            "batch_max_readings": 20,
            "health_period_s": 3600,
            "state_dir": str(tmp_path / "state"),
            "mqtt": settings.mqtt.model_dump(mode="json"),
            "backoff": {"first_s": 0.1, "max_s": 0.5},
            "receipt_timeout_s": 2.0,
            "stop_timeout_s": 30.0,
        }
    )
    with running_chain(settings, isolated, tmp_path, territory) as chain:
        agent = Agent(config)
        stop = threading.Event()
        runner = threading.Thread(target=agent.run, args=(stop,))
        runner.start()
        try:
            time.sleep(1.0)
            meter.set(1500.0, 999_990.0, 230.5)
            time.sleep(1.0)
            meter.set(1500.0, 10.0, 230.5)  # the register wraps
            time.sleep(1.0)
            meter.stop()  # the meter stops answering
            time.sleep(1.0)
            meter.start()
            meter.set(1480.0, 50.0, 229.0)
            time.sleep(1.5)
        finally:
            stop.set()
            runner.join(60)
            meter.stop()
        assert not runner.is_alive()
        deadline = time.monotonic() + 60
        while _count(settings) < agent.report.readings and time.monotonic() < deadline:
            time.sleep(0.5)
        chain.check_alive()
    assert _count(settings) == agent.report.readings, (
        "every reading stored once",
        _by_metric(settings),
    )
    energy = _series(settings, "energy_index_wh")
    assert energy == sorted(energy), "the index never goes back, across the wrap"
    assert energy[0] == pytest.approx(999_000, abs=0.1)
    assert any(e == pytest.approx(999_990, abs=0.1) for e in energy)
    assert any(e == pytest.approx(WRAP_WH + 10, abs=0.1) for e in energy)
    assert energy[-1] == pytest.approx(WRAP_WH + 50, abs=0.1)
    up = _series(settings, "meter_up")
    assert 0.0 in up and up[0] == 1.0 and up[-1] == 1.0, "the outage is on record, then the end"
    longest = max(len(run) for run in "".join(str(int(u)) for u in up).split("1"))
    assert longest >= 3, f"the outage lasted {longest} polls in a row"
    alerts = influxql.query(
        settings.influx,
        'SELECT "open", "state" FROM "long"."alerts" WHERE "device" = \'cab-1\' '
        "AND \"kind\" = 'meter_down'",
    )
    assert [(a["open"], a["state"]) for a in alerts] == [(1, "raised"), (0, "cleared")], alerts
    assert max(_series(settings, "read_errors")) >= 1
    assert set(_series(settings, "voltage_v")) == {230.5, 229.0}
    assert set(_series(settings, "cabinet_power_w")) == {1500.0, 1480.0}
