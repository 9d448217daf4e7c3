"""Footprint and savings arithmetic. Pure: figures in, watt-hours out.

Footprint per day:
- edge boards: each board's mean power (idle, plus the busy share at full load) over 24 h;
- network: the messages the devices sent, times the energy of one message on their link;
- servers: the CPU seconds the platform's processes used, times a power per busy core.

Savings per day:
- lighting: the lamps' energy at full power over their burning hours, minus the energy they
  drew (dimming, part-night switch-off, failed lamps not burning);
- water: the excess night flow of each leak found, over the days between its detection and
  the assumed detection without sensors;
- waste: the bin stops a fixed round would have made that fill-level routing skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie.sobriety.factors import FootprintFactors


@dataclass(frozen=True)
class Footprint:
    edge_wh: float
    network_wh: float
    servers_wh: float

    @property
    def total_wh(self) -> float:
        return self.edge_wh + self.network_wh + self.servers_wh


def footprint(
    devices: int, messages: int, cpu_s: float, factors: FootprintFactors, hours: float = 24.0
) -> Footprint:
    """The platform's energy over ``hours`` for this many boards, messages and CPU seconds."""
    f = factors
    board_w = f.board_idle_w + f.board_busy_share * (f.board_load_w - f.board_idle_w)
    return Footprint(
        edge_wh=devices * board_w * hours,
        network_wh=messages * f.link_j_per_message[f.link] / 3600.0,
        servers_wh=cpu_s * f.server_w_per_busy_core / 3600.0,
    )


def dimming_savings_wh(full_power_wh: float, lamps_wh: float) -> float:
    """Lighting energy avoided against full power over the same burning hours."""
    return max(0.0, full_power_wh - lamps_wh)


def leak_savings_m3(excess_m3h: float, detected_after_h: float, factors: FootprintFactors) -> float:
    """Water not lost because a leak was found ``detected_after_h`` after it began rather than
    after the baseline delay."""
    saved_h = max(0.0, factors.leak_baseline_days * 24.0 - detected_after_h)
    return max(0.0, excess_m3h) * saved_h


def carbon_g(wh: float, factors: FootprintFactors) -> float:
    """Grams of CO2 equivalent of an energy, at the grid's carbon intensity."""
    return wh / 1000.0 * factors.grid_gco2e_per_kwh
