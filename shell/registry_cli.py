"""``vigie registry``: build a territory's registry from real inventories, check it, show it,
and print its JSON Schema."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

import vigie.contracts
from vigie.contracts import AssetKind, Territory
from vigie.errors import VigieError
from vigie.exits import Exit, fail, fail_with
from vigie.localtime import DEFAULT_TIMEZONE

console = Console(stderr=True)
registry_app = typer.Typer(
    help="Territory registries: import inventories (CSV, GeoJSON), validate, show, schema.",
    no_args_is_help=True,
)
SCHEMA = Path(vigie.contracts.__file__).parent / "territory.schema.json"


def schema_text() -> str:
    """The registry's JSON Schema, generated from its model."""
    return json.dumps(Territory.model_json_schema(), indent=1, sort_keys=True) + "\n"


def _series(territory: Territory, *, refuse: bool) -> None:
    """Print the series the registry makes in InfluxDB against the budget; over it, refuse
    (import, validate) or warn (show)."""
    from shell.cardinality import series_of
    from vigie.settings import Settings

    budget = Settings().influx.max_series
    estimate = series_of(territory)
    line = (
        f"InfluxDB series at most: {estimate.total:,} "
        f"({estimate.total / budget:.1%} of the budget of {budget:,}, VIGIE_INFLUX__MAX_SERIES)"
    )
    if not estimate.over(budget):
        console.print(line)
        return
    advice = (
        f"{line}: over the budget. Size InfluxDB for it (InfluxData's guide: 4-6 cores and "
        "8-32 GB of RAM up to 1 M series on one 1.x node; more takes a larger node or a "
        "cluster) and raise VIGIE_INFLUX__MAX_SERIES, or serve the territory as several "
        "registries, each with its own database"
    )
    if refuse:
        raise fail(Exit.USAGE, advice)
    console.print(f"[yellow]warning:[/] {advice}")


def _load(path: Path) -> Territory:
    from vigie.catalogue import declare_beside

    try:
        declare_beside(path)  # the metrics its sensors may name
        territory = Territory.load(path)
    except FileNotFoundError:
        raise fail(Exit.USAGE, f"{path} not found: start one with vigie registry import") from None
    except VigieError as exc:  # its catalogue
        raise fail_with(exc) from None
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:20]
        ]
        raise fail(Exit.USAGE, f"{path} is not a valid registry:\n" + "\n".join(lines)) from None
    unknown = unknown_models(territory)
    if unknown:
        raise fail(Exit.USAGE, f"{path}:\n" + "\n".join(f"  {u}" for u in unknown))
    return territory


def unknown_models(territory: Territory) -> list[str]:
    """Each asset naming a LoRaWAN model or a Modbus register map this installation does not
    have, with the installed ones: found here, not by a bridge refusing every uplink later."""
    from edge.drivers.modbus_map import load_maps
    from ingest.lorawan.models import load_models
    from vigie.contracts.metrics import METRICS

    models, maps = load_models(), load_maps()
    out = []
    for asset in territory.assets:
        for metric in asset.measures or ():
            spec = METRICS.get(metric)
            if spec is None:
                out.append(
                    f"{asset.id}: no metric {metric!r} in the catalogue; declare it in the "
                    "metrics.toml beside the registry (vigie registry metrics)"
                )
            elif spec.vertical not in (asset.vertical, None):
                out.append(f"{asset.id}: {metric} belongs to {spec.vertical}, not {asset.vertical}")
        if asset.lorawan is not None and asset.lorawan.model not in models:
            out.append(
                f"{asset.id}: no LoRaWAN model {asset.lorawan.model!r}; installed: "
                f"{', '.join(sorted(models))} (ingest/lorawan/models)"
            )
        if asset.modbus is not None and asset.modbus.map not in maps:
            out.append(
                f"{asset.id}: no Modbus register map {asset.modbus.map!r}; installed: "
                f"{', '.join(sorted(maps))} (edge/drivers/modbus_maps)"
            )
    return out


@registry_app.command("import")
def registry_import(
    source: Path = typer.Argument(..., help="Inventory: CSV, or GeoJSON of points."),
    into: Path = typer.Option(..., help="Registry file to add to (created if absent)."),
    kind: AssetKind | None = typer.Option(None, help="What every row is (e.g. lamp)."),
    id_column: str = typer.Option("", "--id", help="Column (or property) of the identifier."),
    id_template: str = typer.Option("{}", help="Asset id from it, e.g. lamp-{}."),
    district: str | None = typer.Option(None, help="Column of the district."),
    district_value: str = typer.Option("territory", help="District when there is no column."),
    lat: str | None = typer.Option(None, help="Latitude column (GeoJSON: the point)."),
    lon: str | None = typer.Option(None, help="Longitude column (GeoJSON: the point)."),
    cabinet: str | None = typer.Option(None, help="Lamps: column of the feeding cabinet."),
    cabinet_template: str = typer.Option("{}", help="Cabinet id from it, e.g. cab-{}."),
    power: str | None = typer.Option(None, help="Lamps: column of the nominal power (W)."),
    power_value: float | None = typer.Option(None, help="Lamps: one nominal power for all."),
    capacity: str | None = typer.Option(None, help="Bins: column of the capacity (l)."),
    capacity_value: float | None = typer.Option(None, help="Bins: one capacity for all."),
    dma: str | None = typer.Option(None, help="Water: column of the metered area."),
    delimiter: str = typer.Option(",", help="CSV field delimiter."),
    dev_eui: str | None = typer.Option(None, help="LoRaWAN: column of the DevEUI."),
    lorawan_model: str | None = typer.Option(
        None, help="LoRaWAN: the device model for all rows (vigie registry models lists them)."
    ),
    empty_distance_mm: float | None = typer.Option(
        None, help="Distance sensors over a container: the distance read when empty (mm)."
    ),
    full_distance_mm: float | None = typer.Option(None, help="... and when full (mm)."),
    modbus_unit: str | None = typer.Option(None, help="Modbus meters: column of the unit."),
    modbus_map: str | None = typer.Option(None, help="Modbus meters: the register map for all."),
    counter_site: str | None = typer.Option(
        None, help="Bicycle and pedestrian counters: column of the counting site of a channel."
    ),
    direction: str | None = typer.Option(
        None, help="Counter channels: column of where users head (N, NE, E, SE, S, SW, W, NW)."
    ),
    direction_name: str | None = typer.Option(
        None, help="Counter channels: column of the site's own words for the direction."
    ),
    mapping_file: Path | None = typer.Option(
        None, "--mapping", help="A JSON mapping file instead of the options above."
    ),
    territory: str | None = typer.Option(None, help="New registry: territory id."),
    name: str | None = typer.Option(None, help="New registry: territory name."),
    centre: str | None = typer.Option(None, help="New registry: LAT,LON of its centre."),
    timezone: str = typer.Option(DEFAULT_TIMEZONE, help="New registry: IANA time zone."),
) -> None:
    """Add an inventory's assets to a registry; every row refused is listed with its line."""
    from shell.inventory import InventoryMapping, import_inventory

    if mapping_file is not None:
        try:
            mapping = InventoryMapping.from_file(mapping_file)
        except (OSError, ValueError) as exc:
            raise fail(Exit.USAGE, str(exc)) from None
    elif kind is None or not id_column:
        raise fail(Exit.USAGE, "give --kind and --id (or a --mapping file)")
    else:
        mapping = InventoryMapping(
            kind, id_column, id_template, district, district_value, lat, lon, cabinet,
            cabinet_template, power, power_value, capacity, capacity_value, dma, delimiter,
            dev_eui=dev_eui, lorawan_model_value=lorawan_model,
            empty_distance_mm_value=empty_distance_mm, full_distance_mm_value=full_distance_mm,
            modbus_unit=modbus_unit, modbus_map_value=modbus_map, counter_site=counter_site,
            direction=direction, direction_name=direction_name,
        )  # fmt: skip
    if into.exists():
        base = _load(into)
    else:
        if not (territory and name and centre):
            raise fail(
                Exit.USAGE,
                f"{into} does not exist yet: give --territory, --name and --centre LAT,LON",
            )
        try:
            c_lat, c_lon = (float(x) for x in centre.split(","))
            base = Territory(
                id=territory, name=name, lat=c_lat, lon=c_lon, timezone=timezone,
                districts=[], assets=[],
            )  # fmt: skip
        except (ValueError, ValidationError) as exc:
            raise fail(Exit.USAGE, f"new registry: {exc}") from None
    try:
        result = import_inventory(source, mapping, base)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(Exit.USAGE, f"{source}: {exc}") from None
    for problem in result.problems:
        console.print(f"[yellow]{source}:[/] {problem}")
    _series(result.territory, refuse=True)  # nothing saved when over the budget
    unknown = unknown_models(result.territory)
    if unknown:
        raise fail(Exit.USAGE, "nothing saved:\n" + "\n".join(f"  {u}" for u in unknown))
    result.territory.save(into)
    where = ", ".join(f"{n:,} {how}" for how, n in sorted(result.located.items()))
    console.print(
        f"{into}: {result.added:,} {mapping.kind} assets added ({where or 'none'} positions), "
        f"{len(result.problems):,} rows refused; the registry now holds "
        f"{len(result.territory.assets):,} assets in {len(result.territory.districts):,} "
        "districts"
    )


@registry_app.command("validate")
def registry_validate(path: Path = typer.Argument(..., help="Registry file.")) -> None:
    """Check a registry (and the metric catalogue beside it) against their schemas and their
    own consistency."""
    from vigie.catalogue import catalogue_path, read_catalogue

    territory = _load(path)  # the catalogue beside it first
    catalogue = read_catalogue(catalogue_path(path)) if catalogue_path(path).is_file() else None
    if catalogue is not None:
        console.print(f"{catalogue.path}: valid, {len(catalogue.metrics)} declared metrics")
    console.print(f"{path}: valid, {len(territory.assets):,} assets")
    _series(territory, refuse=True)


@registry_app.command("models")
def registry_models() -> None:
    """The LoRaWAN device models and Modbus register maps this installation reads, and the
    keys a --mapping file may hold."""
    from edge.drivers.modbus_map import load_maps
    from ingest.lorawan.models import load_models
    from shell.inventory import InventoryMapping

    for name, model in sorted(load_models().items()):
        console.print(f"lorawan model {name}: {model.maker}, fields {', '.join(model.fields)}")
    for name, regmap in sorted(load_maps().items()):
        console.print(f"modbus map {name}: {regmap.maker} {regmap.model}")
    console.print(f"mapping file keys: {', '.join(InventoryMapping.keys())}")


@registry_app.command("metrics")
def registry_metrics(
    registry: Path | None = typer.Argument(
        None, help="Registry file or folder (default: VIGIE_REGISTRY); its metrics.toml is read."
    ),
) -> None:
    """The metric catalogue: the built-in metrics, then those the territory declares in the
    metrics.toml beside its registry (checked; a wrong file exits 2 naming the entry)."""
    from vigie.catalogue import declare_beside
    from vigie.contracts.metrics import BUILTIN, METRICS
    from vigie.settings import Settings

    where = registry or Settings().registry
    table = Table("metric", "unit", "vertical", "kind", "window", "bounds", "smart data models")
    declared_in = None
    try:
        catalogue = declare_beside(where) if where is not None else None
    except VigieError as exc:
        raise fail_with(exc) from None
    if catalogue is not None:
        declared_in = f"{catalogue.path}, version {catalogue.version}"
    for spec in METRICS.values():
        table.add_row(
            spec.name if spec.name in BUILTIN else f"[bold]{spec.name}[/]", spec.unit,
            spec.vertical or "any", spec.kind, spec.combine,
            f"{spec.minimum:g} .. {spec.maximum:g}", spec.fiware,
        )  # fmt: skip
    console.print(table)
    extra = len(METRICS) - len(BUILTIN)
    console.print(
        f"{len(BUILTIN)} built-in metrics"
        + (f", {extra} declared in {declared_in}" if declared_in else "; no metrics.toml beside "
           f"{where or 'the registry (VIGIE_REGISTRY is not set)'}")
    )  # fmt: skip


@registry_app.command("show")
def registry_show(path: Path = typer.Argument(..., help="Registry file.")) -> None:
    """What a registry holds: assets by kind and district, and how they are located."""
    territory = _load(path)
    table = Table("district", *(k.value for k in AssetKind))
    per = Counter((a.district, a.kind) for a in territory.assets)
    for d in territory.districts:
        table.add_row(d.name, *(str(per[(d.id, k)] or "") for k in AssetKind))
    console.print(table)
    located = Counter(a.located for a in territory.assets)
    console.print(
        f"{territory.name} ({territory.id}), {territory.timezone}: {len(territory.assets):,} "
        f"assets; positions: " + ", ".join(f"{n:,} {k}" for k, n in sorted(located.items()))
    )
    _series(territory, refuse=False)


@registry_app.command("schema")
def registry_schema() -> None:
    """Print the registry's JSON Schema (shipped as vigie/contracts/territory.schema.json)."""
    typer.echo(schema_text(), nl=False)
