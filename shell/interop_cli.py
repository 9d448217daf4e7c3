"""``vigie interop``: a territory's assets and latest measurements as NGSI-LD entities
following the Smart Data Models: to files, to a context broker, and back into a registry."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from reports.interop.ngsild import CONTEXT, Latest, entities, import_assets, key_values
from reports.interop.schemas import problems
from vigie.contracts import Territory
from vigie.exits import Exit, fail
from vigie.registries import Registries
from vigie.settings import Settings

console = Console(stderr=True)
interop_app = typer.Typer(
    help="NGSI-LD entities (Smart Data Models): export, push to a context broker, import.",
    no_args_is_help=True,
)
TERRITORY = typer.Option(
    None, "--territory", help="Which served territory (default: VIGIE_TERRITORY)."
)
MEASUREMENTS = typer.Option(
    True, help="Carry the latest measurements (read from InfluxDB): fill levels, failed lamps, "
    "each counter's last hour.",
)  # fmt: skip


def _territory(settings: Settings, territory_id: str | None) -> Territory:
    if settings.registry is None:
        raise fail(Exit.USAGE, "no registry: set VIGIE_REGISTRY to the territory's registry file")
    served = Registries.load(settings.registry).territories
    wanted = territory_id or settings.territory
    if wanted not in served:
        raise fail(Exit.USAGE, f"territory {wanted!r} is not served by {settings.registry}")
    return served[wanted]


def _checked(territory: Territory, measurements: bool, settings: Settings) -> list[dict[str, Any]]:
    """The territory's entities, each checked against its model's schema."""
    latest = Latest()
    if measurements:
        from reports.interop.latest import read_latest

        try:
            latest = read_latest(settings.influx, territory.id, int(time.time() * 1000))
        except OSError as exc:
            raise fail(
                Exit.CONNECT,
                f"InfluxDB at {settings.influx.url} does not answer ({exc}); is the stack up "
                "(vigie stack up)? Or export the assets alone with --no-measurements",
            ) from None
    found = entities(territory, latest)
    wrong = [f"{e['id']}: {p}" for e in found for p in problems(key_values(e))]
    if wrong:
        listed = "\n".join(wrong[:20])
        raise fail(Exit.USAGE, f"{len(wrong)} problems against the Smart Data Models:\n{listed}")
    return found


def _summary(found: list[dict[str, Any]]) -> str:
    return ", ".join(f"{n} {t}" for t, n in sorted(Counter(e["type"] for e in found).items()))


@interop_app.command("export")
def interop_export(
    format_: str = typer.Option("ngsi-ld", "--format", help="ngsi-ld (the one format so far)."),
    out: Path = typer.Option(Path("ngsi-ld"), help="Folder to write."),
    measurements: bool = MEASUREMENTS,
    territory_id: str | None = TERRITORY,
) -> None:
    """Write the entities (normalized NGSI-LD, each with its @context) as one JSON-LD file,
    every entity valid against its Smart Data Model's JSON Schema."""
    if format_ != "ngsi-ld":
        raise fail(Exit.USAGE, f"--format {format_}: only ngsi-ld is written so far")
    settings = Settings()
    territory = _territory(settings, territory_id)
    found = _checked(territory, measurements, settings)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{territory.id}-entities.jsonld"
    path.write_text(json.dumps([{**e, "@context": CONTEXT} for e in found], indent=1))
    console.print(
        f"wrote {path}: {len(found)} entities ({_summary(found)}), each valid against its "
        "Smart Data Model's schema"
    )


@interop_app.command("push")
def interop_push(
    broker: str = typer.Option(..., help="The context broker's address, e.g. http://orion:1026"),
    tenant: str | None = typer.Option(None, help="NGSILD-Tenant, when the broker has several."),
    batch: int = typer.Option(100, min=1, help="Entities per upsert request."),
    measurements: bool = MEASUREMENTS,
    territory_id: str | None = TERRITORY,
) -> None:
    """Upsert the entities into an NGSI-LD context broker, in batches, retrying while it is
    away; ends with what the broker took and what it refused, entity by entity."""
    from reports.interop.push import BrokerError, push

    settings = Settings()
    territory = _territory(settings, territory_id)
    found = _checked(territory, measurements, settings)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        console.print(f"  {done}/{len(found)} entities sent")

    try:
        report = push(broker, found, batch=batch, tenant=tenant, progress=progress)
    except BrokerError as exc:
        raise fail(Exit.CONNECT, str(exc)) from None
    for entity_id, why in list(report.refused.items())[:20]:
        console.print(f"  refused {entity_id}: {why}")
    console.print(
        f"the broker took {len(report.upserted)} of {len(found)} entities and refused "
        f"{len(report.refused)} ({report.requests} requests, {report.retries} retries)"
    )
    if report.refused:
        raise typer.Exit(int(Exit.USAGE))


@interop_app.command("import")
def interop_import(
    entities_file: Path = typer.Argument(..., help="A JSON(-LD) array of NGSI-LD entities."),
    registry: Path = typer.Option(..., help="The territory's registry file to complete."),
    out: Path | None = typer.Option(None, help="Where to write it (default: in place)."),
) -> None:
    """Add the entities' assets to a registry (same ids replaced); groups and observations
    are skipped, entities that cannot be an asset are listed."""
    try:
        found = json.loads(entities_file.read_text(encoding="utf-8"))
        territory = Territory.load(registry)
        merged, refused = import_assets(territory, found)
    except (OSError, ValueError, ValidationError) as exc:
        raise fail(Exit.USAGE, f"{entities_file}: {exc}") from None
    for line in refused[:20]:
        console.print(f"  refused {line}")
    merged.save(out or registry)
    before = {a.id for a in territory.assets}
    added = sum(a.id not in before for a in merged.assets)
    console.print(
        f"{out or registry}: {len(merged.assets)} assets, {added} of them new; "
        f"{len(refused)} entities refused"
    )
