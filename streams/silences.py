"""What the silence check needs of each live device, kept between checks. Pure.

Every 30 s a worker raises ``device_silent`` for the devices far behind the newest data of
their territory, and clears it for those back. Decoding every device state for that costs
about 30 µs a device: at rest it was most of a worker's CPU, and it grows with the fleet.
The index keeps, per state key, the watermark and whether the alert is raised, noted when the
worker saves a state; only a state it did not note (read back from the changelog after a
start or a rebalance) is decoded, once. The check then decodes only the devices whose alert
changes.

The same view says which live states hold device-hours due for a roll-up
(``DeviceState.rollup_due``), for the worker's catch-up, without decoding the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from streams.lanes import Lane, parse_key
from streams.windowing import DeviceState
from vigie.contracts.alerts import AlertKind


@dataclass(frozen=True, slots=True)
class Seen:
    """One live device state, as the silence check needs it."""

    lane: Lane
    device: str
    raw: bytes  # the bytes it was read from (a new value in the table is read again)
    watermark_ms: int
    silent: bool  # device_silent raised
    due: bool = False  # device-hours whose windows the continuous queries missed


@dataclass(frozen=True, slots=True)
class Change:
    """A device whose silence alert must be raised or cleared, and its lane's newest data."""

    key: bytes
    device: str
    newest_ms: int


@dataclass
class SilenceIndex:
    """Per state key, what the silence check needs; ``decoded`` counts the states read."""

    home: str  # the worker's own territory (keys without a territory are its)
    _seen: dict[bytes, Seen] = field(default_factory=dict)
    decoded: int = 0

    def note(self, key: bytes, raw: bytes, state: DeviceState) -> None:
        """A state the worker just saved (``raw`` is what it wrote to the table)."""
        seen = self._seen.get(key)
        parsed = (seen.lane, seen.device) if seen else parse_key(key.decode(), self.home)
        if parsed is not None and not parsed[0].history:
            self._seen[key] = Seen(*parsed, raw, state.watermark_ms, _silent(state), _due(state))

    def refresh(self, table: Mapping[bytes, bytes]) -> None:
        """Forget keys gone from the table; read the states noted nowhere (or changed)."""
        for key in [k for k in self._seen if k not in table]:
            del self._seen[key]
        for key, raw in table.items():
            seen = self._seen.get(key)
            if seen is not None and seen.raw is raw:
                continue
            parsed = parse_key(key.decode(), self.home)
            if parsed is None or parsed[0].history:
                continue
            state = DeviceState.from_bytes(raw)
            self.decoded += 1
            self._seen[key] = Seen(*parsed, raw, state.watermark_ms, _silent(state), _due(state))

    def rollups_due(self) -> list[tuple[bytes, Lane, str]]:
        """The live states holding device-hours due for a roll-up: key, lane, device."""
        return [(key, s.lane, s.device) for key, s in self._seen.items() if s.due]

    def changes(self, silent_after_ms: Callable[[Lane], int]) -> dict[Lane, list[Change]]:
        """Per lane, the devices whose alert changes: lagging the lane's newest data by more
        than its ``silent_after_ms`` and not raised, or raised and back."""
        newest: dict[Lane, int] = {}
        for s in self._seen.values():
            newest[s.lane] = max(newest.get(s.lane, s.watermark_ms), s.watermark_ms)
        after = {lane: silent_after_ms(lane) for lane in newest}
        out: dict[Lane, list[Change]] = {}
        for key, s in self._seen.items():
            lagging = newest[s.lane] - s.watermark_ms > after[s.lane]
            if lagging != s.silent:
                out.setdefault(s.lane, []).append(Change(key, s.device, newest[s.lane]))
        return out

    def __len__(self) -> int:
        return len(self._seen)


def _silent(state: DeviceState) -> bool:
    return AlertKind.DEVICE_SILENT in state.alerts


def _due(state: DeviceState) -> bool:
    return bool(state.rollup_due)
