"""Data files shipped with the code: a folder of TOML files, each one validated model."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def load_folder(folder: Path, model: type[M]) -> dict[str, M]:
    """Every ``*.toml`` of the folder as ``model``, by file stem (also given as ``name``);
    a file that does not validate raises, naming its field."""
    out = {}
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        out[path.stem] = model.model_validate({"name": path.stem, **data})
    return out
