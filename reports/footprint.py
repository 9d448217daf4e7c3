"""One day's balance from what InfluxDB holds: the platform's footprint against its savings.

With the territory's registry, the devices are counted by class (``reports.sobriety.classes``):
their use and their manufacturing spread over their service life, each a range; the balance
is then also given in grams of CO2 equivalent (use at the grid's intensity, manufacturing,
savings), with its low and high ends, and in grams of antimony equivalent (the abiotic
resources the fleet's manufacturing uses up). Without a registry, every device is counted as
an edge board, as before.

Reads the platform's own measurements (``platform``, ``fleet``) and the stream processors'
results (``energy_attribution``, ``alerts``, ``water_night``, ``waste_fill``); writes
``footprint``, ``savings`` and ``balance`` points at the day's start, so the hypervisor and the
bulletin show them. Running it twice for a day writes the same points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.sobriety.balance import Footprint, dimming_savings_wh, footprint, leak_savings_m3
from reports.sobriety.classes import ZERO, ClassDay, FleetDay, Span, fleet, fleet_day, server_share
from vigie import influxql
from vigie.contracts import Asset
from vigie.contracts.storage import LONG_RP, at
from vigie.contracts.storage import Measurement as M
from vigie.points import Point
from vigie.sections import InfluxSettings
from vigie.sobriety.factors import FootprintFactors

DAY_MS = 86_400_000
FULL_BIN_PCT = 80.0
NO_SERVER = ClassDay(ZERO, ZERO, ZERO)
CENTRAL_GRID = Span(64.0, 64.0)
FIXED_ROUND_DAYS = 2.0  # unsourced: a fixed round visits each bin every two days


@dataclass
class DayBalance:
    territory: str
    day_ms: int
    devices: int
    messages: int
    cpu_s: float
    footprint: Footprint
    savings_wh: dict[str, float] = field(default_factory=dict)  # per vertical
    water_saved_m3: float = 0.0
    pickups_avoided: float = 0.0
    fleet: FleetDay | None = None  # the devices by class (a registry was given)
    server: ClassDay = NO_SERVER  # the platform's share of its server
    grid: Span = CENTRAL_GRID  # g CO2 eq per kWh

    @property
    def net_wh(self) -> float:
        """Savings minus the energy in use (its middle, by class when a registry was given)."""
        return sum(self.savings_wh.values()) - self.use_wh.mid

    @property
    def use_wh(self) -> Span:
        """Energy in use: the devices (a range by class), the network and the servers."""
        f = self.footprint
        edge = self.fleet.use_wh if self.fleet is not None else Span(f.edge_wh, f.edge_wh)
        return edge + Span(f.network_wh + f.servers_wh, f.network_wh + f.servers_wh)

    @property
    def use_gco2e(self) -> Span:
        use = self.use_wh
        return Span(use.low * self.grid.low / 1000, use.high * self.grid.high / 1000)

    @property
    def manufacturing_gco2e(self) -> Span:
        fleet_g = self.fleet.gco2e if self.fleet is not None else ZERO
        return fleet_g + self.server.gco2e

    @property
    def manufacturing_gsb(self) -> Span:
        fleet_sb = self.fleet.gsb if self.fleet is not None else ZERO
        return fleet_sb + self.server.gsb

    @property
    def savings_gco2e(self) -> Span:
        wh = sum(self.savings_wh.values())
        return Span(wh * self.grid.low / 1000, wh * self.grid.high / 1000)

    @property
    def net_gco2e(self) -> Span:
        """Savings minus footprint (use and manufacturing); the low end pairs the smallest
        savings with the largest footprint."""
        cost = self.use_gco2e + self.manufacturing_gco2e
        saved = self.savings_gco2e
        return Span(saved.low - cost.high, saved.high - cost.low)

    def lines(self) -> list[str]:
        t, at, f = {"territory": self.territory}, self.day_ms, self.footprint
        g = self.grid.mid / 1000
        edge = self.fleet.use_wh.mid if self.fleet is not None else f.edge_wh
        made, sb = self.manufacturing_gco2e, self.manufacturing_gsb
        points = [
            Point("footprint", t | {"part": part}, {"wh": wh, "gco2e": wh * g}, at)
            for part, wh in (("edge", edge), ("network", f.network_wh), ("servers", f.servers_wh))
        ]
        points.append(
            Point(
                "footprint",
                t | {"part": "manufacturing"},
                {"gco2e": made.mid, "gco2e_low": made.low, "gco2e_high": made.high, "gsb": sb.mid},
                at,
            )
        )
        points += [
            Point("savings", t | {"vertical": v}, {"wh": wh}, at)
            for v, wh in sorted(self.savings_wh.items())
        ]
        points.append(
            Point(
                "balance",
                t,
                {
                    "footprint_wh": self.use_wh.mid,
                    "savings_wh": sum(self.savings_wh.values()),
                    "net_wh": self.net_wh,
                    "cpu_s": self.cpu_s,
                    "water_saved_m3": self.water_saved_m3,
                    "pickups_avoided": self.pickups_avoided,
                    "use_gco2e": self.use_gco2e.mid,
                    "manufacturing_gco2e": made.mid,
                    "manufacturing_gsb": sb.mid,
                    "savings_gco2e": self.savings_gco2e.mid,
                    "net_gco2e": self.net_gco2e.mid,
                    "net_gco2e_low": self.net_gco2e.low,
                    "net_gco2e_high": self.net_gco2e.high,
                },
                at,
                ints={"devices": self.devices, "messages": self.messages},
            )
        )
        return [p.line() for p in points]


def _rows(influx: InfluxSettings, q: str) -> list[dict[str, Any]]:
    return influxql.query(influx, q)


def _sum(influx: InfluxSettings, q: str) -> float:
    return float(influxql.scalar(influx, q) or 0.0)


def compute(
    influx: InfluxSettings,
    territory: str,
    day_ms: int,
    factors: FootprintFactors,
    day_end_ms: int | None = None,
    assets: Sequence[Asset] | None = None,
) -> DayBalance:
    """The balance of the day from ``day_ms`` to ``day_end_ms``: the territory's local
    midnights (``vigie.localtime``; a day of 23 or 25 hours on the changes), or 24 hours.
    ``assets``: the territory's registry, to count its devices by class."""
    end = day_ms + DAY_MS if day_end_ms is None else day_end_ms
    hours = (end - day_ms) / 3_600_000
    span = f"\"territory\" = '{territory}' AND time >= {day_ms}ms AND time < {end}ms"
    devices = len(
        _rows(influx, f'SELECT last("last_seq") FROM {at(M.FLEET)} WHERE {span} GROUP BY "device"')
    )
    messages = int(
        _sum(
            influx,
            f'SELECT sum("messages_in") FROM {at(M.PLATFORM)} WHERE {span} AND '
            "\"component\" = 'ingest' AND \"vertical\" = ''",
        )
    )
    cpu_s = _sum(
        influx, f'SELECT sum("cpu_s") FROM {at(M.PLATFORM)} WHERE {span} AND "vertical" = \'\''
    )
    result = DayBalance(
        territory,
        day_ms,
        devices,
        messages,
        cpu_s,
        footprint(devices, messages, cpu_s, factors, hours),
        grid=Span(factors.grid_gco2e_per_kwh_low, factors.grid_gco2e_per_kwh_high),
    )
    if assets is not None:
        result.fleet = fleet_day(fleet(assets, factors.devices_per_gateway), hours)
        result.server = server_share(cpu_s, hours)
    lighting = _rows(
        influx,
        f'SELECT sum("full_power_wh") AS "full", sum("lamps_wh") AS "lamps" FROM '
        f"{at(M.ATTRIBUTION)} WHERE {span}",
    )
    if lighting:
        result.savings_wh["lighting"] = dimming_savings_wh(
            lighting[0]["full"] or 0.0, lighting[0]["lamps"] or 0.0
        )
    result.water_saved_m3 = _water_saved_m3(influx, territory, span, factors)
    result.savings_wh["water"] = result.water_saved_m3 * factors.water_wh_per_m3
    result.pickups_avoided = _pickups_avoided(influx, span)
    result.savings_wh["waste"] = result.pickups_avoided * factors.pickup_wh
    return result


def _water_saved_m3(
    influx: InfluxSettings, territory: str, span: str, factors: FootprintFactors
) -> float:
    """Each leak raised that day: its excess night flow over the time sensors saved. The leak
    began after the last clean night (it is flagged on the first night it shows), so it had run
    half a day on average when found."""
    leaks = _rows(
        influx,
        f'SELECT "open", "device" FROM {at(M.ALERTS)} WHERE {span} AND '
        '"kind" = \'suspected_leak\' AND "open" = 1',
    )
    saved = 0.0
    for leak in leaks:
        night = _rows(
            influx,
            f'SELECT "min_flow_m3h", "baseline_m3h" FROM {at(M.NIGHT)} WHERE '
            f"\"territory\" = '{territory}' AND \"device\" = '{leak['device']}' AND "
            f"time = {leak['time']}ms",
        )
        if night and night[0]["baseline_m3h"] >= 0:
            excess = night[0]["min_flow_m3h"] - night[0]["baseline_m3h"]
            saved += leak_savings_m3(excess, 12.0, factors)
    return saved


def _pickups_avoided(influx: InfluxSettings, span: str) -> float:
    """Bin stops a fixed round would have made, minus the bins that were nearly full."""
    bins = _rows(
        influx,
        f'SELECT max("fill_pct") AS "fill" FROM {at(M.WASTE)} WHERE {span} GROUP BY "device"',
    )
    needed = sum(1 for b in bins if (b["fill"] or 0) >= FULL_BIN_PCT)
    return max(0.0, len(bins) / FIXED_ROUND_DAYS - needed)


def write(influx: InfluxSettings, balance: DayBalance) -> None:
    """Store the day's points (the writer's credential; same points on a second run)."""
    influxql.write_lines(influx, balance.lines(), LONG_RP, attempts=5)
