"""A territory's local calendar: IANA time zone, daylight saving included. Pure.

Lamp schedules, night windows, daily figures and open-data days follow the clock on the town
hall's wall, not UTC plus a constant. ``LocalClock`` converts arrays of UTC milliseconds to
local wall-clock milliseconds (offsets looked up once per quarter hour of the arrays' span:
every zone in use changes offset on a quarter hour), and back for a local time, refusing the
local times a change skips or repeats rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # numpy only where arrays are converted: an edge agent never loads it
    import numpy as np

from vigie.errors import DataError

# the time zone of a territory whose registry names none (Vigie's first territories are
# French); every default below is this one
DEFAULT_TIMEZONE = "Europe/Paris"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
_SLOT_MS = 900_000  # offsets change on a quarter hour


class LocalTimeError(DataError):
    """A local time that does not exist (skipped by a change) or exists twice."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or an error that says what a valid name looks like."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Paris"
        ) from exc


_SLOTS = (-2_208_988_800_000 // _SLOT_MS, 7_258_118_400_000 // _SLOT_MS)  # 1900 to 2200


@lru_cache(maxsize=65_536)
def _offset_ms(name: str, slot: int) -> int:
    slot = min(max(slot, _SLOTS[0]), _SLOTS[1])
    instant = datetime.fromtimestamp(slot * _SLOT_MS / 1000, UTC)
    delta = zone(name).utcoffset(instant.astimezone(zone(name)))
    return int(delta.total_seconds() * 1000) if delta is not None else 0


@dataclass(frozen=True)
class LocalClock:
    """The local calendar of one territory."""

    timezone: str = DEFAULT_TIMEZONE
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", zone(self.timezone))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def offsets_ms(self, ts_ms: np.ndarray) -> np.ndarray:
        """The UTC offset in force at each instant (ms)."""
        import numpy as np

        ts = np.asarray(ts_ms, np.int64)
        if ts.size == 0:
            return np.zeros(0, np.int64)
        slots, inverse = np.unique(ts // _SLOT_MS, return_inverse=True)
        table = np.fromiter(
            (_offset_ms(self.timezone, int(s)) for s in slots.tolist()), np.int64, len(slots)
        )
        return table[inverse.reshape(ts.shape)]

    def local_ms(self, ts_ms: np.ndarray) -> np.ndarray:
        """Wall-clock time as milliseconds of a UTC-less epoch: floor it by day or hour."""
        import numpy as np

        ts = np.asarray(ts_ms, np.int64)
        return ts + self.offsets_ms(ts)

    def hour(self, ts_ms: np.ndarray) -> np.ndarray:
        """Local hour of day as a fraction (0 <= h < 24)."""
        return (self.local_ms(ts_ms) % DAY_MS) / HOUR_MS

    def offset_at(self, ts_ms: int) -> int:
        return _offset_ms(self.timezone, ts_ms // _SLOT_MS)

    def hour_at(self, ts_ms: int) -> float:
        """Local hour of day of one instant, as a fraction."""
        return ((ts_ms + self.offset_at(ts_ms)) % DAY_MS) / HOUR_MS

    def utc_of_local(self, local_ms: int, strict: bool = True) -> int:
        """The instant a local wall-clock time names. Strict: raises LocalTimeError when a
        change skips it (spring) or repeats it (autumn); else the offset before the change."""
        wall = datetime(1970, 1, 1) + timedelta(milliseconds=local_ms)  # noqa: DTZ001  # wall time
        aware = self.resolve(wall) if strict else wall.replace(tzinfo=self._zone, fold=0)
        return int(aware.timestamp() * 1000)

    def resolve(self, wall: datetime) -> datetime:
        """A naive local datetime made aware, refusing skipped and repeated times."""
        first = wall.replace(tzinfo=self._zone, fold=0)
        second = wall.replace(tzinfo=self._zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            if first.astimezone(UTC).astimezone(self._zone).replace(tzinfo=None) != wall:
                raise LocalTimeError(
                    f"{wall.isoformat()} does not exist in {self.timezone} (clocks go forward)"
                )
            raise LocalTimeError(
                f"{wall.isoformat()} happens twice in {self.timezone} (clocks go back): "
                "give its UTC offset"
            )
        return first

    def midnight(self, day: date) -> int:
        """The instant a local calendar day begins."""
        return self.utc_of_local((day - date(1970, 1, 1)).days * DAY_MS, strict=False)

    def day_length_ms(self, local_day_ms: int) -> int:
        """How long a local day (wall-clock midnight, ms of the local epoch) lasts: 23 h on
        the spring change, 25 h on the autumn one."""
        start = self.utc_of_local(local_day_ms, strict=False)
        return self.utc_of_local(local_day_ms + DAY_MS, strict=False) - start
