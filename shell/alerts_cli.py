"""``vigie alerts``: run the notifier, list alerts, show one, acknowledge one, set a maintenance
window."""

from __future__ import annotations

import asyncio
import getpass
import signal
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from notify.channels import redacted
from notify.config import Maintenance, NotifyConfig
from notify.service import Notifier, ops_line
from notify.store import Store
from vigie import influxql, logs
from vigie.contracts.storage import LONG_RP
from vigie.errors import VigieError
from vigie.exits import Exit, fail, fail_with
from vigie.settings import Settings, vigie_home

console = Console()
alerts_app = typer.Typer(
    help="Alerts to people: notifier, list, acknowledge, maintenance windows.",
    no_args_is_help=True,
)


def _store(settings: Settings) -> Store:
    return Store(state_file(settings))


def state_file(settings: Settings) -> Path:
    """Where the notifier keeps its state (default: under VIGIE_HOME)."""
    return settings.notify.state or vigie_home() / "notify" / "state.sqlite"


def _config(settings: Settings) -> NotifyConfig:
    path = settings.notify.config
    if path is None:
        return NotifyConfig()
    try:
        return NotifyConfig.load(path)
    except FileNotFoundError:
        raise fail(Exit.USAGE, f"{path} not found (VIGIE_NOTIFY__CONFIG)") from None
    except ValueError as exc:  # a TOML, JSON or model error, with its place
        raise fail(Exit.USAGE, f"{path}: {exc}") from None


@alerts_app.command("run")
def alerts_run(log_level: str = "INFO") -> None:
    """Run one notifier until SIGTERM (several share the alerts topic's partitions)."""
    from shell.metrics import serve_process_metrics
    from vigie.registries import Registries

    logs.setup(log_level)
    settings = Settings()
    config = _config(settings)
    if not config.routes:
        console.print("no routes (VIGIE_NOTIFY__CONFIG): alerts are recorded, nobody is told")
    try:
        registries = Registries.load(settings.registry) if settings.registry else None
    except VigieError as exc:
        raise fail_with(exc) from None
    # ready once its files are read: what a supervisor waits for
    serve_process_metrics(settings.notify.metrics_port, settings.notify.metrics_host)
    notifier = Notifier(settings, config, _store(settings), registries)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await notifier.run(stop)

    try:
        asyncio.run(main())
    except VigieError as exc:
        raise fail_with(exc) from None
    console.print(
        f"notifier stopped: {notifier.recorded} alert events recorded, {notifier.sent} "
        f"messages sent, {notifier.failed} failed (dead letters)"
    )


@alerts_app.command("list")
def alerts_list(
    state: str | None = typer.Option(None, help="open, acknowledged or cleared."),
) -> None:
    """Alerts as the notifier's store holds them, oldest first."""
    rows = _store(Settings()).alerts(state)
    table = Table("territory", "kind", "subject", "district", "state", "raised", "by", "held")
    for r in rows:
        raised = datetime.fromtimestamp(r["raised_ms"] / 1000).astimezone()
        table.add_row(
            r["territory"], r["kind"], r["subject"], r["district"], r["state"],
            raised.strftime("%Y-%m-%d %H:%M %Z"), r["acked_by"] or "", r["held"] or "",
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} alerts")


def _local(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


@alerts_app.command("show")
def alerts_show(territory: str, kind: str, subject: str) -> None:
    """One alert in full: its lifecycle, the events seen, and every notification about it."""
    store = _store(Settings())
    row, events, told = store.history(territory, kind, subject)
    if row is None:
        raise fail(
            Exit.USAGE, f"{territory} {kind} {subject}: no such alert; see vigie alerts list"
        )
    console.print(
        f"[bold]{territory} {kind} {subject}[/]: {row['state']}, district {row['district']}, "
        f"raised {_local(row['raised_ms'])}, value {row['value']:g} ({row['detail']})"
    )
    if row["acked_ms"]:
        console.print(f"acknowledged by {row['acked_by']} at {_local(row['acked_ms'])}")
    if row["cleared_ms"]:
        console.print(f"cleared at {_local(row['cleared_ms'])}")
    if row["held"]:
        console.print(f"held ({row['held']}): recorded, nobody told")
    if row["escalated"]:
        console.print("escalated: nobody acknowledged it in time")
    table = Table("event", "at")
    for e in events:
        table.add_row(e["state"], _local(e["at_ms"]))
    console.print(table)
    sent = Table("route", "channel", "message", "queued", "attempts", "sent", "failed")
    for t in told:
        sent.add_row(
            t["route"], redacted(t["channel"]), t["state"], _local(t["created_ms"]),
            str(t["attempts"]), _local(t["sent_ms"]), t["failed"] or "",
        )  # fmt: skip
    console.print(sent)
    console.print(f"{len(events)} events, {len(told)} notifications")


@alerts_app.command("ack")
def alerts_ack(
    territory: str,
    kind: str,
    subject: str,
    by: str = typer.Option(None, help="Who takes it in hand (default: this user)."),
) -> None:
    """Take an open alert in hand: it is no longer escalated."""
    settings = Settings()
    who = by or getpass.getuser()
    try:
        change = _store(settings).ack(territory, kind, subject, who, int(time.time() * 1000))
    except LookupError as exc:
        raise fail(Exit.USAGE, f"{exc}; see vigie alerts list --state open") from None
    try:
        influxql.write_lines(settings.influx, [ops_line(change)], LONG_RP)
    except OSError as exc:
        console.print(f"acknowledged, but InfluxDB did not take the point ({exc})")
    minutes = change.wait_ms / 60000
    console.print(f"{territory} {kind} {subject}: acknowledged by {who} after {minutes:.0f} min")


@alerts_app.command("silence")
def alerts_silence(
    territory: str,
    hours: float = typer.Option(..., help="How long, from now."),
    district: str | None = typer.Option(None, help="Every asset of a district ..."),
    asset: str | None = typer.Option(None, help="... or one asset."),
    reason: str = typer.Option("", help="Planned works, what and who."),
) -> None:
    """A maintenance window: alerts inside it are recorded, nobody is told."""
    if not (district or asset):
        raise fail(Exit.USAGE, "name a --district or an --asset")
    start = int(time.time() * 1000)
    window = Maintenance(
        territory=territory,
        district=district,
        asset=asset,
        start_ms=start,
        end_ms=start + int(hours * 3_600_000),
        reason=reason,
    )
    n = _store(Settings()).silence(window, getpass.getuser())
    console.print(f"maintenance window {n}: {district or asset} of {territory} for {hours:g} h")
