"""One point of InfluxDB line protocol, escaped as the protocol says, for the processes that
store a few points of their own (the notifier, the footprint report, the roll-up catch-up).

Stream workers write millions of points through their own bulk encoder
(``streams.sinks.lineprotocol``), built for speed on their fixed tags; this one is for
everything else, so that no one builds a line by hand again. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

_NAME = str.maketrans({",": r"\,", " ": r"\ "})  # a measurement
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})  # tag keys and values, field keys
_STRING = str.maketrans({'"': r"\"", "\\": "\\\\"})  # a string field's value


def _field(value: float | bool | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value.translate(_STRING)}"'
    return repr(float(value))


@dataclass(frozen=True, slots=True)
class Point:
    """A measurement's point: its tags (empty values left out), float, boolean or string
    fields, integer fields apart (an InfluxDB field keeps the type it was first written
    with, so an integer is never left to chance), and its time in milliseconds."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, float | bool | str]
    time_ms: int
    ints: Mapping[str, int] = field(default_factory=dict)

    def line(self) -> str:
        tags = "".join(
            f",{k.translate(_KEY)}={str(v).translate(_KEY)}" for k, v in self.tags.items() if v
        )
        values = [f"{k.translate(_KEY)}={_field(v)}" for k, v in self.fields.items()]
        values += [f"{k.translate(_KEY)}={int(v)}i" for k, v in self.ints.items()]
        if not values:
            raise ValueError(f"a {self.measurement} point needs a field")
        return f"{self.measurement.translate(_NAME)}{tags} {','.join(values)} {self.time_ms}"
