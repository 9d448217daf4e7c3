"""A simulated territory's day, balanced without servers: its fleet by device class, the
messages and readings it sends (from the simulator), the platform's CPU for them (a measured
factor), and the lighting energy its dimming and switch-off save (the simulator's ground
truth: the same burning hours at nominal power, minus what the lamps drew).

Water and waste savings need the platform to find leaks and skip stops, so an estimate leaves
them out: its net balance is a floor.
"""

from __future__ import annotations

from collections.abc import Callable

from reports.footprint import DayBalance
from reports.sobriety.balance import footprint
from reports.sobriety.classes import Span, fleet, fleet_day, server_share
from reports.sobriety.sensitivity import Day
from simulators.simulation import Simulation, SimulationPlan
from vigie.contracts import Territory
from vigie.sobriety.factors import FootprintFactors

DAY_S = 86_400


def estimate(
    territory: Territory,
    day_ms: int,
    factors: FootprintFactors,
    seed: int = 1,
    hours: float = 24.0,
    progress: Callable[[float], None] | None = None,
) -> tuple[DayBalance, Day]:
    """The balance of ``hours`` from ``day_ms`` (a local midnight, for a whole day) of a
    territory (``simulators.territory.generate``), and what the sensitivity analysis needs."""
    sim = Simulation(territory, SimulationPlan(day_ms, hours * 3600, seed=seed))
    messages = readings = 0
    span_ms = hours * 3_600_000
    for n, emitted in enumerate(sim):
        messages += 1
        readings += len(emitted.batch.readings)
        if progress is not None and n % 20_000 == 0:
            progress(min(1.0, (emitted.batch.sent_at_ms - day_ms) / span_ms))
    truth = sim.finished_truth()
    saved_wh = max(0.0, sum(truth.lamp_full_power_wh.values()) - sum(truth.lamp_wh.values()))
    cpu_s = readings / 1000 * factors.platform_cpu_s_per_1000_readings
    counts = fleet(territory.assets, factors.devices_per_gateway)
    result = DayBalance(
        territory.id,
        day_ms,
        len(territory.assets),
        messages,
        cpu_s,
        footprint(len(territory.assets), messages, cpu_s, factors, hours),
        savings_wh={"lighting": saved_wh},
        fleet=fleet_day(counts, hours),
        server=server_share(cpu_s, hours),
        grid=Span(factors.grid_gco2e_per_kwh_low, factors.grid_gco2e_per_kwh_high),
    )
    day = Day(
        dict(counts),
        result.footprint.network_wh,
        result.footprint.servers_wh,
        result.server.gco2e.mid,
        saved_wh,
    )
    return result, day
