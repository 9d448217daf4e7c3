"""``vigie simulate``, ``vigie replay`` and ``vigie record``: what testers use without hardware."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console

from vigie.contracts import Channel, Territory

if TYPE_CHECKING:
    from simulators.recording import Recorded
from vigie.exits import Exit, fail
from vigie.settings import Settings

console = Console(stderr=True)
simulate_app = typer.Typer(
    help="Simulated territories: generate a registry, then publish (or write) its readings.",
    no_args_is_help=True,
)


def load_registry(path: Path) -> Territory:
    """The territory registry, or a clear error saying how to make one."""
    try:
        return Territory.load(path)
    except FileNotFoundError:
        raise fail(
            Exit.USAGE,
            f"registry {path} not found; create one with `vigie simulate territory --out FILE`",
        ) from None
    except ValidationError as exc:
        raise fail(Exit.USAGE, f"registry {path} is invalid:\n{exc}") from None


@simulate_app.command("territory")
def territory(
    out: Path = typer.Option(..., help="Registry file to write (JSON)."),
    population: int = typer.Option(
        1000, help="Inhabitants; asset counts follow documented ratios (simulators/territory.py)."
    ),
    seed: int = typer.Option(1, help="Same seed, same territory."),
    territory_id: str = typer.Option("demo", "--id", help="Territory id used in topics."),
    lat: float = 45.1885,
    lon: float = 5.7245,
) -> None:
    """Generate a territory registry sized for a population."""
    from simulators.territory import generate

    t = generate(population, seed, territory_id, lat=lat, lon=lon)
    t.save(out)
    console.print(f"wrote {len(t.assets):,} assets in {len(t.districts)} districts to {out}")


@simulate_app.command("run")
def run(
    registry: Path = typer.Option(..., help="Territory registry file."),
    hours: float = typer.Option(2.0, help="Simulated period."),
    start: str = typer.Option("", help="Start time (ISO 8601); default: the period ends now."),
    speed: float = typer.Option(
        0.0,
        help="Simulated seconds per wall second: 1 real time, "
        "60 one hour per minute, 0 as fast as possible.",
    ),
    seed: int = 1,
    scenario: Path | None = typer.Option(None, help="Scenario file (JSON) of injected faults."),
    lamp_failures: int = typer.Option(0, help="Random lamp failures to inject."),
    leaks: int = typer.Option(0, help="Random leaks to inject (one metered area each)."),
    tappings: int = typer.Option(0, help="Unmetered loads on random lighting cabinets."),
    incidents: int = typer.Option(0, help="Road incidents at random counters."),
    silences: int = typer.Option(0, help="Devices going silent for 30 minutes."),
    stuck: int = typer.Option(0, help="Sensors stuck on one value for 30 minutes."),
    skewed: int = typer.Option(0, help="Devices with a clock off by 5-90 s."),
    dropout_rate: float = typer.Option(0.0, help="Fraction of readings lost at the sensor."),
    duplicate_rate: float = typer.Option(0.0, help="Fraction of batches sent twice."),
    malformed: bool = typer.Option(
        False,
        help="Also publish one malformed or hostile payload "
        "of each kind (they must land in the dead-letter topic).",
    ),
    truth: Path | None = typer.Option(None, help="Write the ground truth (JSON) here."),
    out: Path | None = typer.Option(
        None,
        help="Write the messages to this JSON-lines file "
        "instead of publishing (replay it with `vigie replay`).",
    ),
    processes: int = typer.Option(1, help="Spread the devices over this many processes."),
) -> None:
    """Simulate the territory over a period and publish its readings over MQTT."""
    import datetime as dt

    from simulators import recording
    from simulators.publish import publish
    from simulators.scenario import Scenario
    from simulators.simulation import Simulation, SimulationPlan

    terr = load_registry(registry)
    if start:
        start_ms = int(dt.datetime.fromisoformat(start).timestamp() * 1000)
    else:
        start_ms = int(time.time() * 1000) - int(hours * 3_600_000)
    plan = SimulationPlan(start_ms=start_ms, duration_s=hours * 3600, seed=seed)
    end_ms = start_ms + int(hours * 3_600_000)
    scen = (
        Scenario.load(scenario)
        if scenario
        else Scenario.random(
            terr,
            start_ms,
            end_ms,
            seed,
            lamp_failures=lamp_failures,
            leaks=leaks,
            tappings=tappings,
            incidents=incidents,
            silences=silences,
            stuck=stuck,
            skewed=skewed,
            dropout_rate=dropout_rate,
            duplicate_rate=duplicate_rate,
        )
    )
    settings = Settings()
    if processes > 1 and out is None:
        from simulators.scale import publish_parallel

        batches, readings, result, wall = publish_parallel(
            terr, plan, scen, settings.mqtt, speed or None, processes
        )
    else:
        sim = Simulation(terr, plan, scenario=scen)
        t0 = time.monotonic()
        if out is not None:
            with out.open("w") as f:
                batches = recording.write(
                    recording.from_emitted(sim, terr.id, settings.mqtt.prefix), f
                )
        else:
            from simulators.faults import standard_faults

            faults = standard_faults(terr, end_ms, settings.mqtt.prefix) if malformed else None
            batches = publish(
                sim, settings.mqtt, terr.id, start_ms=start_ms, speed=speed or None, faults=faults
            ).batches
        wall = time.monotonic() - t0
        result = sim.finished_truth()
        readings = result.readings_sent
    if truth is not None:
        result.save(truth)
    where = f"wrote to {out}" if out else "published"
    console.print(
        f"{where}: {readings:,} readings in {batches:,} messages in {wall:.1f} s"
        + (f"; ground truth in {truth}" if truth else "")
    )


def replay(
    source: Path = typer.Argument(..., help="A JSON-lines recording, or a CSV file."),
    speed: float = typer.Option(0.0, help="Replay speed (1: as recorded); 0 as fast as possible."),
    registry: Path | None = typer.Option(None, help="CSV: the territory registry."),
    time_column: str = typer.Option("", "--time", help="CSV: timestamp column."),
    device_column: str = typer.Option("", "--device", help="CSV: device id column."),
    device_value: str = typer.Option(
        "", help="CSV: the one device of a file with no device column (a counter's export)."
    ),
    value: list[str] = typer.Option(
        [], help="CSV: METRIC=COLUMN, repeatable, e.g. traffic_flow_vehh=q."
    ),
    time_format: str = typer.Option(
        "iso",
        help="CSV: iso, epoch_s, epoch_ms, or a strptime pattern ('%m/%d/%Y %I:%M:%S %p').",
    ),
    repeated: str = typer.Option(
        "refuse",
        help="CSV: a local time the autumn change repeats: refuse, first (summer time) or second.",
    ),
    delimiter: str = typer.Option(",", help="CSV: field delimiter."),
    device_template: str = typer.Option(
        "{}", help="CSV: device id from the cell, e.g. traffic-{}."
    ),
    timezone: str | None = typer.Option(
        None, help="CSV: IANA time zone of timestamps without an offset, e.g. Europe/Paris."
    ),
    period: int | None = typer.Option(
        None, help="CSV: seconds between a device's readings (default: the shortest step)."
    ),
    history: bool = typer.Option(
        False, help="Recording: send it as history (backfill channel, any age)."
    ),
    wait: float = typer.Option(
        300.0, help="Seconds to wait for the platform to store what was sent (0: do not ask)."
    ),
) -> None:
    """Replay a recording, or import a CSV of real sensor data as history, then report what
    the platform stored and rejected (asked from InfluxDB).

    A CSV is sent on each device's backfill channel (history of any age, numbered by period
    so that gaps show); with authentication, publish as the replayer's service account. Once
    history is stored, the hourly and daily windows of its days are rolled up (InfluxDB's
    continuous queries only roll up the last hours)."""
    from simulators import recording
    from simulators.publish import publish

    settings = Settings()
    territory = settings.territory
    if source.suffix == ".csv":
        from simulators.csv_import import CsvMapping, import_csv

        if registry is None or not time_column or not (device_column or device_value) or not value:
            raise fail(
                Exit.USAGE,
                "a CSV needs --registry, --time, --device (or --device-value) and at least one "
                "--value METRIC=COLUMN",
            )
        terr = load_registry(registry)
        try:
            mapping = CsvMapping(
                time_column,
                device_column or None,
                dict(v.split("=", 1) for v in value),
                time_format,
                delimiter,
                device_template,
                timezone,
                period,
                device_value or None,
                repeated,
            )
            result = import_csv(source, mapping, terr.by_id())
        except ValueError as exc:
            raise fail(Exit.USAGE, str(exc)) from None
        for p in result.problems:
            console.print(f"[yellow]{source}:[/] {p}")
        console.print(
            f"{result.rows:,} rows read: {result.readings:,} values kept, "
            f"{result.values_rejected:,} values and {result.rows_rejected:,} whole rows refused "
            "(listed above)"
        )
        items = list(
            recording.from_emitted(result.emitted, terr.id, settings.mqtt.prefix, Channel.BACKFILL)
        )
        territory, history = terr.id, True
    else:
        items = list(recording.read(source))
        if history:
            items = [recording.as_history(r, settings.mqtt.prefix) for r in items]
    if not items:
        raise fail(Exit.USAGE, f"nothing to replay in {source}")
    started_ms = int(time.time() * 1000)
    report = publish(
        items,
        settings.mqtt,
        settings.territory,
        start_ms=items[0].sim_ms,
        speed=speed or None,
        total=len(items),
    )
    console.print(f"sent {report.batches:,} messages in {report.wall_s:.1f} s")
    if wait > 0:
        span = _platform_report(settings, items, started_ms, wait)
        if history:
            _roll_up(settings, territory, span)


def _roll_up(settings: Settings, territory: str, span: tuple[int, int]) -> None:
    """The hourly and daily windows of the imported days, and what InfluxDB holds of them."""
    from streams.catchup import catch_up, held

    def progress(done: int, total: int) -> None:
        if done % 30 == 0 and done < total:
            console.print(f"  rolling up: {done:,} of {total:,} days", highlight=False)

    try:
        caught = catch_up(settings.influx, territory, *span, on_day=progress)
        hourly, daily = held(settings.influx, territory, *span)
    except OSError as exc:
        raise fail(
            Exit.CONNECT,
            f"InfluxDB at {settings.influx.url} did not answer while rolling up ({exc}): run "
            "the import again, it is counted once",
        ) from None
    console.print(
        f"rolled up {caught.days:,} day{'' if caught.days == 1 else 's'} of history: InfluxDB "
        f"holds {hourly:,} hourly and "
        f"{daily:,} daily windows for those days"
    )


def _platform_report(
    settings: Settings, items: list[Recorded], started_ms: int, wait: float
) -> tuple[int, int]:
    """What InfluxDB holds of the replayed readings; exits non-zero when some are missing.
    Returns the readings' time span."""
    from simulators.accounting import settle
    from simulators.recording import readings_of

    devices, span, sent = readings_of(items)
    if not devices:
        raise fail(
            Exit.FAILED, "no valid reading was sent: see the dead letters (vigie stack status)"
        )
    try:
        seen = settle(
            settings.influx,
            devices,
            span,
            started_ms,
            sent,
            timeout_s=wait,
            on_progress=lambda c: console.print(
                f"  stored so far: {c.stored:,} of {sent:,}", highlight=False
            ),
        )
    except OSError as exc:
        raise fail(
            Exit.CONNECT,
            f"InfluxDB at {settings.influx.url} did not answer ({exc}): is the stack up "
            "(vigie stack status)?",
        ) from None
    rejected = ", ".join(f"{n:,} {reason}" for reason, n in sorted(seen.rejected.items()))
    console.print(
        f"the platform stored {seen.stored:,} of {sent:,} readings sent; dead letters since the "
        f"replay began: {rejected or 'none'}; gaps in imported history: "
        f"{seen.history_gaps:,} missing periods"
    )
    if seen.stored < sent:
        raise fail(
            Exit.FAILED,
            f"{sent - seen.stored:,} readings are not stored: the reasons above say why "
            "(dead letters keep the payloads); are the bridge and worker running?",
        )
    return span


def record(
    out: Path = typer.Option(..., help="JSON-lines file to write."),
    duration: float = typer.Option(60.0, help="Seconds to record."),
    topic_filter: str = typer.Option(
        "", "--filter", help="MQTT filter; default: all telemetry under the prefix."
    ),
) -> None:
    """Record the live MQTT stream to a file, for replay later."""
    from simulators import recording
    from vigie.contracts.topics import telemetry_filter

    settings = Settings()
    with out.open("w") as f:
        n = recording.record(
            settings.mqtt, f, topic_filter or telemetry_filter(settings.mqtt.prefix), duration
        )
    console.print(f"recorded {n:,} messages to {out}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(simulate_app())
