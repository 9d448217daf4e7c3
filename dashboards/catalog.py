"""Vigie's dashboards: the hypervisor for elected officials, one per vertical for technical
services, energy attribution, the edge fleet, data quality and the platform's own footprint."""

from __future__ import annotations

from dashboards.spec import Annotation, Dashboard, Panel, Viz
from vigie.contracts.metrics import MetricKind, MetricSpec
from vigie.contracts.storage import LONG_RP, at
from vigie.contracts.storage import Measurement as M

T = "\"territory\" = '$territory' AND $timeFilter"
# drill-down: the district and device variables (regular expressions, '.*' for all)
D = '"district" =~ /^$district$/ AND "device" =~ /^$device$/'
DAY = "time > now() - 24h"
DAY_LAST_WEEK = "time > now() - 8d AND time <= now() - 7d"
# the same 24 hours 52 weeks ago: the same weekdays a year earlier
DAY_YEAR_AGO = "time > now() - 365d AND time <= now() - 364d"


def _counted(metric: str, window: str) -> str:
    """Passages counted by every channel of a counter kind in a window."""
    return (
        f'SELECT sum("sum") FROM {at(M.AGG_1M)} WHERE "territory" = \'$territory\' AND '
        f"{window} AND \"metric\" = '{metric}'"
    )


def _per_hour(metric: str, by: str) -> str:
    return (
        f'SELECT sum("sum") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND "metric" = \'{metric}\' '
        f'GROUP BY time(1h), "{by}" fill(none)'
    )


def _metered(vertical: str, window: str, scale: str = "") -> str:
    return (
        f'SELECT sum("metered"){scale} FROM {at(M.BALANCE)} WHERE '
        f"\"territory\" = '$territory' AND {window} AND \"vertical\" = '{vertical}'"
    )


def _alert_marks(where: str) -> tuple[Annotation, ...]:
    """The alerts raised and cleared on a dashboard's subject, as marks on its time axis."""
    return (
        Annotation(
            "Alerts",
            f'SELECT "detail", "kind", "device", "state" FROM {at(M.ALERTS)} WHERE {T} AND {where}',
            text="detail",
            tags=("kind", "device", "state"),
        ),
    )


HYPERVISOR = Dashboard(
    "vigie-hypervisor",
    "Vigie - Hypervisor",
    (
        Panel(
            "Lighting energy, last 24 h (kWh)",
            _metered("lighting", DAY, " / 1000"),
            "kwatth",
            Viz.STAT,
            width=6,
            fr="Énergie éclairage, dernières 24 h (kWh)",
            key="lighting_24h",
        ),
        Panel(
            "Same 24 h last week (kWh)",
            _metered("lighting", DAY_LAST_WEEK, " / 1000"),
            "kwatth",
            Viz.STAT,
            width=6,
            fr="Mêmes 24 h la semaine dernière (kWh)",
            key="lighting_week_ago",
        ),
        Panel(
            "Water distributed, last 24 h (m3)",
            _metered("water", DAY),
            "m3",
            Viz.STAT,
            width=6,
            fr="Eau distribuée, dernières 24 h (m3)",
            key="water_24h",
        ),
        Panel(
            "Same 24 h last week (m3)",
            _metered("water", DAY_LAST_WEEK),
            "m3",
            Viz.STAT,
            width=6,
            fr="Mêmes 24 h la semaine dernière (m3)",
            key="water_week_ago",
        ),
        Panel(
            "Bicycles counted, last 24 h",
            _counted("bicycles_count", DAY),
            "none",
            Viz.STAT,
            width=6,
            fr="Vélos comptés, dernières 24 h",
            key="bicycles_24h",
        ),
        Panel(
            "Same weekday a year earlier (bicycles)",
            _counted("bicycles_count", DAY_YEAR_AGO),
            "none",
            Viz.STAT,
            width=6,
            fr="Même jour de semaine un an plus tôt (vélos)",
            key="bicycles_year_ago",
        ),
        Panel(
            "Public lighting energy (kWh per hour)",
            f'SELECT sum("metered") / 1000 FROM {at(M.BALANCE)} WHERE {T} AND '
            "\"vertical\" = 'lighting' GROUP BY time(1h) fill(none)",
            "kwatth",
            fr="Énergie de l'éclairage public (kWh par heure)",
        ),
        Panel(
            "Water distributed (m3 per hour)",
            f'SELECT sum("metered") FROM {at(M.BALANCE)} WHERE {T} AND '
            "\"vertical\" = 'water' GROUP BY time(1h) fill(none)",
            "m3",
            fr="Eau distribuée (m3 par heure)",
        ),
        Panel(
            "Open alerts by kind",
            f'SELECT sum("open") FROM (SELECT last("open") AS "open" FROM {at(M.ALERTS)} '
            f'WHERE {T} GROUP BY "kind", "device") GROUP BY "kind"',
            viz=Viz.BARGAUGE,
            thresholds=((0, "green"), (1, "red")),
            fr="Alertes ouvertes par type",
            key="open_alerts",
        ),
        Panel(
            "Assets (colour: alerts raised)",
            f'SELECT last("lat") AS "lat", last("lon") AS "lon", last("alerts") AS "alerts" '
            f'FROM {at(M.FLEET)} WHERE {T} GROUP BY "device", "vertical"',
            viz=Viz.GEOMAP,
            thresholds=((0, "green"), (1, "red")),
            height=12,
            fr="Équipements (couleur : alertes levées)",
        ),
        Panel(
            "Net balance: savings enabled against the platform's footprint (kWh per day)",
            f'SELECT last("savings_wh") / 1000 AS "savings", last("footprint_wh") / 1000 AS '
            f'"footprint" FROM {at(M.DAY_BALANCE)} WHERE {T} GROUP BY time(1d) fill(none)',
            "kwatth",
            Viz.BARGAUGE,
            fr="Bilan net : économies permises contre empreinte de la plateforme (kWh par jour)",
        ),
        Panel(
            "Net balance with manufacturing (kg CO2e per day: low, middle, high)",
            f'SELECT last("net_gco2e_low") / 1000 AS "low", last("net_gco2e") / 1000 AS '
            f'"middle", last("net_gco2e_high") / 1000 AS "high" FROM {at(M.DAY_BALANCE)} '
            f"WHERE {T} GROUP BY time(1d) fill(none)",
            viz=Viz.BARGAUGE,
            thresholds=((float("-inf"), "red"), (0, "green")),
            fr="Bilan net fabrication comprise (kg CO2e par jour : bas, milieu, haut)",
            key="net_co2e",
        ),
        Panel(
            "Mean bin filling level (%)",
            f'SELECT mean("last") FROM {at(M.AGG_1M)} WHERE {T} AND "metric" = \'fill_pct\' '
            "GROUP BY time($__interval) fill(none)",
            "percent",
            thresholds=((0, "green"), (60, "orange"), (80, "red")),
            fr="Remplissage moyen des conteneurs (%)",
        ),
        Panel(
            "Road traffic (veh/h, mean of counters)",
            f'SELECT mean("mean") FROM {at(M.AGG_1M)} WHERE {T} AND '
            "\"metric\" = 'traffic_flow_vehh' GROUP BY time($__interval) fill(none)",
            fr="Trafic routier (véh/h, moyenne des compteurs)",
        ),
    ),
    audience="elected officials",
    tags=("hypervisor",),
    fr="Vigie - Hyperviseur",
)

LIGHTING = Dashboard(
    "vigie-lighting",
    "Vigie - Public lighting",
    (
        Panel(
            "Burning hours per district",
            f'SELECT sum("burning_h") FROM {at(M.ATTRIBUTION)} WHERE {T} AND '
            '"district" =~ /^$district$/ GROUP BY time(1h), "district" fill(none)',
            "h",
            fr="Heures d'allumage par quartier",
        ),
        Panel(
            "Dimming savings (kWh): full power minus attributed",
            f'SELECT (sum("full_power_wh") - sum("attributed_wh")) / 1000 FROM '
            f'{at(M.ATTRIBUTION)} WHERE {T} AND "district" =~ /^$district$/ '
            "GROUP BY time(1h) fill(none)",
            "kwatth",
            fr="Économies d'abaissement (kWh) : pleine puissance moins attribué",
        ),
        Panel(
            "Cabinet power (W)",
            f'SELECT mean("mean") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            '"metric" = \'cabinet_power_w\' GROUP BY time($__interval), "device" fill(none)',
            "watt",
            fr="Puissance des armoires (W)",
        ),
        Panel(
            "Lamp power (W)",
            f'SELECT mean("mean") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            '"metric" = \'power_w\' GROUP BY time($__interval), "device" fill(none)',
            "watt",
            fr="Puissance des points lumineux (W)",
        ),
    ),
    tags=("lighting",),
    annotations=_alert_marks(f"\"vertical\" = 'lighting' AND {D}"),
    fr="Vigie - Éclairage public",
    drill_down=True,
)

ENERGY = Dashboard(
    "vigie-energy",
    "Vigie - Energy attribution",
    (
        Panel(
            "Attributed energy per district (kWh)",
            f'SELECT sum("attributed_wh") / 1000 FROM {at(M.ATTRIBUTION)} WHERE {T} '
            'GROUP BY time(1h), "district" fill(none)',
            "kwatth",
            fr="Énergie attribuée par quartier (kWh)",
        ),
        Panel(
            "Unexplained energy per cabinet (Wh)",
            f'SELECT sum("unexplained") FROM {at(M.BALANCE)} WHERE {T} AND '
            '"vertical" = \'lighting\' GROUP BY time(1h), "device" fill(none)',
            "watth",
            fr="Énergie inexpliquée par armoire (Wh)",
        ),
        Panel(
            "Meter / model ratio",
            f'SELECT mean("ratio") FROM {at(M.BALANCE)} WHERE {T} AND "ratio" > 0 '
            'GROUP BY time(1h), "device" fill(none)',
            thresholds=((0, "green"), (1.08, "red")),
            fr="Rapport compteur / modèle",
        ),
    ),
    tags=("energy",),
    annotations=_alert_marks("\"kind\" = 'attribution_remainder'"),
    fr="Vigie - Attribution de l'énergie",
)

WATER = Dashboard(
    "vigie-water",
    "Vigie - Water",
    (
        Panel(
            "Night minimum flow per metered area (m3/h)",
            f'SELECT last("min_flow_m3h") FROM {at(M.NIGHT)} WHERE {T} '
            'GROUP BY time(1d), "dma" fill(none)',
            "m3",
            fr="Débit minimum de nuit par secteur (m3/h)",
        ),
        Panel(
            "Leak index (night minimum / usual)",
            f'SELECT last("leak_index") FROM {at(M.NIGHT)} WHERE {T} AND '
            '"leak_index" > 0 GROUP BY time(1d), "dma" fill(none)',
            thresholds=((0, "green"), (1.25, "red")),
            fr="Indice de fuite (minimum de nuit / habituel)",
        ),
        Panel(
            "Network pressure (bar)",
            f'SELECT mean("mean") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND "metric" = '
            "'pressure_bar' GROUP BY time($__interval), \"device\" fill(none)",
            "pressurebar",
            fr="Pression du réseau (bar)",
        ),
    ),
    tags=("water",),
    annotations=_alert_marks(f"\"vertical\" = 'water' AND {D}"),
    fr="Vigie - Eau",
    drill_down=True,
)

WASTE = Dashboard(
    "vigie-waste",
    "Vigie - Waste",
    (
        Panel(
            "Bins by filling level",
            f'SELECT last("fill_pct") FROM {at(M.WASTE)} WHERE {T} AND {D} GROUP BY "device"',
            "percent",
            Viz.TABLE,
            fr="Conteneurs par niveau de remplissage",
        ),
        Panel(
            "Hours to full (next to fill)",
            f'SELECT last("hours_to_full") FROM {at(M.WASTE)} WHERE {T} AND {D} AND '
            '"hours_to_full" >= 0 GROUP BY "device"',
            "h",
            Viz.TABLE,
            fr="Heures avant remplissage",
        ),
        Panel(
            "Filling level (%)",
            f'SELECT mean("last") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            '"metric" = \'fill_pct\' GROUP BY time($__interval), "device" fill(none)',
            "percent",
            fr="Niveau de remplissage (%)",
        ),
    ),
    tags=("waste",),
    annotations=_alert_marks(f"\"vertical\" = 'waste' AND {D}"),
    fr="Vigie - Déchets",
    drill_down=True,
)

MOBILITY = Dashboard(
    "vigie-mobility",
    "Vigie - Mobility",
    (
        Panel(
            "Flow per counter (veh/h)",
            f'SELECT mean("mean") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            '"metric" = \'traffic_flow_vehh\' GROUP BY time($__interval), "device" fill(none)',
            fr="Débit par compteur (véh/h)",
        ),
        Panel(
            "Flow over the last hour per district, every 15 minutes (veh/h)",
            f'SELECT sum("mean") FROM {at(M.AGG_HOP_1H)} WHERE {T} AND {D} AND '
            '"metric" = \'traffic_flow_vehh\' GROUP BY time(15m), "district" fill(none)',
            fr="Débit de la dernière heure par quartier, tous les quarts d'heure (véh/h)",
        ),
        Panel(  # what the sums above cover: a district's sum drops when counters fall silent
            "Counters reporting over the last hour per district",
            f'SELECT count("mean") FROM {at(M.AGG_HOP_1H)} WHERE {T} AND {D} AND '
            '"metric" = \'traffic_flow_vehh\' GROUP BY time(15m), "district" fill(none)',
            fr="Compteurs ayant mesuré dans la dernière heure, par quartier",
        ),
        Panel(
            "Mean speed (km/h)",
            f'SELECT mean("mean") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            "\"metric\" = 'speed_kmh' GROUP BY time($__interval) fill(none)",
            "velocitykmh",
            fr="Vitesse moyenne (km/h)",
        ),
        Panel(
            "Bicycles counted per hour, per channel",
            _per_hour("bicycles_count", "device"),
            fr="Vélos comptés par heure, par canal",
        ),
        Panel(  # a counter's channels are its directions: their bars give each one's share
            "Bicycles over the period, per channel (direction)",
            f'SELECT sum("sum") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            '"metric" = \'bicycles_count\' GROUP BY "device"',
            viz=Viz.BARGAUGE,
            fr="Vélos sur la période, par canal (sens)",
        ),
        Panel(  # local days of 1-minute windows, imported history past their retention included
            "Bicycles counted per day",
            f'SELECT sum("sum") FROM {at(M.AGG_1M)}, {at(M.AGG_1M, LONG_RP)} WHERE {T} AND {D} AND '
            "\"metric\" = 'bicycles_count' GROUP BY time(1d) fill(none)",
            viz=Viz.BARGAUGE,
            fr="Vélos comptés par jour",
        ),
        Panel(
            "Pedestrians counted per hour, per channel",
            _per_hour("pedestrians_count", "device"),
            fr="Piétons comptés par heure, par canal",
        ),
        Panel(
            "Traffic state (0 fluid .. 3 blocked)",
            f'SELECT max("state") FROM {at(M.ROAD)} WHERE {T} AND {D} '
            'GROUP BY time($__interval), "device" fill(none)',
            thresholds=((0, "green"), (1, "yellow"), (2, "orange"), (3, "red")),
            fr="État du trafic (0 fluide .. 3 bloqué)",
        ),
    ),
    tags=("mobility",),
    annotations=_alert_marks(f"\"vertical\" = 'mobility' AND {D}"),
    fr="Vigie - Mobilité",
    drill_down=True,
)

FLEET = Dashboard(
    "vigie-fleet",
    "Vigie - Edge fleet",
    (
        Panel(
            "Devices reporting",
            f'SELECT count(distinct("last_seq")) FROM (SELECT '
            f'last("last_seq") AS "last_seq" FROM {at(M.FLEET)} WHERE {T} AND {D} '
            'GROUP BY "device")',
            viz=Viz.STAT,
            fr="Équipements qui émettent",
        ),
        Panel(
            "Last seen, missing batches and batches the edge queue dropped, per device",
            f'SELECT last("last_reading_ms") AS "last_reading_ms", last("missing_seq") AS '
            f'"missing_seq", last("edge_dropped") AS "edge_dropped" FROM {at(M.FLEET)} '
            f'WHERE {T} AND {D} GROUP BY "device"',
            viz=Viz.TABLE,
            fr="Dernière mesure, lots manquants et lots perdus par la file du boîtier, "
            "par équipement",
        ),
        Panel(
            "Edge queue depth (batches)",
            f'SELECT max("max") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
            '"metric" = \'queue_depth\' GROUP BY time($__interval), "device" fill(none)',
            fr="File d'attente des boîtiers (lots)",
        ),
        Panel(
            "Worker lag reading -> storage (ms, p99)",
            f'SELECT max("lag_p99_ms") FROM {at(M.PLATFORM)} WHERE {T} '
            "GROUP BY time($__interval) fill(none)",
            "ms",
            fr="Délai mesure -> stockage (ms, p99)",
        ),
    ),
    audience="edge engineers",
    tags=("fleet",),
    # the devices' own health: a silent sensor, a field meter not answering its agent
    annotations=_alert_marks(f'"kind" =~ /^(device_silent|meter_down|sensor_fault)$/ AND {D}'),
    fr="Vigie - Parc de boîtiers",
    drill_down=True,
)

QUALITY = Dashboard(
    "vigie-quality",
    "Vigie - Data quality",
    (
        Panel(
            "Rejected payloads by reason",
            f'SELECT sum("count") FROM {at(M.DEAD_LETTERS)} WHERE {T} '
            'GROUP BY time($__interval), "reason" fill(none)',
            fr="Messages rejetés par motif",
        ),
        Panel(
            "Rejected payloads by vertical",
            f'SELECT sum("count") FROM {at(M.DEAD_LETTERS)} WHERE {T} GROUP BY "vertical"',
            viz=Viz.BARGAUGE,
            fr="Messages rejetés par domaine",
        ),
        Panel(
            "Late readings (after their window closed)",
            f'SELECT last("late") FROM {at(M.FLEET)} WHERE {T} AND "late" > 0 GROUP BY "device"',
            viz=Viz.TABLE,
            fr="Mesures arrivées en retard (fenêtre close)",
        ),
        Panel(
            "Missing sequence numbers (all devices)",
            f'SELECT sum("missing_seq") FROM (SELECT last("missing_seq") AS "missing_seq" '
            f'FROM {at(M.FLEET)} WHERE {T} GROUP BY "device")',
            viz=Viz.STAT,
            thresholds=((0, "green"), (1, "orange")),
            fr="Numéros de séquence manquants (tous équipements)",
        ),
    ),
    tags=("quality",),
    fr="Vigie - Qualité des données",
)

_OPS = f"{at(M.ALERT_OPS)} WHERE {T}"

ALERT_OPS = Dashboard(
    "vigie-alert-ops",
    "Vigie - Alert operations",
    (
        Panel(
            "Open alerts, and how many of them are acknowledged",
            f'SELECT sum("open") AS "open", sum("acked") AS "acknowledged" FROM (SELECT '
            f'last("open") AS "open", last("acked") AS "acked" FROM {_OPS} '
            'GROUP BY "kind", "subject")',
            viz=Viz.STAT,
            thresholds=((0, "green"), (1, "orange")),
            fr="Alertes ouvertes, et combien sont prises en charge",
        ),
        Panel(
            "Mean time to acknowledge and to clear (min)",
            f'SELECT mean("wait_s") / 60 FROM {_OPS} AND "state" != \'open\' GROUP BY "state"',
            "m",
            Viz.BARGAUGE,
            fr="Délai moyen de prise en charge et de levée (min)",
        ),
        Panel(
            "Alerts opened, acknowledged and cleared",
            f'SELECT sum("count") FROM {_OPS} GROUP BY time($__interval), "state" fill(none)',
            fr="Alertes ouvertes, prises en charge et levées",
        ),
        Panel(
            "Alerts held by planned works or for flapping, per kind",
            f'SELECT count("held") FROM {_OPS} AND "state" = \'open\' GROUP BY "kind"',
            viz=Viz.BARGAUGE,
            fr="Alertes retenues (travaux prévus ou capteur instable), par type",
        ),
    ),
    audience="technical services",
    tags=("alerts",),
    fr="Vigie - Exploitation des alertes",
)

FOOTPRINT = Dashboard(
    "vigie-footprint",
    "Vigie - Platform footprint",
    (
        Panel(
            "Footprint by part (Wh)",
            f'SELECT sum("wh") FROM {at(M.FOOTPRINT)} WHERE {T} GROUP BY "part"',
            "watth",
            Viz.BARGAUGE,
            fr="Empreinte par poste (Wh)",
        ),
        Panel(
            "Footprint by part, manufacturing included (kg CO2e)",
            f'SELECT sum("gco2e") / 1000 FROM {at(M.FOOTPRINT)} WHERE {T} GROUP BY "part"',
            viz=Viz.BARGAUGE,
            fr="Empreinte par poste, fabrication comprise (kg CO2e)",
        ),
        Panel(
            "Abiotic resources used up by the fleet's manufacturing (g Sb eq)",
            f'SELECT sum("gsb") FROM {at(M.FOOTPRINT)} WHERE {T} AND "part" = '
            "'manufacturing' GROUP BY time(1d) fill(none)",
            fr="Ressources abiotiques consommées par la fabrication du parc (g Sb éq.)",
        ),
        Panel(
            "Savings enabled by vertical (Wh)",
            f'SELECT sum("wh") FROM {at(M.SAVINGS)} WHERE {T} GROUP BY "vertical"',
            "watth",
            Viz.BARGAUGE,
            fr="Économies permises par domaine (Wh)",
        ),
        Panel(
            "Messages received per component and vertical",
            f'SELECT sum("messages_in") FROM {at(M.PLATFORM)} WHERE {T} AND "vertical" != \'\' '
            'GROUP BY time($__interval), "component", "vertical" fill(none)',
            fr="Messages reçus par composant et domaine",
        ),
        Panel(
            "Bytes in and out per component",
            f'SELECT sum("bytes_in") AS "in", sum("bytes_out") AS "out" FROM {at(M.PLATFORM)} '
            f'WHERE {T} AND "vertical" = \'\' GROUP BY time($__interval), "component" fill(none)',
            "bytes",
            fr="Octets reçus et émis par composant",
        ),
        Panel(
            "CPU time (s) per component",
            f'SELECT sum("cpu_s") FROM {at(M.PLATFORM)} WHERE {T} '
            'GROUP BY time($__interval), "component" fill(none)',
            "s",
            fr="Temps processeur (s) par composant",
        ),
        Panel(
            "Resident memory (kB) per component",
            f'SELECT max("rss_kb") FROM {at(M.PLATFORM)} WHERE {T} '
            'GROUP BY time($__interval), "component" fill(none)',
            "kbytes",
            fr="Mémoire résidente (ko) par composant",
        ),
    ),
    audience="elected officials and technical services",
    tags=("footprint",),
    fr="Vigie - Empreinte de la plateforme",
)


def declared_metrics(specs: tuple[MetricSpec, ...]) -> Dashboard:
    """One panel per metric a territory declared in its catalogue (``vigie.catalogue``): its
    1-minute windows per device, combined as its kind says (a gauge's mean, a count's sum per
    hour, an index's last value)."""
    panels = []
    for spec in specs:
        field = spec.combine  # the window field that says how much: mean, sum or last
        step = "1h" if spec.kind is MetricKind.COUNT else "$__interval"
        panels.append(
            Panel(
                f"{spec.description} ({spec.unit}), {spec.name}",
                f'SELECT {field}("{field}") FROM {at(M.AGG_1M)} WHERE {T} AND {D} AND '
                f'"metric" = \'{spec.name}\' GROUP BY time({step}), "device" fill(none)',
                fr=f"{spec.description} ({spec.unit}), {spec.name}",
            )
        )
    return Dashboard(
        "vigie-territory-metrics",
        "Vigie - Territory metrics",
        tuple(panels),
        tags=("catalogue",),
        fr="Vigie - Mesures du territoire",
        drill_down=True,
    )


ALL: tuple[Dashboard, ...] = (
    HYPERVISOR,
    LIGHTING,
    ENERGY,
    WATER,
    WASTE,
    MOBILITY,
    FLEET,
    QUALITY,
    ALERT_OPS,
    FOOTPRINT,
)


def every(declared: tuple[MetricSpec, ...]) -> tuple[Dashboard, ...]:
    """Every dashboard, with the territory's declared metrics' own when it declared any."""
    return ALL + ((declared_metrics(declared),) if declared else ())
