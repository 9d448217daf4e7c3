"""``vigie site``: put a territory into service on one server, and keep it there."""

from __future__ import annotations

import getpass
import shutil
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vigie.errors import VigieError
from vigie.exits import Exit, fail, fail_with
from vigie.settings import vigie_home

console = Console(stderr=True)
site_app = typer.Typer(
    help="One server of a territory: init, up, status, install, backup, restore.",
    no_args_is_help=True,
)

DIR = typer.Option(None, "--dir", help="The site's folder (default: VIGIE_HOME).")


def _home(folder: Path | None) -> Path:
    return (folder or vigie_home()).resolve()


@site_app.command("init")
def site_init(
    registry: Path = typer.Option(..., help="The territory's registry file (or a folder)."),
    host: list[str] = typer.Option(
        ...,
        help="A name or address devices use for this server (repeat; all go in its certificate).",
    ),
    folder: Path | None = DIR,
    name: str = typer.Option("", help="The site's name (default: the territory's)."),
    address: str = typer.Option(
        "0.0.0.0",  # noqa: S104  # devices on the network reach it
        help="The address MQTT's TLS listener binds (default: every interface).",
    ),
    mqtt_port: int = typer.Option(8883, help="MQTT over TLS, for devices."),
    mqtt_local_port: int = typer.Option(1883, help="MQTT on loopback, for the platform."),
    kafka_port: int = typer.Option(9092, help="The Kafka-compatible broker (loopback)."),
    influx_port: int = typer.Option(8086, help="InfluxDB's HTTP API (loopback)."),
    influx_rpc_port: int = typer.Option(8088, help="InfluxDB's backup port (loopback)."),
    metrics_port: int = typer.Option(9400, help="First Prometheus port, one per process."),
    bridges: int = typer.Option(1, help="Ingest bridges."),
    workers: int = typer.Option(1, help="Stream workers."),
    lorawan: list[str] = typer.Option([], help="A LoRaWAN network server: chirpstack or tts."),
    notify_config: Path | None = typer.Option(
        None, help="The notifier's routes (TOML); with it, the site runs a notifier."
    ),
    simulator: bool = typer.Option(
        False, help="An account that publishes for every device (test sites only)."
    ),
) -> None:
    """Make a site: its file (site.toml), a copy of the registry, the territory CA, the
    broker certificate for --host names, and the service accounts. Run once."""
    from pydantic import ValidationError

    from shell.site.config import SITE_FILE, Site, SitePorts
    from shell.site.operations import init

    home = _home(folder)
    if (home / SITE_FILE).exists():
        raise fail(Exit.USAGE, f"{home / SITE_FILE} exists: this folder is a site already")
    extra = {}
    if notify_config is not None:  # kept in the site, so that backups hold it
        if not notify_config.is_file():
            raise fail(Exit.USAGE, f"--notify-config {notify_config}: no such file")
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notify_config, home / "notify.toml")
        extra["notify"] = {"config": str(home / "notify.toml")}
    try:
        site = Site(
            name=name or home.name,
            mqtt_address=address,
            mqtt_hosts=host,
            ports=SitePorts(
                mqtt=mqtt_port,
                mqtt_local=mqtt_local_port,
                kafka=kafka_port,
                influx=influx_port,
                influx_rpc=influx_rpc_port,
                metrics_first=metrics_port,
            ),
            bridges=bridges,
            workers=workers,
            lorawan=lorawan,  # type: ignore[arg-type]  # checked by the model
            notifier=notify_config is not None,
        )
        made = init(home, registry.resolve(), site, extra, simulator)
    except ValidationError as exc:
        raise fail(Exit.USAGE, "; ".join(e["msg"] for e in exc.errors())) from None
    except VigieError as exc:
        raise fail_with(exc) from None
    console.print(f"site {made.site.name} made in {home} for territory {made.territory}")
    console.print(f"  configuration: {home / 'site.toml'}")
    console.print(f"  identities:    {home / 'security'} (CA, broker certificate, accounts)")
    for role, port in made.site.ports_in_use().items():
        console.print(f"  {role:<22} port {port}")
    console.print(f"next: VIGIE_HOME={home} vigie site up   (or: vigie site install)")


@site_app.command("up")
def site_up(folder: Path | None = DIR) -> None:
    """Start the site: servers, bridges, workers, notifier, LoRaWAN bridges, supervised."""
    from shell.site.operations import up
    from shell.stack.launcher import ExitedAtStart

    home = _home(folder)
    try:
        up(home)
    except ExitedAtStart as exc:  # its own exit code: 2 for a file it cannot use
        code = Exit.USAGE if exc.code == Exit.USAGE else Exit.STACK
        raise fail(code, str(exc)) from None
    except VigieError as exc:
        raise fail_with(exc) from None
    _print_status(home)


@site_app.command("run")
def site_run(folder: Path | None = DIR) -> None:
    """The site in the foreground, supervised by this process (for systemd)."""
    from shell.site.operations import run
    from vigie import logs

    logs.setup("INFO")
    try:
        run(_home(folder))
    except VigieError as exc:
        raise fail_with(exc) from None


@site_app.command("down")
def site_down(folder: Path | None = DIR) -> None:
    """Stop every server and process of the site (data and identities stay)."""
    from shell.site.operations import down

    down(_home(folder))
    console.print("site stopped")


@site_app.command("status")
def site_status(folder: Path | None = DIR) -> None:
    """The supervisor and each server and process: running, answering, restarts, last exit."""
    home = _home(folder)
    if not _print_status(home):
        raise typer.Exit(int(Exit.STACK))


def _print_status(home: Path) -> bool:
    from shell.site.operations import status

    try:
        sup, rows = status(home)
    except VigieError as exc:
        raise fail_with(exc) from None
    if not rows:
        console.print(f"[red]the site in {home} is not running:[/] vigie site up --dir {home}")
        return False
    table = Table("process", "pid", "port", "running", "answers", "restarts", "last exit")
    table.add_row(
        "supervisor",
        str(sup.get("pid", "")),
        "",
        str(sup["running"]),
        "",
        str(sup.get("restarts", 0)),
        _exit_text(sup),
    )
    for name, r in rows.items():
        table.add_row(
            name,
            str(r["pid"] or ""),
            str(r["port"] or ""),
            str(r["running"]),
            str(r["answers"]),
            str(r.get("restarts", 0)),
            _exit_text(r),
        )
    Console().print(table)
    for name, r in rows.items():
        if r.get("stopped"):
            console.print(f"[red]{name} stopped (exit 2), not restarted:[/] {r['stopped']}")
    healthy = sup["running"] and all(r["running"] and r["answers"] for r in rows.values())
    console.print("all running" if healthy else "[red]not everything runs[/]")
    return healthy


def _exit_text(row: dict[str, object]) -> str:
    if "last_exit_at" not in row:
        return ""
    code = row.get("last_exit")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(str(row["last_exit_at"]))))
    return f"{'killed/unknown' if code is None else code} at {when}"


@site_app.command("install")
def site_install(
    folder: Path | None = DIR,
    units: Path = typer.Option(Path("/etc/systemd/system"), help="Where to write the units."),
    user: str = typer.Option("", help="The account the site runs as (default: yours)."),
    backup_at: str = typer.Option("*-*-* 02:30:00", help="The backup's systemd calendar."),
) -> None:
    """Write the systemd units: the site (supervised, restarted), its nightly backup."""
    from shell.site.config import SITE_FILE, load
    from shell.site.units import backup_units, site_unit

    home = _home(folder)
    try:
        load(home / SITE_FILE)
    except VigieError as exc:
        raise fail_with(exc) from None
    found = shutil.which("vigie") or str(Path(sys.executable).with_name("vigie"))
    vigie = Path(found).resolve()
    who = user or getpass.getuser()
    units.mkdir(parents=True, exist_ok=True)
    service, timer = backup_units(home, vigie, who, backup_at)
    for unit, text in (
        ("vigie-site.service", site_unit(home, vigie, who)),
        ("vigie-site-backup.service", service),
        ("vigie-site-backup.timer", timer),
    ):
        (units / unit).write_text(text)
        console.print(f"wrote {units / unit}")
    console.print(
        "next: systemctl daemon-reload && systemctl enable --now vigie-site vigie-site-backup.timer"
    )


@site_app.command("backup")
def site_backup(
    folder: Path | None = DIR,
    out: Path | None = typer.Option(
        None, help="Folder for the archive (default: the site's backups/, pruned)."
    ),
) -> None:
    """Back up the running site: InfluxDB (portable), registries, identities, the notifier's
    store, LoRaWAN states; one archive (mode 0600: it holds secrets)."""
    from shell.site.backup import backup

    try:
        archive = backup(_home(folder), out)
    except VigieError as exc:
        raise fail_with(exc) from None
    console.print(
        f"backup {archive.path}: {archive.files} files, {archive.bytes / 1e6:.1f} MB in "
        f"{archive.seconds:.1f} s"
    )


@site_app.command("restore")
def site_restore(
    archive: Path = typer.Argument(..., help="An archive made by vigie site backup."),
    folder: Path | None = DIR,
) -> None:
    """Restore a backup into a folder that is not a site yet; then: vigie site up."""
    from shell.site.backup import restore

    home = _home(folder)
    try:
        manifest = restore(archive.resolve(), home)
    except VigieError as exc:
        raise fail_with(exc) from None
    console.print(
        f"restored site {manifest['site']} of {manifest['created_at']} into {home}: "
        f"{manifest['files']} files and database {manifest['database']} in "
        f"{manifest['seconds']} s"
    )
    console.print(f"next: vigie site up --dir {home}")
