"""Footprint and savings arithmetic against cases computed by hand."""

from __future__ import annotations

import pytest

from reports.footprint import DayBalance
from vigie.sobriety.balance import (
    carbon_g,
    dimming_savings_wh,
    footprint,
    leak_savings_m3,
)
from vigie.sobriety.factors import SOURCES, FootprintFactors


def test_footprint_of_a_day_by_hand():
    f = FootprintFactors()  # Pi 4: 1.6 W idle, 5.0 W loaded, busy 5 %; cellular 1.52 J/msg
    fp = footprint(devices=100, messages=288_000, cpu_s=7_200, factors=f)
    # boards: 100 x (1.6 + 0.05 x 3.4) W = 177 W, over 24 h = 4248 Wh
    assert fp.edge_wh == pytest.approx(4248.0)
    # network: 288,000 messages x 1.52 J = 437,760 J = 121.6 Wh
    assert fp.network_wh == pytest.approx(121.6)
    # servers: 7,200 CPU s x 15 W = 108,000 J = 30 Wh
    assert fp.servers_wh == pytest.approx(30.0)
    assert fp.total_wh == pytest.approx(4399.6)
    assert carbon_g(fp.total_wh, f) == pytest.approx(4.3996 * 64)


def test_link_and_board_factors_are_settings():
    lora = FootprintFactors(link="lora", board_busy_share=0.0)
    fp = footprint(devices=10, messages=36_000, cpu_s=0, factors=lora, hours=1)
    assert fp.edge_wh == pytest.approx(16.0)  # 10 boards x 1.6 W x 1 h
    assert fp.network_wh == pytest.approx(0.11)  # 36,000 x 0.011 J / 3600
    assert footprint(1, 10**6, 0, FootprintFactors(link="wired")).network_wh == 0.0


def test_savings_by_hand():
    # 200 lamps of 50 W burning 12 h at full power: 120 kWh; they drew 75 kWh
    assert dimming_savings_wh(120_000.0, 75_000.0) == 45_000.0
    assert dimming_savings_wh(10.0, 12.0) == 0.0  # never negative
    f = FootprintFactors(leak_baseline_days=30)
    # 2 m3/h found after 12 h instead of 30 days: 2 x (720 - 12) = 1416 m3
    assert leak_savings_m3(2.0, 12.0, f) == pytest.approx(1416.0)
    assert leak_savings_m3(2.0, 800.0, f) == 0.0


def test_every_factor_has_a_source_and_the_day_writes_its_points():
    rows = FootprintFactors().table()
    assert {r[0] for r in rows} == set(SOURCES)
    assert all(source for _, _, source in rows)
    day = DayBalance("t1", 0, 2, 10, 1.0, footprint(2, 10, 1.0, FootprintFactors()))
    day.savings_wh = {"lighting": 500.0, "water": 0.0}
    lines = day.lines()
    assert sum(line.startswith("footprint,") for line in lines) == 3
    assert any(line.startswith("savings,territory=t1,vertical=lighting wh=500.0") for line in lines)
    assert day.net_wh == pytest.approx(500.0 - day.footprint.total_wh)
