"""The published schemas Vigie's exports follow, kept in this folder with their licences
(``schemas/README.md``), and validation against them, offline: the Smart Data Models' JSON
Schemas refer to each other by their published addresses, which resolve here to the copies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent / "schemas"
SDM = "https://smart-data-models.github.io"
# the published address each kept copy answers for
ADDRESSES = {
    f"{SDM}/data-models/common-schema.json": "smart-data-models/common-schema.json",
    f"{SDM}/dataModel.Device/device-schema.json": "smart-data-models/device-schema.json",
}


def _load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLDER / relative).read_text(encoding="utf-8"))
    return data


@cache
def _validator(entity_type: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (address, Resource.from_contents(_load(path))) for address, path in ADDRESSES.items()
    )
    schema = _load(f"smart-data-models/{entity_type}.json")
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def controlled_properties() -> frozenset[str]:
    """What a Smart Data Models Device may name in its ``controlledProperty``."""
    definition = _load("smart-data-models/device-schema.json")["definitions"]
    return frozenset(definition["ControlledPropertyType"]["items"]["enum"])


def problems(key_values: Mapping[str, Any]) -> list[str]:
    """What the entity's Smart Data Model finds wrong with it (its simplified form); empty
    when it is valid."""
    entity_type = str(key_values.get("type"))
    if not (FOLDER / f"smart-data-models/{entity_type}.json").exists():
        return [f"no schema kept for entity type {entity_type!r}"]
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(entity)'}: {e.message}"
        for e in _validator(entity_type).iter_errors(dict(key_values))
    ]
