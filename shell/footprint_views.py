"""Tables of the footprint commands: a fleet by device class, a balance with its range, the
factors that move it most."""

from __future__ import annotations

from rich.table import Table

from reports.footprint import DayBalance
from reports.sobriety.classes import Span, load_classes


def span(s: Span, scale: float = 1.0, digits: int = 1) -> str:
    """``mid (low-high)`` in the given scale."""
    lo, mid, hi = s.low * scale, s.mid * scale, s.high * scale
    return f"{mid:,.{digits}f} ({lo:,.{digits}f}-{hi:,.{digits}f})"


def fleet_table(balance: DayBalance) -> Table:
    """Units, energy in use and manufacturing share per device class, for the day."""
    table = Table(
        "device class",
        "units",
        "use, kWh/day",
        "manufacturing, kg CO2e/day",
        "resources, g Sb eq/day",
        title="The fleet by device class (middle, and range)",
    )
    classes = load_classes().classes
    if balance.fleet is not None:
        for name, day in sorted(balance.fleet.per_class.items()):
            label = "LoRaWAN gateway (Pi-class board)" if name == "lorawan_gateway" else name
            table.add_row(
                label,
                f"{balance.fleet.counts[name]:,}",
                span(day.use_wh, 1e-3, 2),
                span(day.gco2e, 1e-3, 2),
                span(day.gsb, 1.0, 4),
            )
    table.add_row(
        "server share",
        f"{balance.cpu_s:,.0f} CPU s",
        f"{balance.footprint.servers_wh / 1000:,.3f}",
        span(balance.server.gco2e, 1e-3, 3),
        span(balance.server.gsb, 1.0, 4),
    )
    table.caption = "; ".join(f"{n}: {c.label}" for n, c in classes.items() if n != "server")
    return table


def balance_table(balance: DayBalance) -> Table:
    """Use, manufacturing, savings and the net balance in kg CO2 eq, with their ranges."""
    table = Table("part", "kg CO2e per day", "also", title="The balance (middle, and range)")
    table.add_row(
        "use: devices, network, servers",
        span(balance.use_gco2e, 1e-3),
        f"{balance.use_wh.mid / 1000:,.1f} kWh",
    )
    table.add_row(
        "manufacturing, spread over service lives",
        span(balance.manufacturing_gco2e, 1e-3),
        f"{balance.manufacturing_gsb.mid:,.3f} g Sb eq (abiotic resources)",
    )
    table.add_row(
        "savings enabled",
        span(balance.savings_gco2e, 1e-3),
        ", ".join(f"{v}: {wh / 1000:,.1f} kWh" for v, wh in sorted(balance.savings_wh.items())),
    )
    table.add_row("net (savings - use - manufacturing)", span(balance.net_gco2e, 1e-3), "")
    return table


def sensitivity_table(rows: list[tuple[str, float]], top: int = 3) -> Table:
    """The factors by the swing of the net balance they cause across their range."""
    table = Table(
        "rank", "factor", "net balance swing, kg CO2e/day", title="What moves the balance most"
    )
    for i, (name, swing) in enumerate(rows, 1):
        rank = f"[bold]{i}[/]" if i <= top else str(i)
        table.add_row(rank, name, f"{swing / 1000:,.2f}")
    return table
