"""Footprint and savings arithmetic against cases computed by hand."""

from __future__ import annotations

import pytest

from reports.footprint import DayBalance
from reports.sobriety.balance import (
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
    # edge, network, servers (each in Wh and g CO2e) and manufacturing (g CO2e, g Sb eq)
    assert sum(line.startswith("footprint,") for line in lines) == 4
    assert any(line.startswith("savings,territory=t1,vertical=lighting wh=500.0") for line in lines)
    assert day.net_wh == pytest.approx(500.0 - day.footprint.total_wh)


# -- device classes, manufacturing, the balance in CO2e and its range ---------------------


def test_each_class_by_hand():
    """Blocks summed by hand from the Boavizta factors (manufacturing + end of life), the
    high end twice the low one (Pirson and Bol's truncation), spread over the service life."""
    from reports.sobriety.classes import load_classes

    t = load_classes()
    # battery node: casing-1 0.431 + 0.0912, pcb-1 0.328 + 0.0178, processing-1 1.73 +
    # 0.000044, connectivity-1 0.258 + 0.000011, sensing-2 0.046 + 0.0000033,
    # power supply-1 0.104 + 0.0181 = 3.0241583 kg CO2e
    gwp, adpe = t.embodied("battery_node")
    assert (gwp.low, gwp.high) == pytest.approx((3.0241583, 6.0483166))
    assert adpe.low == pytest.approx(9.84e-7 + 1.760629e-5 + 4.79155e-8 + 7.13388e-9
                                     + 1.28116e-9 + 1.0803530e-5)  # fmt: skip
    day = t.per_day("battery_node")
    # 3.0241583 kg over 10 years, 6.0483166 kg over 5 years; 8.5 Ah x 3.6 V over 5 years
    assert day.gco2e.low == pytest.approx(3024.1583 / (10 * 365.25))
    assert day.gco2e.high == pytest.approx(6048.3166 / (5 * 365.25))
    assert day.use_wh.low == pytest.approx(0.0007 * 24)
    # a Pi-class board: the second level of six blocks = 17.2718718 kg CO2e
    assert t.embodied("edge_gateway")[0].low == pytest.approx(
        4.179 + 0.646 + 3.5300768 + 3.220095 + 1.011 + 4.6857
    )
    assert t.per_day("edge_gateway").use_wh.low == pytest.approx(1.6 * 24)
    # a server, whole (ADEME Base Impacts): 3,660 kg over 4 to 6 years
    server = t.per_day("server")
    assert (server.gco2e.low, server.gco2e.high) == pytest.approx(
        (3_660_000 / (6 * 365.25), 3_660_000 / (4 * 365.25))
    )
    for name, cls in t.classes.items():
        assert cls.use_source and cls.life_source and cls.blocks_source, name


def test_a_fleet_counts_its_gateways_and_each_asset_its_equipment():
    from reports.sobriety.classes import fleet, fleet_day, load_classes
    from vigie.contracts import Asset

    def asset(i: int, kind: str, **extra: object) -> Asset:
        return Asset.model_validate(
            {"id": f"a{i}", "kind": kind, "district": "d", "lat": 0, "lon": 0, **extra}
        )

    assets = [
        asset(1, "lamp", nominal_power_w=50, cabinet_id="a3"),
        asset(2, "lamp", nominal_power_w=50, cabinet_id="a3"),
        asset(3, "lighting_cabinet"),
        asset(4, "bin", capacity_l=660),
        asset(5, "bin", capacity_l=660),
        asset(6, "bin", capacity_l=660, equipment=["edge_gateway"]),  # a Pi in this one
        asset(7, "traffic_counter"),
    ]
    counts = fleet(assets, devices_per_gateway=2)
    # 2 lamp controllers and 2 battery nodes talk LoRaWAN: 2 gateways of 2 devices
    assert counts == {
        "lamp_controller": 2,
        "cabinet_meter": 1,
        "edge_gateway": 3,
        "battery_node": 2,
        "lorawan_gateway": 2,
    }
    day = fleet_day(counts)
    t = load_classes()
    boards = 5 * t.per_day("edge_gateway").gco2e.low  # 3 boards and 2 gateways
    assert day.per_class["edge_gateway"].gco2e.low + day.per_class[
        "lorawan_gateway"
    ].gco2e.low == pytest.approx(boards)
    assert fleet_day(counts, hours=12).use_wh.high == pytest.approx(day.use_wh.high / 2)


def test_the_balance_in_co2e_pairs_the_ends_of_its_ranges():
    from reports.sobriety.classes import ClassDay, FleetDay, Span

    fleet_day = FleetDay(
        {"battery_node": ClassDay(Span(100.0, 300.0), Span(1000.0, 4000.0), Span(0.1, 0.2))},
        {"battery_node": 10},
    )
    day = DayBalance(
        "t1", 0, 10, 0, 0.0, footprint(10, 0, 0.0, FootprintFactors()),
        savings_wh={"lighting": 100_000.0}, fleet=fleet_day,
        server=ClassDay(Span(0, 0), Span(10.0, 20.0), Span(0.0, 0.0)), grid=Span(55.0, 73.0),
    )  # fmt: skip
    # use: 100-300 Wh at 55-73 g/kWh = 5.5-21.9 g; manufacturing 1010-4020 g
    assert (day.use_gco2e.low, day.use_gco2e.high) == pytest.approx((5.5, 21.9))
    assert (day.manufacturing_gco2e.low, day.manufacturing_gco2e.high) == (1010.0, 4020.0)
    # savings 100 kWh: 5500-7300 g; net low = 5500 - 21.9 - 4020, high = 7300 - 5.5 - 1010
    assert day.net_gco2e.low == pytest.approx(5500 - 21.9 - 4020)
    assert day.net_gco2e.high == pytest.approx(7300 - 5.5 - 1010)
    balance = next(line for line in day.lines() if line.startswith("balance,"))
    assert f"net_gco2e_low={day.net_gco2e.low!r}" in balance
    made = next(line for line in day.lines() if "part=manufacturing" in line)
    assert "gco2e=2515.0" in made and "gsb=0.15" in made


def test_the_factors_that_move_the_balance_most():
    from reports.sobriety.classes import Span, load_classes
    from reports.sobriety.sensitivity import Day, middle, net_gco2e, sensitivity

    day = Day({"lamp_controller": 1000, "battery_node": 100}, 10.0, 5.0, 0.0, 200_000.0)
    rows = sensitivity(day, Span(55.0, 73.0))
    names = [name for name, _ in rows]
    assert set(names[:3]) == {
        "grid_gco2e_per_kwh",
        "lamp_controller.manufacturing",
        "lamp_controller.use_w",
    }
    t = load_classes()
    mid = middle(t, Span(55.0, 73.0))
    use_wh = 10 + 5 + 1000 * 0.65 * 24 + 100 * 0.0007 * 24
    # the grid's swing by hand: (savings - use) x (73 - 55) / 1000
    assert dict(rows)["grid_gco2e_per_kwh"] == pytest.approx((200_000 - use_wh) * 18 / 1000)
    # lamp controllers' power, 0.3 to 1.0 W: 1000 x 0.7 W x 24 h at 64 g/kWh
    assert dict(rows)["lamp_controller.use_w"] == pytest.approx(1000 * 0.7 * 24 * 64 / 1000)
    assert net_gco2e(day, mid) == pytest.approx(
        (200_000 - use_wh) * 64 / 1000
        - 1000 * t.embodied("lamp_controller")[0].mid * 1000 / (12.5 * 365.25)
        - 100 * t.embodied("battery_node")[0].mid * 1000 / (7.5 * 365.25)
    )


def test_a_simulated_whole_day_saves_what_the_simulator_says():
    """The estimate's lighting savings are the simulator's ground truth of the same day,
    and its fleet is the registry's."""
    from reports.sobriety.classes import fleet
    from shell.estimate import estimate
    from simulators.simulation import Simulation, SimulationPlan
    from simulators.territory import generate
    from vigie.localtime import LocalClock

    territory = generate(300, seed=4)
    start = LocalClock("Europe/Paris").midnight(__import__("datetime").date(2026, 6, 21))
    balance, day = estimate(territory, start, FootprintFactors(), seed=4, hours=24)
    sim = Simulation(territory, SimulationPlan(start, 24 * 3600, seed=4))
    sent = sum(1 for _ in sim)
    truth = sim.finished_truth()
    saved = sum(truth.lamp_full_power_wh.values()) - sum(truth.lamp_wh.values())
    assert balance.savings_wh["lighting"] == pytest.approx(saved) and saved > 0
    assert balance.messages == sent
    assert day.counts == dict(fleet(territory.assets, 500))
    assert balance.net_gco2e.low < balance.net_gco2e.mid < balance.net_gco2e.high
