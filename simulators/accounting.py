"""What the platform says it kept of a replay or an import, asked from InfluxDB, not counted
from what was sent: readings stored (either retention policy), dead letters received since
the replay began by reason, and gaps in imported history (missing sequence numbers)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from vigie import influxql
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.sections import InfluxSettings


@dataclass
class PlatformCount:
    stored: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # dead letters by reason
    history_gaps: int = 0  # missing sequence numbers in the devices' imported history

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def _devices_clause(devices: Iterable[str]) -> str:
    names = "|".join(re.escape(d) for d in sorted(devices))
    return f'"device" =~ /^({names})$/'


def count(
    influx: InfluxSettings,
    devices: Iterable[str],
    span_ms: tuple[int, int],
    since_ms: int,
) -> PlatformCount:
    """One look at what InfluxDB holds for these devices over the span."""
    which = _devices_clause(devices)
    out = PlatformCount()
    for rp in ("raw", "long"):
        out.stored += int(
            influxql.scalar(
                influx,
                f'SELECT count("value") FROM "{rp}"."telemetry" WHERE {which} AND '
                f"time >= {span_ms[0]}ms AND time <= {span_ms[1]}ms",
            )
        )
    rows = influxql.query(
        influx,
        f'SELECT sum("count") AS n FROM {at(M.DEAD_LETTERS)} WHERE time >= {since_ms}ms '
        'GROUP BY "reason"',
    )
    out.rejected = {r["reason"]: int(r["n"]) for r in rows if r.get("n")}
    out.history_gaps = int(
        influxql.scalar(
            influx,
            f'SELECT sum("m") FROM (SELECT last("missing_seq") AS "m" FROM {at(M.FLEET_HISTORY)} '
            f'WHERE {which} GROUP BY "device")',
        )
    )
    return out


def settle(
    influx: InfluxSettings,
    devices: Iterable[str],
    span_ms: tuple[int, int],
    since_ms: int,
    expected: int,
    quiet_s: float = 10.0,
    timeout_s: float = 300.0,
    on_progress: Callable[[PlatformCount], None] | None = None,
    first_s: float = 120.0,
) -> PlatformCount:
    """Ask until every expected reading is stored, or nothing changed for ``quiet_s`` once
    something was: a worker just started (compiling its kernels, joining its group) can take
    longer than that to store its first bulk, so the first wait is ``first_s``."""
    devices = list(devices)
    last, changed = PlatformCount(), time.monotonic()
    deadline = time.monotonic() + timeout_s
    while True:
        now = count(influx, devices, span_ms, since_ms)
        if (now.stored, now.rejected) != (last.stored, last.rejected):
            last, changed = now, time.monotonic()
            if on_progress is not None:
                on_progress(now)
        quiet = quiet_s if (last.stored or last.rejected) else max(quiet_s, first_s)
        if now.stored >= expected or time.monotonic() - changed > quiet:
            return now
        if time.monotonic() > deadline:
            return now
        time.sleep(1.0)
