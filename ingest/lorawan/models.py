"""Device models: which decoder reads a model's frames and which Vigie metric each of its
fields becomes. One TOML file per model under ``models/``, citing the maker's tables."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ingest.lorawan.decoders import DECODERS
from vigie.contracts import METRICS
from vigie.datafiles import load_folder

FOLDER = Path(__file__).with_name("models")


def _metric(name: str) -> str:
    if name not in METRICS:
        raise ValueError(f"no Vigie metric {name!r}")
    return name


class FieldMap(BaseModel):
    """One decoded field -> one metric: value x scale, or a transform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Annotated[str, AfterValidator(_metric)]
    scale: float = 1.0
    transform: Literal["none", "fill_from_distance"] = "none"
    # the range the maker specifies for this field, in its own unit: a value outside it (or
    # none at all) is the probe failing, never a reading (``sensor_ok`` = 0 instead)
    valid: tuple[float, float] | None = None


class DeviceModel(BaseModel):
    """A model's decoder, its field mapping, and its sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    maker: str
    decoder: str | None = None  # a native decoder (ingest.lorawan.decoders), else the server's
    sources: Annotated[list[str], Field(min_length=1)]
    fields: dict[str, FieldMap]
    ignore: list[str] = []  # decoded fields that are known and deliberately not kept
    # the names a network server's codec gives the fields ("" for a field left alone)
    server_names: dict[str, str] = {}

    @model_validator(mode="after")
    def _known_decoder(self) -> DeviceModel:
        if self.decoder is not None and self.decoder not in DECODERS:
            raise ValueError(f"model {self.name}: no decoder {self.decoder!r}")
        return self


@functools.cache
def load_models(folder: Path = FOLDER) -> dict[str, DeviceModel]:
    """Every model file of the folder, by model name (the file's stem)."""
    return load_folder(folder, DeviceModel)
