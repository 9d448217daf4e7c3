"""Where a bulk's batches are folded: one lane per territory and source (live, or imported
history), each with its own states. Pure.

A worker may serve several territories: device ids are unique within a territory only, so a
state's key in the worker's table names its lane. The worker's own territory keeps bare
device ids (the keys it always had); another territory's keys start with ``t/<territory>/``;
history's with ``h:``; groups' with ``g:``. Device and group ids hold neither ``/`` nor a
leading ``h:``/``g:``, so keys never collide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vigie.contracts import RECEIPT_HEADER, TelemetryBatch

GROUP_PREFIX = "g:"
HISTORY_PREFIX = "h:"


@dataclass(frozen=True, slots=True)
class Lane:
    territory: str
    history: bool = False
    home: bool = True  # the worker's own territory

    @property
    def _where(self) -> str:
        return "" if self.home else f"t/{self.territory}/"

    def key(self, device: str) -> str:
        """The table key of a device's state in this lane."""
        return (HISTORY_PREFIX if self.history else "") + self._where + device

    def group_key(self, group: str) -> str:
        """The table key of a group's state (live lanes only have groups)."""
        return GROUP_PREFIX + self._where + group


def parse_key(key: str, home: str) -> tuple[Lane, str] | None:
    """(lane, device) of a device state's key; None for a group's."""
    if key.startswith(GROUP_PREFIX):
        return None
    history = key.startswith(HISTORY_PREFIX)
    rest = key[len(HISTORY_PREFIX) :] if history else key
    if rest.startswith("t/"):
        territory, device = rest[2:].split("/", 1)
        return Lane(territory, history, territory == home), device
    return Lane(home, history, True), rest


def parse_group_key(key: str, home: str) -> tuple[Lane, str]:
    """(lane, group) of a group state's key."""
    rest = key[len(GROUP_PREFIX) :]
    if rest.startswith("t/"):
        territory, group = rest[2:].split("/", 1)
        return Lane(territory, False, territory == home), group
    return Lane(home), rest


def _header(event: Any, name: str) -> bytes | None:
    headers = event.message.headers or ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    value: bytes | None = dict(items).get(name)
    return value


def lane_of(event: Any, home: str) -> Lane:
    """The lane of a Kafka record: the territory the bridge read in its MQTT topic and
    whether it is imported history (its ``territory`` and ``source`` headers)."""
    raw = _header(event, "territory")
    territory = raw.decode() if raw else home
    return Lane(territory, _header(event, "source") == b"backfill", territory == home)


def receipt_asked(event: Any) -> bool:
    """Whether a record's batches asked for storage receipts (the bridge's ``receipt``
    header: their sender published with the request, ``vigie.contracts.receipts``)."""
    return _header(event, RECEIPT_HEADER) == b"1"


@dataclass
class Found:
    """The batches of one lane in a bulk, with where they came from."""

    batches: list[TelemetryBatch] = field(default_factory=list)
    verticals: dict[str, str] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
