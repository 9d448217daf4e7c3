"""The territories one platform serves, each with its registry. ``VIGIE_REGISTRY`` names a
registry file, or a folder of them (one ``<territory>.json`` per territory)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vigie.contracts import Asset, Territory


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
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        found: dict[str, Territory] = {}
        for file in files:
            territory = Territory.load(file)
            if territory.id in found:
                raise ValueError(f"{file}: territory {territory.id!r} has a registry already")
            found[territory.id] = territory
        if not found:
            raise ValueError(f"{path}: no registry (*.json) in it")
        return cls(found)
