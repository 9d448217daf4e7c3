"""Which factors move the balance most: each one set to the ends of its range, the others
left at their middle, and the swing of the net balance (g CO2 eq per day) it causes (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reports.sobriety.classes import ClassTable, DeviceClass, Span, load_classes


@dataclass(frozen=True)
class Day:
    """What a day's balance is made of, before any factor is applied."""

    counts: dict[str, int]  # units per device class (LoRaWAN gateways included)
    network_wh: float
    servers_wh: float
    server_gco2e: float
    savings_wh: float


@dataclass(frozen=True)
class Knobs:
    """Every factor at one value (the middle of its range, or one end)."""

    use_w: dict[str, float]
    gwp_kg: dict[str, float]
    life_years: dict[str, float]
    grid: float


def middle(table: ClassTable, grid: Span) -> Knobs:
    """Every factor at the middle of its range."""
    names = list(table.classes)
    return Knobs(
        {n: sum(table.classes[n].use_w) / 2 for n in names},
        {n: table.embodied(n)[0].mid for n in names},
        {n: sum(table.classes[n].life_years) / 2 for n in names},
        grid.mid,
    )


def net_gco2e(day: Day, k: Knobs) -> float:
    """The day's savings minus its footprint, in g CO2 eq, at these factor values."""
    use_wh = day.network_wh + day.servers_wh
    made = day.server_gco2e
    for name, n in day.counts.items():
        cls = "edge_gateway" if name == "lorawan_gateway" else name
        use_wh += n * k.use_w[cls] * 24
        made += n * k.gwp_kg[cls] * 1000 / (k.life_years[cls] * 365.25)
    return (day.savings_wh - use_wh) * k.grid / 1000 - made


def one(values: dict[str, float], key: str, value: float) -> dict[str, float]:
    """``values`` with one of them changed."""
    return {**values, key: value}


def sensitivity(day: Day, grid: Span, table: ClassTable | None = None) -> list[tuple[str, float]]:
    """(factor, swing in g CO2 eq per day), largest first."""
    table = table or load_classes()
    mid = middle(table, grid)
    swings = []

    def swing(name: str, low: Knobs, high: Knobs) -> None:
        swings.append((name, abs(net_gco2e(day, high) - net_gco2e(day, low))))

    used = {"edge_gateway" if n == "lorawan_gateway" else n for n in day.counts}
    for cls in sorted(used):
        c: DeviceClass = table.classes[cls]
        gwp = table.embodied(cls)[0]
        swing(
            f"{cls}.use_w",
            replace(mid, use_w=one(mid.use_w, cls, c.use_w[0])),
            replace(mid, use_w=one(mid.use_w, cls, c.use_w[1])),
        )
        swing(
            f"{cls}.manufacturing",
            replace(mid, gwp_kg=one(mid.gwp_kg, cls, gwp.low)),
            replace(mid, gwp_kg=one(mid.gwp_kg, cls, gwp.high)),
        )
        swing(
            f"{cls}.life_years",
            replace(mid, life_years=one(mid.life_years, cls, c.life_years[0])),
            replace(mid, life_years=one(mid.life_years, cls, c.life_years[1])),
        )
    swing("grid_gco2e_per_kwh", replace(mid, grid=grid.low), replace(mid, grid=grid.high))
    return sorted((s for s in swings if s[1] > 0), key=lambda s: -s[1])
