"""Per-vertical batch schemas compiled from the metric registry, for the validation fast path.

Each vertical gets a batch model whose readings are a union discriminated by ``metric``, each
member carrying that metric's physical bounds, so that pydantic-core checks names, vertical and
bounds in one pass over the JSON bytes, with no Python loop per reading. A territory's declared
metrics (``vigie.catalogue``) make the schemas again, once, the next time one is asked for.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, create_model, with_config
from typing_extensions import TypedDict

from vigie.contracts import TelemetryBatch, Vertical
from vigie.contracts.envelope import MAX_READINGS_PER_BATCH, STRICT, EpochMs
from vigie.contracts.metrics import METRICS, MetricSpec, metrics_of


def _reading_type(spec: MetricSpec) -> Any:
    value = Annotated[float, Field(ge=spec.minimum, le=spec.maximum, allow_inf_nan=False)]
    return with_config(STRICT)(
        TypedDict(  # type: ignore[operator]  # one reading type per metric, made at import
            f"Reading_{spec.name}",
            {"ts_ms": EpochMs, "metric": Literal[spec.name], "value": value},
        )
    )


def _batch_model(vertical: Vertical) -> type[TelemetryBatch]:
    members = tuple(_reading_type(spec) for spec in metrics_of(vertical))
    reading = Annotated[Union[members], Field(discriminator="metric")]  # type: ignore[valid-type]  # noqa: UP007
    readings = Annotated[list[reading], Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)]
    return create_model(
        f"TelemetryBatch_{vertical}", __base__=TelemetryBatch, readings=(readings, ...)
    )


_COMPILED: dict[Vertical, tuple[int, TypeAdapter[TelemetryBatch]]] = {}


def batch_of(vertical: Vertical) -> TypeAdapter[TelemetryBatch]:
    """The vertical's batch schema for the catalogue as it stands (it only ever grows)."""
    size = len(METRICS)
    compiled = _COMPILED.get(vertical)
    if compiled is None or compiled[0] != size:
        compiled = _COMPILED[vertical] = (size, TypeAdapter(_batch_model(vertical)))
    return compiled[1]
