"""Vigie's dashboards: the hypervisor for elected officials, one per vertical for technical
services, energy attribution, the edge fleet and data quality."""

from __future__ import annotations

from dashboards.spec import Dashboard, Panel, Viz

T = "\"territory\" = '$territory' AND $timeFilter"
LONG = '"long"'

HYPERVISOR = Dashboard(
    "vigie-hypervisor",
    "Vigie - Hypervisor",
    (
        Panel(
            "Public lighting energy (kWh per hour)",
            f'SELECT sum("metered") / 1000 FROM {LONG}."energy_balance" WHERE {T} AND '
            "\"vertical\" = 'lighting' GROUP BY time(1h) fill(none)",
            "kwatth",
        ),
        Panel(
            "Water distributed (m3 per hour)",
            f'SELECT sum("metered") FROM {LONG}."energy_balance" WHERE {T} AND '
            "\"vertical\" = 'water' GROUP BY time(1h) fill(none)",
            "m3",
        ),
        Panel(
            "Open alerts by kind",
            f'SELECT sum("open") FROM (SELECT last("open") AS "open" FROM {LONG}."alerts" '
            f'WHERE {T} GROUP BY "kind", "device") GROUP BY "kind"',
            viz=Viz.BARGAUGE,
            thresholds=((0, "green"), (1, "red")),
        ),
        Panel(
            "Mean bin filling level (%)",
            f'SELECT mean("last") FROM {LONG}."agg_1m" WHERE {T} AND "metric" = \'fill_pct\' '
            "GROUP BY time($__interval) fill(none)",
            "percent",
            thresholds=((0, "green"), (60, "orange"), (80, "red")),
        ),
        Panel(
            "Road traffic (veh/h, mean of counters)",
            f'SELECT mean("mean") FROM {LONG}."agg_1m" WHERE {T} AND '
            "\"metric\" = 'traffic_flow_vehh' GROUP BY time($__interval) fill(none)",
        ),
    ),
    audience="elected officials",
    tags=("hypervisor",),
)

LIGHTING = Dashboard(
    "vigie-lighting",
    "Vigie - Public lighting",
    (
        Panel(
            "Burning hours per district",
            f'SELECT sum("burning_h") FROM {LONG}."energy_attribution" WHERE {T} '
            'GROUP BY time(1h), "district" fill(none)',
            "h",
        ),
        Panel(
            "Dimming savings (kWh): full power minus attributed",
            f'SELECT (sum("full_power_wh") - sum("attributed_wh")) / 1000 FROM '
            f'{LONG}."energy_attribution" WHERE {T} GROUP BY time(1h) fill(none)',
            "kwatth",
        ),
        Panel(
            "Cabinet power (W)",
            f'SELECT mean("mean") FROM {LONG}."agg_1m" WHERE {T} AND '
            '"metric" = \'cabinet_power_w\' GROUP BY time($__interval), "device" fill(none)',
            "watt",
        ),
    ),
    tags=("lighting",),
)

ENERGY = Dashboard(
    "vigie-energy",
    "Vigie - Energy attribution",
    (
        Panel(
            "Attributed energy per district (kWh)",
            f'SELECT sum("attributed_wh") / 1000 FROM {LONG}."energy_attribution" WHERE {T} '
            'GROUP BY time(1h), "district" fill(none)',
            "kwatth",
        ),
        Panel(
            "Unexplained energy per cabinet (Wh)",
            f'SELECT sum("unexplained") FROM {LONG}."energy_balance" WHERE {T} AND '
            '"vertical" = \'lighting\' GROUP BY time(1h), "device" fill(none)',
            "watth",
        ),
        Panel(
            "Meter / model ratio",
            f'SELECT mean("ratio") FROM {LONG}."energy_balance" WHERE {T} AND "ratio" > 0 '
            'GROUP BY time(1h), "device" fill(none)',
            thresholds=((0, "green"), (1.08, "red")),
        ),
    ),
    tags=("energy",),
)

WATER = Dashboard(
    "vigie-water",
    "Vigie - Water",
    (
        Panel(
            "Night minimum flow per metered area (m3/h)",
            f'SELECT last("min_flow_m3h") FROM {LONG}."water_night" WHERE {T} '
            'GROUP BY time(1d), "dma" fill(none)',
            "m3",
        ),
        Panel(
            "Leak index (night minimum / usual)",
            f'SELECT last("leak_index") FROM {LONG}."water_night" WHERE {T} AND '
            '"leak_index" > 0 GROUP BY time(1d), "dma" fill(none)',
            thresholds=((0, "green"), (1.25, "red")),
        ),
        Panel(
            "Network pressure (bar)",
            f'SELECT mean("mean") FROM {LONG}."agg_1m" WHERE {T} AND "metric" = '
            "'pressure_bar' GROUP BY time($__interval), \"device\" fill(none)",
            "pressurebar",
        ),
    ),
    tags=("water",),
)

WASTE = Dashboard(
    "vigie-waste",
    "Vigie - Waste",
    (
        Panel(
            "Bins by filling level",
            f'SELECT last("fill_pct") FROM {LONG}."waste_fill" WHERE {T} GROUP BY "device"',
            "percent",
            Viz.TABLE,
        ),
        Panel(
            "Hours to full (next to fill)",
            f'SELECT last("hours_to_full") FROM '
            f'{LONG}."waste_fill" WHERE {T} AND "hours_to_full" >= 0 GROUP BY "device"',
            "h",
            Viz.TABLE,
        ),
    ),
    tags=("waste",),
)

MOBILITY = Dashboard(
    "vigie-mobility",
    "Vigie - Mobility",
    (
        Panel(
            "Flow per counter (veh/h)",
            f'SELECT mean("mean") FROM {LONG}."agg_1m" WHERE {T} AND '
            '"metric" = \'traffic_flow_vehh\' GROUP BY time($__interval), "device" fill(none)',
        ),
        Panel(
            "Mean speed (km/h)",
            f'SELECT mean("mean") FROM {LONG}."agg_1m" WHERE {T} AND "metric" = \'speed_kmh\' '
            "GROUP BY time($__interval) fill(none)",
            "velocitykmh",
        ),
        Panel(
            "Traffic state (0 fluid .. 3 blocked)",
            f'SELECT max("state") FROM {LONG}."road_state" WHERE {T} '
            'GROUP BY time($__interval), "device" fill(none)',
            thresholds=((0, "green"), (1, "yellow"), (2, "orange"), (3, "red")),
        ),
    ),
    tags=("mobility",),
)

FLEET = Dashboard(
    "vigie-fleet",
    "Vigie - Edge fleet",
    (
        Panel(
            "Devices reporting",
            f'SELECT count(distinct("last_seq")) FROM (SELECT '
            f'last("last_seq") AS "last_seq" FROM {LONG}."fleet" WHERE {T} GROUP BY "device")',
            viz=Viz.STAT,
        ),
        Panel(
            "Missing sequence numbers per device",
            f'SELECT last("missing_seq") FROM {LONG}."fleet" WHERE {T} GROUP BY "device"',
            viz=Viz.TABLE,
        ),
        Panel(
            "Worker lag reading -> storage (ms, p99)",
            f'SELECT max("lag_p99_ms") FROM {LONG}."platform" WHERE {T} '
            "GROUP BY time($__interval) fill(none)",
            "ms",
        ),
    ),
    audience="edge engineers",
    tags=("fleet",),
)

ALL: tuple[Dashboard, ...] = (HYPERVISOR, LIGHTING, ENERGY, WATER, WASTE, MOBILITY, FLEET)
