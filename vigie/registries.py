"""The territories one platform serves, each with its registry. ``VIGIE_REGISTRY`` names a
registry file, or a folder of them (one ``<territory>.json`` per territory). The metric
catalogue beside it (``metrics.toml``, ``vigie.catalogue``) is declared when it is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from vigie.catalogue import declare_beside
from vigie.contracts import Asset, Territory
from vigie.errors import UsageError


class RegistryError(UsageError, ValueError):
    """A registry file that is missing or cannot be read; names the file, the place and the fix
    (exit 2: a service manager does not start the process again until it is corrected)."""


def _load_one(file: Path) -> Territory:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise RegistryError(
            f"registry {file} not found: set VIGIE_REGISTRY to a territory file or folder "
            "(vigie registry import, or vigie simulate territory --out FILE)"
        ) from None
    except OSError as exc:
        raise RegistryError(f"registry {file} cannot be read ({exc.strerror})") from None
    try:
        return Territory.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "json_invalid":  # its message names the line and column
            raise RegistryError(
                f"registry {file}: {first['msg']}; correct that line, then check it with "
                "`vigie registry validate FILE`"
            ) from None
        raise RegistryError(
            f"registry {file}: {exc.error_count()} error(s), the first at {where or 'the top'}: "
            f"{first['msg']}; correct it, then check with `vigie registry validate FILE`"
        ) from None


@dataclass(frozen=True)
class Registries:
    territories: Mapping[str, Territory]
    _assets: dict[str, dict[str, Asset]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_assets", {t: terr.by_id() for t, terr in self.territories.items()}
        )

    def assets(self, territory: str) -> Mapping[str, Asset] | None:
        """A territory's assets by device id; None when the platform does not serve it."""
        return self._assets.get(territory)

    @classmethod
    def of(cls, *territories: Territory) -> Registries:
        return cls({t.id: t for t in territories})

    @classmethod
    def load(cls, path: Path) -> Registries:
        """A registry file, or every ``*.json`` of a folder; two files of one territory are
        an error, not a silent merge."""
        path = Path(path)
        declare_beside(path)  # first: a registry may hold devices that send declared metrics
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        found: dict[str, Territory] = {}
        for file in files:
            territory = _load_one(file)
            if territory.id in found:
                raise RegistryError(
                    f"{file}: territory {territory.id!r} has a registry already; keep one "
                    "file per territory in the folder"
                )
            found[territory.id] = territory
        if not found:
            raise RegistryError(f"{path}: no registry (*.json) in it")
        return cls(found)
