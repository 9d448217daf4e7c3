"""Driver decoding from raw register bytes, with the datasheets' scales and examples."""

import pytest

from edge.drivers import bh1750, ina219, vl53l1x
from edge.drivers.pulse import PulseTotals


def test_ina219_registers():
    # bus voltage: bits 15..3, LSB 4 mV; 0x1F40 >> 3 = 1000 -> 4.000 V
    assert ina219.bus_voltage_v(bytes([0x1F, 0x40])) == pytest.approx(4.0)
    # datasheet calibration example: current LSB 100 uA with a 0.1 ohm shunt -> 4096
    assert ina219.calibration(0.0001, 0.1) == 4096
    # current register is two's complement: 0xFC18 = -1000 LSB -> -0.1 A
    assert ina219.current_a(bytes([0xFC, 0x18]), 0.0001) == pytest.approx(-0.1)
    # power LSB = 20 x current LSB: 0x0FA0 = 4000 -> 8 W
    assert ina219.power_w(bytes([0x0F, 0xA0]), 0.0001) == pytest.approx(8.0)


def test_bh1750_datasheet_example():
    # datasheet: 1000_0011_1001_0000 -> (2^15 + 2^9 + 2^8 + 2^7 + 2^4) / 1.2 = 28067 lx
    assert bh1750.lux(bytes([0b10000011, 0b10010000])) == pytest.approx(28067, abs=1)


def test_vl53l1x_distance_to_fill_level():
    assert vl53l1x.distance_mm(bytes([0x02, 0x58])) == 600
    assert vl53l1x.fill_pct(600, empty_mm=1100, full_mm=100) == pytest.approx(50.0)
    assert vl53l1x.fill_pct(1300, 1100, 100) == 0.0 and vl53l1x.fill_pct(50, 1100, 100) == 100.0


def test_pulse_counter_index_and_flow():
    meter = PulseTotals(units_per_pulse=0.001)  # one litre per pulse
    meter.add(250)
    assert meter.read(0, 60.0) == [
        ("flow_m3h", pytest.approx(15.0)),
        ("volume_index_m3", pytest.approx(0.25)),
    ]
    meter.add(10)
    assert meter.read(0, 60.0)[0][1] == pytest.approx(0.6)


def test_the_agent_reports_its_own_traffic_and_cpu_since_the_last_report():
    from edge.health import SelfMeasure
    from vigie.contracts.metrics import METRICS

    own = SelfMeasure()
    first = dict(own.readings(messages=10, sent_bytes=6_000))
    assert first["tx_messages"] == 10 and first["tx_bytes"] == 6_000 and first["cpu_s"] >= 0
    sum(i * i for i in range(200_000))  # some CPU work
    second = dict(own.readings(messages=15, sent_bytes=9_500))
    assert second["tx_messages"] == 5 and second["tx_bytes"] == 3_500
    assert second["cpu_s"] > 0
    assert all(name in METRICS for name in second)  # valid readings for the registry
