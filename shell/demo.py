"""``vigie demo``: a simulated commune through the real chain, then a summary a person can read."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from shell.security.acl import ServiceAccount
from shell.security.identities import DeviceAuthority
from shell.stack import Stack, StackError
from shell.stack.components import Components
from shell.stack.services import free_port
from simulators.faults import standard_faults
from simulators.publish import publish
from simulators.scenario import Incident, Scenario
from simulators.simulation import SimulationPlan, run
from simulators.territory import generate
from vigie import influxql
from vigie.contracts import AssetKind, DeadLetter, KafkaTopics, Territory
from vigie.contracts.storage import RAW_RP, at
from vigie.contracts.storage import Measurement as M
from vigie.errors import StorageError, VigieError
from vigie.kafka import read_topic
from vigie.settings import Settings, vigie_home

console = Console()


class DemoError(VigieError):
    """The demo could not complete; the message says where to look."""


def _wait_drained(
    settings: Settings, expected: int, comps: Components, timeout_s: float = 180.0
) -> int:
    """Poll InfluxDB until every valid reading is stored; returns the count found."""
    found = 0
    with Progress(
        TextColumn("[bold]stored in InfluxDB"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("drain", total=expected)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            comps.check_alive()
            try:
                found = int(
                    influxql.scalar(
                        settings.influx, f'SELECT count("value") FROM {at(M.TELEMETRY, RAW_RP)}'
                    )
                )
            except (OSError, StorageError):
                found = 0
            progress.update(task, completed=found)
            if found >= expected:
                return found
            time.sleep(0.5)
    return found


def _road_incidents(territory: Territory, start_ms: int, hours: float) -> Scenario:
    """A road incident on one counter of each of the first two districts that have one, over
    the middle third of the run: congestion raised, then cleared (any time of day)."""
    counters: dict[str, str] = {}
    for asset in territory.assets:
        if asset.kind is AssetKind.TRAFFIC_COUNTER:
            counters.setdefault(asset.district, asset.id)
    third = int(hours * 3_600_000 / 3)
    return Scenario(
        incidents=[
            Incident(counter_id=c, start_ms=start_ms + third, end_ms=start_ms + 2 * third)
            for c in list(counters.values())[:2]
        ]
    )


def _notifications(settings: Settings, territory: Territory, home: Path) -> Path:
    """The messages the notifier sends for the demo's alerts, to a file channel: the same
    store, grouping and templates as ``vigie alerts run``, fed from the alerts topic."""
    from notify.config import NotifyConfig, Route
    from notify.service import Notifier
    from notify.store import Store
    from vigie.registries import Registries

    out, state = home / "notifications.jsonl", home / "notify" / "demo.sqlite"
    for old in (out, state):
        old.unlink(missing_ok=True)
    config = NotifyConfig(routes=[Route(name="demo", channels=[f"file://{out}"])])
    store = Store(state)
    notifier = Notifier(
        settings, config.model_copy(update={"group_window_s": 0.0}), store, Registries.of(territory)
    )
    topic = KafkaTopics(settings.kafka.topic_prefix).alerts
    records = asyncio.run(read_topic(settings.kafka, topic))

    async def run() -> int:
        await notifier.record([r.value for r in records])
        return await notifier.deliver()

    sent = asyncio.run(run())
    notifier.write_ops()  # the alert-operations dashboard's points
    store.close()
    titles = [json.loads(line)["title"] for line in out.read_text().splitlines()] if sent else []
    console.print(
        f"[bold]Notifications[/]: {len(records)} alert events, {sent} messages "
        f"(grouped by kind and district) to {out}"
    )
    for title in titles[:4]:
        console.print(f"  {title}")
    return out


def _summary(
    settings: Settings,
    report_readings: dict[str, int],
    stored: int,
    letters: list[DeadLetter],
    wall_s: float,
    sent: int,
) -> None:
    by_vertical = {
        r["vertical"]: int(r["count"])
        for r in influxql.query(
            settings.influx,
            f'SELECT count("value") FROM {at(M.TELEMETRY, RAW_RP)} GROUP BY "vertical"',
        )
    }
    windows = {
        r["vertical"]: int(r["count"])
        for r in influxql.query(
            settings.influx, f'SELECT count("count") FROM {at(M.AGG_1M)} GROUP BY "vertical"'
        )
    }
    table = Table(
        "vertical",
        "readings sent",
        "readings stored",
        "1-min windows",
        title="Vigie demo: what went through",
    )
    for vertical in sorted(report_readings):
        table.add_row(
            vertical,
            f"{report_readings[vertical]:,}",
            f"{by_vertical.get(vertical, 0):,}",
            f"{windows.get(vertical, 0):,}",
        )
    console.print(table)
    energy_wh = influxql.scalar(
        settings.influx,
        f'SELECT sum("mean") / 60 FROM {at(M.AGG_1M)} WHERE "metric" = \'cabinet_power_w\'',
    )
    water_m3 = influxql.scalar(
        settings.influx,
        f'SELECT sum("mean") / 60 FROM {at(M.AGG_1M)} WHERE "metric" = \'flow_m3h\'',
    )
    peak_flow = influxql.scalar(
        settings.influx,
        f'SELECT max("max") FROM {at(M.AGG_1M)} WHERE "metric" = \'traffic_flow_vehh\'',
    )
    fill = influxql.scalar(
        settings.influx, f'SELECT mean("last") FROM {at(M.AGG_1M)} WHERE "metric" = \'fill_pct\''
    )
    figures = Table("figure", "value", title="Territory over the simulated period")
    figures.add_row("public lighting energy (cabinet meters)", f"{energy_wh / 1000:,.2f} kWh")
    figures.add_row("water distributed (district meters)", f"{water_m3:,.1f} m3")
    figures.add_row("peak road flow at a counter", f"{peak_flow:,.0f} veh/h")
    figures.add_row("mean bin filling level", f"{fill:,.1f} %")
    console.print(figures)
    rejected = Table(
        "reason", "detail", title=f"Dead-letter topic: {len(letters)} rejected payloads"
    )
    for letter in letters:
        rejected.add_row(letter.reason.value, letter.detail[:90])
    console.print(rejected)
    console.print(
        f"[green]{stored:,} of {sum(report_readings.values()):,} valid readings stored "
        f"exactly once[/] ({sent:,} MQTT messages in {wall_s:.0f} s wall time)."
    )


def _balance_and_bulletin(
    settings: Settings, territory: Territory, home: Path, hours: float, seed: int
) -> Path:
    """The balance of the simulated period as the platform measured it, the whole day that
    period stands for (estimated without servers), and the hypervisor as a static page."""
    from datetime import datetime, timedelta

    from dashboards.catalog import HYPERVISOR
    from reports.bulletin import weigh, write_snapshot
    from reports.footprint import compute, write
    from shell.estimate import estimate
    from vigie.localtime import LocalClock

    timezone = territory.timezone
    now = int(time.time() * 1000)
    first = now - int(hours * 3_600_000)
    # the platform's measures cover the simulated hours: the footprint over the same hours
    balance = compute(
        settings.influx, territory.id, first, settings.footprint, now, territory.assets
    )
    write(settings.influx, balance)
    net = balance.net_gco2e
    console.print(
        f"[bold]Balance[/] of the simulated {hours:g} h: savings enabled "
        f"{sum(balance.savings_wh.values()) / 1000:,.1f} kWh against the platform's own use "
        f"{balance.use_wh.mid / 1000:,.2f} kWh and manufacturing "
        f"{balance.manufacturing_gco2e.mid / 1000:,.2f} kg CO2e: net "
        f"{net.mid / 1000:+,.2f} kg CO2e ({net.low / 1000:+,.2f} to {net.high / 1000:+,.2f}; "
        "vigie footprint report)"
    )
    clock = LocalClock(timezone)
    day = datetime.now(clock.zone).date()
    day_ms, day_end = clock.midnight(day), clock.midnight(day + timedelta(days=1))
    whole, _ = estimate(
        territory,
        day_ms,
        settings.footprint,
        seed=seed,
        hours=(day_end - day_ms) / 3_600_000,
    )
    net = whole.net_gco2e
    console.print(
        f"[bold]The whole day[/] it stands for (simulated without servers, lighting savings "
        f"only): {sum(whole.savings_wh.values()) / 1000:,.1f} kWh saved; net "
        f"{net.mid / 1000:+,.2f} kg CO2e ({net.low / 1000:+,.2f} to {net.high / 1000:+,.2f}; "
        "vigie footprint estimate)"
    )
    since = f"{max(1, int(hours) + 1)}h"
    page = write_snapshot(
        settings.influx, (HYPERVISOR,), territory.id, since, home / "bulletin.html", timezone
    )
    weight = weigh(page)
    console.print(
        f"[bold]Bulletin[/]: {weight.kilobytes:.0f} KB, {weight.elements} elements, no script, "
        f"nothing fetched; EcoIndex {weight.score:.0f} ({weight.grade})"
    )
    return page


def run_demo(population: int, hours: float, speed: float, seed: int) -> None:
    """Fresh stack, generated territory, bridge and worker, simulation, summary."""
    home = vigie_home()
    stack = Stack(home)
    stack.down()
    shutil.rmtree(stack.root, ignore_errors=True)
    territory = generate(population, seed)
    # the broker as production runs it: TLS only, no anonymous access, an ACL giving the
    # bridge and the simulator (publishing for every device) only what their roles need
    authority = DeviceAuthority(
        stack.root / "security",
        territory,
        broker_pid=lambda: stack.pid("mosquitto"),
        with_simulator=True,
    )
    ingest_password = authority.service_account(ServiceAccount.INGEST)
    simulator_password = authority.service_account(ServiceAccount.SIMULATOR)
    console.print(f"[bold]Starting the local stack[/] in {stack.root} ...")
    try:
        state = stack.up(mosquitto=authority.broker_service(free_port()))
    except StackError as exc:
        raise DemoError(str(exc)) from exc
    for name, info in state["services"].items():
        console.print(f"  {name:<10} 127.0.0.1:{info['port']}")
    console.print(
        "  MQTT: TLS only (territory CA), no anonymous access, per-role accounts and ACL "
        f"({authority.acl_file})"
    )
    registry = home / "territory.json"
    territory.save(registry)
    console.print(
        f"[bold]Territory[/] {territory.name}: {population:,} inhabitants, "
        f"{len(territory.assets):,} devices in {len(territory.districts)} districts "
        f"({registry})"
    )
    env = {  # for the bridge and the worker
        "VIGIE_REGISTRY": str(registry),
        "VIGIE_TERRITORY": territory.id,
        "VIGIE_HOME": str(home),
        "VIGIE_MQTT__USERNAME": str(ServiceAccount.INGEST),
        "VIGIE_MQTT__PASSWORD_FILE": str(ingest_password),
    }
    base = Settings()  # and the same, for this process
    settings = base.model_copy(
        update={
            "registry": registry,
            "territory": territory.id,
            "mqtt": base.mqtt.model_copy(
                update={"username": str(ServiceAccount.INGEST), "password_file": ingest_password}
            ),
        }
    )
    comps = Components(home, settings, env)
    try:
        console.print("[bold]Starting[/] ingest bridge and stream worker ...")
        comps.start_streams()
        comps.start_ingest()
        now = int(time.time() * 1000)
        plan = SimulationPlan(
            start_ms=now - int(hours * 3_600_000), duration_s=hours * 3600, seed=seed
        )
        scenario = _road_incidents(territory, plan.start_ms, hours)
        emitted = list(run(territory, plan, scenario=scenario))
        faults = standard_faults(territory, now, settings.mqtt.prefix)
        console.print(
            f"[bold]Simulating[/] the last {hours:g} h at {speed:g}x "
            f"({len(emitted):,} batches, {len(faults)} malformed payloads and "
            f"{len(scenario.incidents)} road incident(s) injected)"
        )
        simulator = settings.mqtt.model_copy(
            update={"username": str(ServiceAccount.SIMULATOR), "password_file": simulator_password}
        )
        report = publish(
            emitted,
            simulator,
            territory.id,
            start_ms=plan.start_ms,
            speed=speed,
            total=len(emitted),
            faults=faults,
        )
        stored = _wait_drained(settings, report.readings, comps)
        letters = [
            DeadLetter.model_validate_json(r.value)
            for r in asyncio.run(
                read_topic(settings.kafka, KafkaTopics(settings.kafka.topic_prefix).deadletter)
            )
        ]
        _summary(
            settings,
            report.readings_by_vertical,
            stored,
            letters,
            report.wall_s,
            report.batches + report.faults,
        )
        told = _notifications(settings, territory, home)
        if stored != report.readings:
            raise DemoError(
                f"only {stored:,} of {report.readings:,} readings reached InfluxDB; "
                f"see the logs in {home / 'logs'}"
            )
        bulletin = _balance_and_bulletin(settings, territory, home, hours, seed)
    except StackError as exc:
        raise DemoError(str(exc)) from exc
    finally:
        comps.stop_all()
    console.print(
        "\n[bold]Where to look next[/]\n"
        f"  bulletin: {bulletin}   (open it in a browser: no server needed)\n"
        f"  notices: {told}   (what the on-duty agents would have received)\n"
        "  query:   vigie query 'SHOW MEASUREMENTS'   (InfluxQL, as the read-only account)\n"
        f"  logs:    {home / 'logs'}\n"
        "  servers: vigie stack status    (stop them with: vigie stack down)"
    )
