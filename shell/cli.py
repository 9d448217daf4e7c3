"""The ``vigie`` command line: one sub-command per role."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from shell.alerts_cli import alerts_app
from shell.interop_cli import interop_app
from shell.registry_cli import registry_app
from shell.site_cli import site_app
from simulators import cli as simulators_cli
from vigie import logs
from vigie.errors import VigieError
from vigie.exits import Exit, fail, fail_with
from vigie.localtime import DEFAULT_TIMEZONE
from vigie.settings import Settings, vigie_home

if TYPE_CHECKING:
    from dashboards.spec import Dashboard
    from reports.footprint import DayBalance
    from reports.sobriety.sensitivity import Day
    from vigie.contracts import Asset

console = Console(stderr=True)
app = typer.Typer(
    help="Vigie: IoT sensor platform for connected territories. Start with `vigie demo`.",
    no_args_is_help=True,
    add_completion=False,
)
stack_app = typer.Typer(
    help="Local servers (Mosquitto, Kafka-compatible Tansu, InfluxDB 1.x) "
    "as child processes on free ports.",
    no_args_is_help=True,
)
ingest_app = typer.Typer(help="MQTT -> Kafka ingest bridge.", no_args_is_help=True)
streams_app = typer.Typer(
    help="Stream processors (faust workers) writing to InfluxDB.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")
app.add_typer(ingest_app, name="ingest")
app.add_typer(streams_app, name="streams")
app.add_typer(simulators_cli.simulate_app, name="simulate")
app.command("replay")(simulators_cli.replay)
app.command("record")(simulators_cli.record)
footprint_app = typer.Typer(
    help="The platform's own footprint against the savings it enables.", no_args_is_help=True
)
app.add_typer(footprint_app, name="footprint")
opendata_app = typer.Typer(
    help="Aggregated, privacy-safe open data sets with their metadata.", no_args_is_help=True
)
app.add_typer(opendata_app, name="opendata")
dashboards_app = typer.Typer(
    help="Grafana dashboards generated from their specification.", no_args_is_help=True
)
app.add_typer(dashboards_app, name="dashboards")
devices_app = typer.Typer(
    help="Device identities: provision (per-device password over TLS), revoke, list.",
    no_args_is_help=True,
)
app.add_typer(devices_app, name="devices")
edge_app = typer.Typer(help="Edge agent for Raspberry Pi-class boards.", no_args_is_help=True)
app.add_typer(edge_app, name="edge")
app.add_typer(registry_app, name="registry")
app.add_typer(alerts_app, name="alerts")
app.add_typer(interop_app, name="interop")
app.add_typer(site_app, name="site")


# -- stack ------------------------------------------------------------------------------------


@stack_app.command("up")
def stack_up() -> None:
    """Start the servers (or reuse running ones) and print their addresses."""
    from shell.stack import Stack, StackError

    try:
        state = Stack(vigie_home()).up()
    except StackError as exc:
        raise fail(Exit.STACK, str(exc)) from None
    print(json.dumps(state["settings"], indent=1))


@stack_app.command("supervise", hidden=True)
def stack_supervise() -> None:
    """Restart any server of the stack that exits unasked (started by `vigie stack up`)."""
    from shell.stack.supervisor import run

    logs.setup("INFO")
    run(vigie_home(), Settings().stack.kafka_max_rss_mb)


@stack_app.command("guard", hidden=True)
def stack_guard() -> None:
    """Start the stack's supervisor again whenever it is gone (a site runs one)."""
    from shell.stack.supervisor import run_guard

    logs.setup("INFO")
    run_guard(vigie_home())


@stack_app.command("down")
def stack_down() -> None:
    """Stop exactly the servers `vigie stack up` started."""
    from shell.stack import Stack

    Stack(vigie_home()).down()
    console.print("stack stopped")


@stack_app.command("status")
def stack_status() -> None:
    """Show each server's pid, port and whether it answers."""
    from shell.stack import Stack

    status = Stack(vigie_home()).status()
    table = Table("server", "pid", "port", "running", "answers")
    for name, s in status.items():
        table.add_row(name, str(s["pid"]), str(s["port"]), str(s["running"]), str(s["answers"]))
    Console().print(table)
    if not status or not all(s["answers"] for s in status.values()):
        raise typer.Exit(int(Exit.STACK))


# -- ingest / streams -------------------------------------------------------------------------


@ingest_app.command("run")
def ingest_run(
    instance: str = typer.Option(
        "0", help="Stable instance name: its MQTT session survives restarts."
    ),
    log_level: str = "INFO",
) -> None:
    """Run one bridge until SIGTERM (several instances share the load)."""
    from ingest.bridge import Bridge

    logs.setup(log_level)
    try:
        asyncio.run(Bridge(Settings(), instance).run())
    except VigieError as exc:  # no registry (2), a broker that cannot be reached (4) ...
        raise fail_with(exc) from None


@ingest_app.command("lorawan")
def ingest_lorawan(
    network: str = typer.Option(
        ..., help="The network server: chirpstack (v4) or tts (The Things Stack v3)."
    ),
    instance: str = typer.Option("lorawan-0", help="Stable name: its MQTT session is kept."),
    topic: list[str] = typer.Option(
        [], help="Subscription filter (repeatable); default: the server's uplink and join topics."
    ),
    state: Path | None = typer.Option(
        None, help="Frame-counter states (SQLite); default: VIGIE_HOME/lorawan/INSTANCE.db."
    ),
    log_level: str = "INFO",
) -> None:
    """Run a bridge for a LoRaWAN network server's MQTT integration until SIGTERM."""
    from ingest.lorawan.service import lorawan_bridge
    from ingest.lorawan.uplinks import FILTERS

    if network not in FILTERS:
        raise fail(Exit.USAGE, f"--network {network!r}: choose {' or '.join(FILTERS)}")
    logs.setup(log_level)
    path = state or vigie_home() / "lorawan" / f"{instance}.db"
    try:
        bridge = lorawan_bridge(Settings(), network, path, instance, topic or None)  # type: ignore[arg-type]  # checked above
        asyncio.run(bridge.run())
    except VigieError as exc:
        raise fail_with(exc) from None


@streams_app.command("run")
def streams_run(log_level: str = "INFO") -> None:
    """Run one faust worker until SIGTERM (several workers form one consumer group)."""
    from shell.metrics import serve_process_metrics
    from streams.app import run_worker

    logs.setup(log_level)
    settings = Settings()
    try:
        # read before it says it is ready (its metrics port: what a supervisor waits for)
        from vigie.registries import Registries

        registry = Registries.load(settings.registry) if settings.registry else None
        serve_process_metrics(settings.streams.metrics_port, settings.streams.metrics_host)
        run_worker(settings, loglevel="WARNING", registry=registry)
    except VigieError as exc:  # a registry that cannot be read (2) ...
        raise fail_with(exc) from None


@edge_app.command("run")
def edge_run(
    config: Path = typer.Option(..., help="Agent config file (.toml or .json)."),
    log_level: str = "INFO",
) -> None:
    """Sample the device's sensors, batch, queue and publish until SIGTERM (see vigie-edge)."""
    from edge.cli import main as edge_main

    code = edge_main(["--config", str(config), "--log-level", log_level])
    if code:
        raise typer.Exit(code)


def _dashboards(settings: Settings) -> tuple[Dashboard, ...]:
    """Every dashboard, with a panel per metric the territory's catalogue declares."""
    from dashboards.catalog import every
    from vigie.catalogue import declare_beside, declared

    try:
        if settings.registry is not None:
            declare_beside(settings.registry)
    except VigieError as exc:
        raise fail_with(exc) from None
    return every(declared())


@dashboards_app.command("build")
def dashboards_build(
    out: Path = typer.Option(
        Path("dashboards/generated"), help="Folder Grafana's file provisioning reads."
    ),
    timezone: str | None = typer.Option(
        None, help="IANA time zone of the days shown (default: the registry's)."
    ),
) -> None:
    """Write the hypervisor, vertical, energy and fleet dashboards as Grafana JSON."""
    from dashboards.grafana import build

    zone = timezone or _home_timezone(Settings())
    for path in build(_dashboards(Settings()), out, zone):
        console.print(f"wrote {path}")
    console.print(f"days are local days of {zone}")


TERRITORY = typer.Option(
    None, "--territory", help="Which served territory (default: VIGIE_TERRITORY)."
)


def _settings_for(territory: str | None) -> Settings:
    """The settings, for another served territory when one is named (its registry must
    serve it); with none named and a registry serving one territory, that one."""
    settings = Settings()
    if settings.registry is None:
        if territory is None or territory == settings.territory:
            return settings
        return settings.model_copy(update={"territory": territory})
    from vigie.registries import Registries

    try:
        served = Registries.load(settings.registry).territories
    except VigieError as exc:
        raise fail_with(exc) from None
    if territory is None:
        if "territory" in settings.model_fields_set or len(served) != 1:
            return settings
        territory = next(iter(served))
    if territory not in served:
        raise fail(
            Exit.USAGE,
            f"--territory {territory}: the registry serves {', '.join(sorted(served))}",
        )
    return settings.model_copy(update={"territory": territory})


def _home_timezone(settings: Settings) -> str:
    """The time zone of the platform's own territory (its registry says), else Paris's."""
    if settings.registry is None:
        return DEFAULT_TIMEZONE
    from vigie.registries import Registries

    served = Registries.load(settings.registry).territories
    home = served.get(settings.territory) or next(iter(served.values()))
    return home.timezone


def _influx_unreachable(settings: Settings, exc: OSError) -> typer.Exit:
    return fail(
        Exit.CONNECT,
        f"InfluxDB at {settings.influx.url} did not answer ({exc}): is the stack up "
        "(vigie stack status)?",
    )


@opendata_app.command("export")
def opendata_export(
    from_: str = typer.Option(..., "--from", help="First local day, YYYY-MM-DD."),
    to: str = typer.Option(..., "--to", help="Last local day, YYYY-MM-DD (included)."),
    vertical: list[str] = typer.Option(
        None, help="lighting, water, waste or mobility (repeat; default: all)."
    ),
    out: Path = typer.Option(Path("opendata"), help="Folder to write."),
    grain: str = typer.Option("1h", help="Time grain: 1h, 3h or 1d."),
    min_count: int = typer.Option(
        10, help="Mobility counts below this are suppressed (privacy threshold)."
    ),
    territory_id: str | None = TERRITORY,
) -> None:
    """Export aggregated data sets (CSV, JSON) and their data package: by district and
    period of the territory's local calendar (its registry's time zone), no device
    identifiers, small mobility counts suppressed, mobility coverage stated."""
    from datetime import date, timedelta

    from reports.interop.comptage import read_hourly, tables
    from reports.interop.comptage import write as write_counts
    from reports.opendata.datasets import DATASETS, catalogue_dataset
    from reports.opendata.export import export
    from vigie.catalogue import declared
    from vigie.contracts import AssetKind
    from vigie.localtime import LocalClock
    from vigie.registries import Registries

    settings = _settings_for(territory_id)
    served = Registries.load(settings.registry).territories if settings.registry else {}
    territory = served.get(settings.territory)
    clock = LocalClock(_home_timezone(settings))
    counters: dict[str, int] = {}
    for asset in territory.assets if territory else ():
        if asset.kind is AssetKind.TRAFFIC_COUNTER:
            counters[asset.district] = counters.get(asset.district, 0) + 1
    try:
        first, last = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError:
        raise fail(Exit.USAGE, "--from and --to: expected YYYY-MM-DD") from None
    published = [*DATASETS, *(catalogue_dataset(s) for s in declared() if s.vertical)]
    chosen = [d for d in published if not vertical or d.vertical in vertical]
    if not chosen:
        raise fail(Exit.USAGE, f"--vertical {vertical}: none of lighting, water, waste, mobility")

    start_ms, end_ms = clock.midnight(first), clock.midnight(last + timedelta(days=1))
    national = territory is not None and any(d.vertical == "mobility" for d in chosen)
    try:
        counts = export(
            settings.influx,
            chosen,
            settings.territory,
            start_ms,
            end_ms,
            out,
            grain,
            min_count,
            clock,
            counters,
        )
        if national and territory is not None:
            hourly = read_hourly(settings.influx, territory.id, start_ms, end_ms)
            rows = write_counts(tables(territory, hourly, min_count), out / "comptage-mobilites")
    except ValueError as exc:
        raise fail(Exit.USAGE, str(exc)) from None
    except OSError as exc:
        raise _influx_unreachable(settings, exc) from None
    for name, n in counts.items():
        console.print(f"{out / name}.csv, .json: {n} rows")
    if not any(counts.values()):
        raise fail(
            Exit.FAILED,
            f"InfluxDB holds nothing for territory {settings.territory!r} from {first} to "
            f"{last}: check --territory (or VIGIE_TERRITORY) and the period",
        )
    console.print(f"{out / 'datapackage.json'}: metadata; days are local days of {clock.timezone}")
    if national:
        console.print(
            f"{out / 'comptage-mobilites'}: the national schema for mobility counts "
            f"(schema-comptage-mobilites): {rows['site']} sites, {rows['measure']} hourly "
            "counts, times in UTC"
        )


@footprint_app.command("factors")
def footprint_factors(
    sensitivity: bool = typer.Option(
        False, help="Rank the factors by how much they move a simulated territory's balance."
    ),
    population: int = typer.Option(20_000, help="With --sensitivity: inhabitants simulated."),
) -> None:
    """Every factor of the estimate, its value and its source (change them in the settings);
    with --sensitivity, the factors that move the balance most."""
    from reports.sobriety.classes import Span
    from reports.sobriety.sensitivity import sensitivity as rank
    from shell.footprint_views import sensitivity_table

    settings = Settings()
    table = Table("factor", "value", "source")
    for row in settings.footprint.table():
        table.add_row(*row)
    for row in _class_rows():
        table.add_row(*row)
    console.print(table)
    if sensitivity:
        f = settings.footprint
        _, day = _estimate(population, 1, None)
        rows = rank(day, Span(f.grid_gco2e_per_kwh_low, f.grid_gco2e_per_kwh_high))
        console.print(sensitivity_table(rows))
        top = ", ".join(name for name, _ in rows[:3])
        console.print(f"the three factors that move the balance most: {top}")


def _class_rows() -> list[tuple[str, str, str]]:
    """The device classes' figures as factor rows."""
    from reports.sobriety.classes import load_classes

    table = load_classes()
    rows = []
    for name, c in table.classes.items():
        gwp, adpe = table.embodied(name)
        rows.append((f"{name}.use_w", f"{c.use_w[0]:g}-{c.use_w[1]:g} W", c.use_source))
        rows.append(
            (
                f"{name}.manufacturing",
                f"{gwp.low:.3g}-{gwp.high:.3g} kg CO2e, {adpe.low:.3g}-{adpe.high:.3g} kg Sb eq",
                c.blocks_source + "; " + table.manufacturing.source
                if c.blocks
                else c.blocks_source,
            )
        )
        rows.append(
            (f"{name}.life_years", f"{c.life_years[0]:g}-{c.life_years[1]:g}", c.life_source)
        )
    return rows


def _estimate(population: int, seed: int, day: str | None) -> tuple[DayBalance, Day]:
    """A simulated territory's local day (yesterday by default), with progress shown."""
    from datetime import date, datetime, timedelta

    from rich.progress import Progress

    from shell.estimate import estimate
    from simulators.territory import generate
    from vigie.localtime import LocalClock

    clock = LocalClock(DEFAULT_TIMEZONE)
    try:
        d = date.fromisoformat(day) if day else datetime.now(clock.zone).date() - timedelta(1)
    except ValueError:
        raise fail(Exit.USAGE, f"--day {day!r}: expected YYYY-MM-DD") from None
    hours = (clock.midnight(d + timedelta(days=1)) - clock.midnight(d)) / 3_600_000
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"simulating {population:,} inhabitants on {d}", total=1.0)
        result = estimate(
            generate(population, seed=seed),
            clock.midnight(d),
            Settings().footprint,
            seed=seed,
            hours=hours,
            progress=lambda done: progress.update(task, completed=done),
        )
    return result


@footprint_app.command("estimate")
def footprint_estimate(
    population: int = typer.Option(20_000, help="Inhabitants of the simulated territory."),
    day: str = typer.Option(None, help="Local day simulated, YYYY-MM-DD (default: yesterday)."),
    seed: int = 1,
) -> None:
    """A simulated territory's whole day without servers: its fleet by device class, use and
    manufacturing against the lighting energy it saves (the simulator's ground truth)."""
    from shell.footprint_views import balance_table, fleet_table

    balance, _ = _estimate(population, seed, day)
    console.print(fleet_table(balance))
    console.print(balance_table(balance))
    net = balance.net_gco2e
    console.print(
        f"{population:,} inhabitants, {balance.devices:,} assets, {balance.messages:,} "
        f"messages: net {net.mid / 1000:+,.1f} kg CO2e per day ({net.low / 1000:+,.1f} to "
        f"{net.high / 1000:+,.1f}); water and waste savings left out (they need the platform)"
    )


@footprint_app.command("report")
def footprint_report(
    day: str = typer.Option(None, help="Local day, YYYY-MM-DD (default: today)."),
    days: int = typer.Option(1, help="How many days, ending with DAY."),
    territory_id: str | None = TERRITORY,
) -> None:
    """Compute each day's footprint, savings and net balance from InfluxDB and store them for
    the hypervisor's balance panel and the bulletin (same points when run again)."""
    from datetime import date, datetime, timedelta

    from reports.footprint import compute, write
    from vigie.localtime import LocalClock

    settings = _settings_for(territory_id)
    clock = LocalClock(_home_timezone(settings))
    try:
        last = date.fromisoformat(day) if day else datetime.now(clock.zone).date()
    except ValueError:
        raise fail(Exit.USAGE, f"--day {day!r}: expected YYYY-MM-DD") from None
    assets = _registry_assets(settings)
    table = Table(
        "day",
        "devices",
        "messages",
        "CPU s",
        "use Wh",
        "savings Wh",
        "manufacturing kg CO2e",
        "net kg CO2e (range)",
    )
    for n in range(days - 1, -1, -1):
        d = last - timedelta(days=n)
        day_ms, day_end = clock.midnight(d), clock.midnight(d + timedelta(days=1))
        try:
            balance = compute(
                settings.influx, settings.territory, day_ms, settings.footprint, day_end, assets
            )
            write(settings.influx, balance)
        except OSError as exc:
            raise _influx_unreachable(settings, exc) from None
        table.add_row(
            d.isoformat(),
            str(balance.devices),
            f"{balance.messages:,}",
            f"{balance.cpu_s:,.0f}",
            f"{balance.use_wh.mid:,.0f}",
            f"{sum(balance.savings_wh.values()):,.0f}",
            f"{balance.manufacturing_gco2e.mid / 1000:,.2f}",
            f"{balance.net_gco2e.mid / 1000:+,.2f} ({balance.net_gco2e.low / 1000:+,.2f} to "
            f"{balance.net_gco2e.high / 1000:+,.2f})",
        )
    console.print(table)
    if assets is None:
        console.print(
            "no registry (VIGIE_REGISTRY): every device counted as an edge board, no "
            "manufacturing; set it to count the fleet by device class"
        )


def _registry_assets(settings: Settings) -> list[Asset] | None:
    """The territory's assets from its registry, None without one."""
    if settings.registry is None:
        return None
    from vigie.registries import Registries

    served = Registries.load(settings.registry).territories
    territory = served.get(settings.territory)
    return territory.assets if territory is not None else None


@dashboards_app.command("snapshot")
def dashboards_snapshot(
    out: Path = typer.Option(Path("vigie-bulletin.html"), help="The HTML file to write."),
    since: str = typer.Option("7d", help="Period covered, back from now (e.g. 24h, 7d, 4w)."),
    from_: str | None = typer.Option(
        None, "--from", help="Or a period of its own: first local day (YYYY-MM-DD) ..."
    ),
    to: str | None = typer.Option(None, "--to", help="... and last local day, included."),
    all_dashboards: bool = typer.Option(
        False, "--all", help="Every dashboard, not only the hypervisor."
    ),
    pdf: bool = typer.Option(
        False, "--pdf", help="Also print it to A4 PDF beside the HTML (headless Chromium)."
    ),
    territory_id: str | None = TERRITORY,
) -> None:
    """Write the hypervisor (or every dashboard) as one static HTML page, French and English,
    from the same queries as Grafana: it opens from a file, with no server. The period is
    bucketed in steps that suit its length (about 150 points)."""
    from datetime import date, timedelta

    from dashboards.catalog import HYPERVISOR
    from reports.bulletin import Period, print_pdf, weigh, write_snapshot
    from vigie.localtime import LocalClock

    settings = _settings_for(territory_id)
    try:
        if from_ or to:
            if not (from_ and to):
                raise ValueError("--from and --to go together")
            clock = LocalClock(_home_timezone(settings))
            first, last = date.fromisoformat(from_), date.fromisoformat(to) + timedelta(1)
            period = Period(start_ms=clock.midnight(first), end_ms=clock.midnight(last))
        else:
            period = Period(since)
        path = write_snapshot(
            settings.influx,
            _dashboards(settings) if all_dashboards else (HYPERVISOR,),
            settings.territory,
            period,
            out,
            _home_timezone(settings),
        )
    except ValueError as exc:
        raise fail(Exit.USAGE, str(exc)) from None
    except OSError as exc:
        raise _influx_unreachable(settings, exc) from None
    weight = weigh(path)
    console.print(
        f"wrote {path}: {weight.kilobytes:.0f} KB, {weight.elements} elements, "
        f"{weight.requests - 1} requests beyond the page, no script; "
        f"EcoIndex {weight.score:.0f} ({weight.grade})"
    )
    if pdf:
        try:
            printed = print_pdf(path, path.with_suffix(".pdf"))
        except OSError as exc:  # FileNotFoundError included: no browser
            raise fail(Exit.STACK, str(exc)) from None
        console.print(f"printed {printed} (A4, one dashboard per page)")


@dashboards_app.command("provision")
def dashboards_provision(
    datasource_url: str = typer.Option(
        None, help="InfluxDB's address as Grafana reaches it (default: VIGIE_INFLUX__URL)."
    ),
) -> None:
    """Upsert the dashboards, their folder, the InfluxDB data source and a read-only team
    for elected officials through Grafana's HTTP API (VIGIE_GRAFANA__URL, __TOKEN_FILE)."""
    from dashboards.provision import ProvisionError, connect, datasource_body, provision

    settings = Settings()
    try:
        api = connect(settings.grafana)
        report = provision(
            api,
            _dashboards(settings),
            datasource_body(settings.influx, datasource_url),
            settings.grafana.folder,
            settings.grafana.viewer_team,
        )
    except ProvisionError as exc:
        raise fail(Exit.CONNECT, str(exc)) from None
    for item in report.created:
        console.print(f"[green]created[/] {item}")
    for item in report.updated:
        console.print(f"updated {item}")


def _authority():
    from shell.security.identities import DeviceAuthority
    from shell.stack import Stack
    from shell.stack.services import SecureMosquitto
    from vigie.registries import Registries

    settings = Settings()
    if settings.registry is None:
        raise fail(Exit.USAGE, "no registry: set VIGIE_REGISTRY to the territory file")
    try:
        served = Registries.load(settings.registry).territories
    except VigieError as exc:
        raise fail_with(exc) from None
    territory = served.get(settings.territory) or next(iter(served.values()))
    stack = Stack(vigie_home())
    broker = stack.service("mosquitto")
    # the identities the running broker enforces (a site's, or the demo's TLS broker's, kept
    # beside its password file), else the home's own security folder
    folder = (
        Path(broker.password_file).parent
        if isinstance(broker, SecureMosquitto)
        else vigie_home() / "security"
    )
    return DeviceAuthority(
        folder,
        territory,
        settings.mqtt.prefix,
        broker_pid=lambda: stack.pid("mosquitto"),
    ), broker


def _default_broker_host() -> str:
    """The first name a site's devices use for it, else loopback."""
    from shell.site.config import SITE_FILE, load

    site = vigie_home() / SITE_FILE
    return load(site).site.mqtt_hosts[0] if site.exists() else "127.0.0.1"


@devices_app.command("provision")
def devices_provision(
    device: list[str] = typer.Argument(..., help="Device ids from the registry."),
    broker_host: str = typer.Option(
        "", help="Address the boards will connect to (default: a site's first --host)."
    ),
    broker_port: int = typer.Option(
        0, help="The broker's TLS port (default: the running local broker's, else 8883)."
    ),
) -> None:
    """Create identities and write each device's bundle (config, CA, password file)."""
    from shell.security.identities import IdentityError
    from shell.stack.services import SecureMosquitto

    authority, broker = _authority()
    port = broker_port or (broker.port if broker is not None else 8883)
    host = broker_host or _default_broker_host()
    if broker is not None and not isinstance(broker, SecureMosquitto):
        raise fail(
            Exit.USAGE,
            "the running broker is the local laboratory's (no TLS, anonymous): its devices "
            "would not be refused once revoked. Put a site into service (vigie site init) "
            "and provision there",
        )
    for device_id in device:
        try:
            bundle = authority.provision(device_id, host, port)
        except IdentityError as exc:
            raise fail(Exit.USAGE, str(exc)) from None
        console.print(f"{device_id}: bundle in {bundle} (copy to the board's /etc/vigie/)")


@devices_app.command("revoke")
def devices_revoke(device: list[str] = typer.Argument(..., help="Device ids.")) -> None:
    """Revoke identities; the broker reloads its files, the platform keeps running."""
    from shell.security.identities import IdentityError
    from shell.stack.services import SecureMosquitto

    authority, broker = _authority()
    if broker is not None and not isinstance(broker, SecureMosquitto):
        raise fail(
            Exit.USAGE,
            "the running broker is the local laboratory's (no TLS, anonymous): it ignores "
            "identities, so a revocation would change nothing. Revoke on a site",
        )
    for device_id in device:
        try:
            told = authority.revoke(device_id)
        except IdentityError as exc:
            raise fail(Exit.USAGE, str(exc)) from None
        console.print(
            f"{device_id}: revoked; "
            + (
                "the running broker disconnected it and refuses it from now on"
                if told
                else "no broker runs now: it will refuse the device when it starts"
            )
        )


@devices_app.command("list")
def devices_list() -> None:
    """Every identity: when provisioned, whether revoked."""
    table = Table("device", "provisioned", "revoked")
    for ident in _authority()[0].identities().values():
        table.add_row(ident.device_id, _when(ident.provisioned_at), _when(ident.revoked_at))
    Console().print(table)


def _when(ms: int | None) -> str:
    import datetime as dt

    return (
        ""
        if ms is None
        else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds")
    )


# -- simulate ---------------------------------------------------------------------------------


# -- demo -------------------------------------------------------------------------------------


@app.command()
def query(
    statement: str = typer.Argument(..., help="An InfluxQL statement, e.g. 'SHOW MEASUREMENTS'."),
) -> None:
    """Ask InfluxDB with the reader's account (read only) and print the rows; exit 1 when
    there are none (no influx client is needed: Debian's InfluxDB 1.6 ships none)."""
    from vigie import influxql

    settings = Settings()
    try:
        rows = influxql.query(settings.influx, statement)
    except OSError as exc:
        raise _influx_unreachable(settings, exc) from None
    except VigieError as exc:
        raise fail_with(exc) from None
    if not rows:
        console.print(f"no rows: {statement}")
        raise typer.Exit(int(Exit.FAILED))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    Console().print(table)
    console.print(f"{len(rows)} rows")


@app.command()
def demo(
    population: int = typer.Option(1000, help="Inhabitants of the simulated commune."),
    hours: float = typer.Option(3.0, help="Simulated period, ending now."),
    speed: float = typer.Option(180.0, help="Simulated seconds per wall second."),
    seed: int = 1,
) -> None:
    """Run a simulated territory through real Mosquitto, Kafka, faust and InfluxDB."""
    from shell.demo import DemoError, run_demo

    try:
        run_demo(population=population, hours=hours, speed=speed, seed=seed)
    except DemoError as exc:
        raise fail(Exit.FAILED, str(exc)) from None


def main() -> None:  # pragma: no cover - console entry
    """``python -m shell``: the ``vigie`` command line."""
    sys.exit(app())
