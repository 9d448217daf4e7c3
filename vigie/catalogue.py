"""A territory's own metrics: the catalogue file beside its registry, read and declared.

Vigie's built-in metrics (``vigie.contracts.metrics``) cover lighting, water, waste, road
traffic and active mobility. A sensor they do not cover (a noise station, an air-quality
probe, a river gauge) is declared in ``metrics.toml`` beside the registry, without code::

    version = 2                      # the territory's own number; raise it with each change

    [[metric]]
    name = "noise_dba"               # lowercase, ends with its unit
    unit = "dB[A]"                   # a UCUM code (printable ASCII, no space)
    vertical = "mobility"            # the MQTT subtree and Kafka topic it travels in
    kind = "gauge"                   # gauge (mean), count (per period: sum), index (last)
    minimum = 20
    maximum = 140
    description = "Equivalent sound level over the period"
    fiware = "NoiseLevelObserved.LAeq"   # the Smart Data Models attribute, if any

Every process that loads the registry declares the file's metrics: the bridge validates them
with their bounds, workers window them, dashboards draw a panel for each, open data and
NGSI-LD export them. A reading of a metric in neither catalogue stays a dead letter
(``unknown_metric``). Metrics are only ever added: a name, once declared, keeps its meaning.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from vigie.contracts.metrics import (
    BUILTIN,
    METRIC_SLOTS,
    METRICS,
    CatalogueClash,
    MetricKind,
    MetricSpec,
    Vertical,
    declare,
)
from vigie.errors import UsageError

CATALOGUE_FILE = "metrics.toml"


class CatalogueError(UsageError, ValueError):
    """A catalogue file that cannot be read or contradicts the built-in metrics (exit 2)."""


class DeclaredMetric(BaseModel):
    """One ``[[metric]]`` table of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$", max_length=48)]
    unit: Annotated[str, Field(pattern=r"^[!-~]{1,32}$")]
    vertical: Vertical
    kind: MetricKind
    minimum: float
    maximum: float
    description: Annotated[str, Field(min_length=1, max_length=200)]
    fiware: Annotated[str, Field(pattern=r"^[A-Z][A-Za-z]+\.[A-Za-z][A-Za-z0-9]*$")] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> DeclaredMetric:
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)):
            raise ValueError("minimum and maximum must be finite numbers")
        if self.minimum >= self.maximum:
            raise ValueError(f"minimum {self.minimum} is not below maximum {self.maximum}")
        return self

    def spec(self) -> MetricSpec:
        return MetricSpec(
            self.name,
            self.unit,
            self.vertical,
            self.kind,
            self.minimum,
            self.maximum,
            self.description,
            self.fiware or "",
        )


class CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[int, Field(ge=1)]
    metric: Annotated[list[DeclaredMetric], Field(max_length=METRIC_SLOTS)] = []


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A territory's declared metrics and the file's version."""

    path: Path
    version: int
    metrics: tuple[MetricSpec, ...]


def catalogue_path(registry: Path) -> Path:
    """Where the catalogue of a registry file, or of a folder of registries, lives."""
    registry = Path(registry)
    return (registry if registry.is_dir() else registry.parent) / CATALOGUE_FILE


def _where(error: ErrorDetails, raw: dict[str, object]) -> str:
    loc = error["loc"]
    if len(loc) >= 2 and loc[0] == "metric" and isinstance(loc[1], int):
        entries = raw.get("metric")
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        name = f" ({entry.get('name', '?')})" if isinstance(entry, dict) else ""
        field = ".".join(str(p) for p in loc[2:]) or "the table"
        return f"metric table {loc[1] + 1}{name}, {field}"
    return ".".join(str(p) for p in loc) or "the top"


def read_catalogue(path: Path) -> Catalogue:
    """Read and check a catalogue file; the error names the file, the entry and the fix."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CatalogueError(f"catalogue {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"catalogue {path} cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:  # its message names the line and column
        raise CatalogueError(f"catalogue {path}: {exc}; correct that line") from None
    try:
        parsed = CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise CatalogueError(
            f"catalogue {path}: {_where(first, raw)}: "
            f"{first['msg'].removeprefix('Value error, ')}; correct it, then check "
            "with `vigie registry metrics`"
        ) from None
    names = [m.name for m in parsed.metric]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CatalogueError(f"catalogue {path}: {', '.join(twice)} declared twice")
    return Catalogue(Path(path), parsed.version, tuple(m.spec() for m in parsed.metric))


def declare_catalogue(catalogue: Catalogue) -> tuple[MetricSpec, ...]:
    """Add the catalogue's metrics to this process's; a clash is a CatalogueError."""
    try:
        return declare(catalogue.metrics)
    except CatalogueClash as exc:
        raise CatalogueError(
            f"catalogue {catalogue.path}: {exc}; give the territory's metric another name"
        ) from None


def declare_beside(registry: Path) -> Catalogue | None:
    """Declare the catalogue beside a registry, if there is one."""
    path = catalogue_path(registry)
    if not path.is_file():
        return None
    catalogue = read_catalogue(path)
    declare_catalogue(catalogue)
    return catalogue


def declared() -> tuple[MetricSpec, ...]:
    """The metrics this process knows beyond the built-in ones, in declaration order."""
    return tuple(spec for name, spec in METRICS.items() if name not in BUILTIN)
