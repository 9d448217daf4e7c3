"""Shared meters and the assets behind them: hourly energy balance and night flows. Pure.

A group is a lighting cabinet with its lamps, or a district metered area with its inflow
meter. Ingest keys a group's devices alike, so one worker sees all of a group's readings, in
order, on one partition. Group windows close once the group's watermark passes their end
plus the lateness (batches from the edge may be minutes old). When the stream goes idle,
open windows are written as they stand but kept: data that comes after the pause adds to
them, and the window is written again, whole (the same points, overwritten), so a pause never
leaves a partial hour in place of a full one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic_core import from_json, to_json

from streams.alerts import Alert, AlertKind, transition
from streams.kernels.attribution import attribute
from vigie.localtime import HOUR_MS
from vigie.policies import GroupPolicy


@dataclass
class GroupState:
    """What a worker remembers about one group between bulks."""

    partition: int = 0
    watermark_ms: int = -(2**62)
    windows: dict[str, dict[str, Any]] = field(default_factory=dict)  # start -> {meter, members}
    nights: dict[str, float] = field(default_factory=dict)  # night start -> min flow
    history: list[float] = field(default_factory=list)  # recent clean night minima
    alerts: list[str] = field(default_factory=list)
    flushed: list[str] = field(default_factory=list)  # windows an idle close wrote, unchanged

    @property
    def pending(self) -> bool:
        """Something an idle close would write: a window changed since written, or a night."""
        return any(k not in self.flushed for k in self.windows) or bool(self.nights)

    def _changed(self, key: str) -> None:
        if key in self.flushed:
            self.flushed.remove(key)

    def to_bytes(self) -> bytes:
        return to_json(self.__dict__)

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> GroupState:
        return cls(**from_json(raw)) if raw else cls()

    def add_meter(self, start_ms: int, amount: float) -> None:
        self._changed(str(start_ms))
        win = self.windows.setdefault(str(start_ms), {"meter": 0.0, "members": {}})
        win["meter"] += amount

    def add_member(self, start_ms: int, member: str, wh: float, on_ms: int) -> None:
        self._changed(str(start_ms))
        win = self.windows.setdefault(str(start_ms), {"meter": 0.0, "members": {}})
        acc = win["members"].setdefault(member, [0.0, 0])
        acc[0] += wh
        acc[1] += on_ms

    def observe_night_flow(self, ts_ms: np.ndarray, flow: np.ndarray, policy: GroupPolicy) -> None:
        """Keep each night's minimum flow (between night_from_h and night_to_h, local)."""
        local = policy.clock.local_ms(ts_ms)
        hour = (local // HOUR_MS) % 24
        mask = (hour >= policy.night_from_h) & (hour < policy.night_to_h) & ~np.isnan(flow)
        for night, value in zip((local[mask] // 86_400_000) * 86_400_000, flow[mask], strict=True):
            key = str(int(night))
            self.nights[key] = min(self.nights.get(key, float("inf")), float(value))


@dataclass(frozen=True, slots=True)
class Balance:
    """One closed hour of one cabinet: metered, modelled and attributed energy."""

    group: str
    start_ms: int
    metered_wh: float
    modelled_wh: float
    unexplained_wh: float
    ratio: float
    attributed_wh: dict[str, float]  # member -> Wh
    on_ms: dict[str, int]
    model_wh: dict[str, float]  # member -> Wh from its own readings (no line losses)


@dataclass(frozen=True, slots=True)
class NightVerdict:
    group: str
    night_ms: int
    min_flow_m3h: float
    baseline_m3h: float  # NaN without history
    leak_index: float


def close_windows(
    group: str, state: GroupState, policy: GroupPolicy, force: bool = False
) -> tuple[list[Balance], list[Alert]]:
    """Attribute every window that can close; returns balances and remainder alerts.

    ``force`` (the stream went idle) also writes the windows still open, as they stand, and
    keeps them: they are written again, whole, if more data comes, and dropped once the
    watermark passes them."""
    horizon = state.watermark_ms - policy.window_ms - policy.lateness_ms
    balances, alerts = [], []
    for start in sorted(int(k) for k in state.windows):
        key, final = str(start), start <= horizon
        if not (final or force):
            continue
        written = key in state.flushed  # by an idle close, and unchanged since
        win = state.windows.pop(key) if final else state.windows[key]
        if written:
            if final:
                state.flushed.remove(key)
            continue
        if not final:
            state.flushed.append(key)
        members = sorted(win["members"])
        model = np.array([win["members"][m][0] for m in members], np.float64)
        out = attribute(
            np.zeros(len(members), np.int64),
            model,
            np.array([win["meter"]]),
            max_ratio=policy.max_ratio,
            nominal_losses=policy.nominal_losses,
        )
        b = Balance(
            group,
            start,
            win["meter"],
            float(model.sum()),
            float(out.unexplained_wh[0]),
            float(out.ratio[0]),
            dict(zip(members, out.asset_wh.tolist(), strict=True)),
            {m: int(win["members"][m][1]) for m in members},
            dict(zip(members, model.tolist(), strict=True)),
        )
        balances.append(b)
        if win["meter"] > 0 and model.sum() > 0:
            share = b.unexplained_wh / b.metered_wh
            alert = transition(
                state.alerts,
                AlertKind.ATTRIBUTION_REMAINDER,
                group,
                share > policy.remainder_alert_share
                and b.unexplained_wh * 3_600_000 / policy.window_ms > policy.remainder_alert_min_w,
                start + policy.window_ms,
                round(share, 4),
                f"{b.unexplained_wh:.0f} Wh of "
                f"{b.metered_wh:.0f} Wh metered not explained by the lamps",
            )
            if alert:
                alerts.append(alert)
    return balances, alerts


def close_nights(
    group: str,
    state: GroupState,
    policy: GroupPolicy,
    force: bool = False,
    subject: str | None = None,
) -> tuple[list[NightVerdict], list[Alert]]:
    """Judge every night that ended: leak index against the recent clean nights."""
    local_wm = state.watermark_ms + policy.clock.offset_at(state.watermark_ms)
    verdicts, alerts = [], []
    for key in sorted(state.nights, key=int):
        night = int(key)
        if not force and local_wm < night + policy.night_to_h * 3_600_000 + policy.lateness_ms:
            continue
        minimum = state.nights.pop(key)
        baseline = float(np.percentile(state.history, 20)) if state.history else float("nan")
        index = minimum / baseline if baseline > 0 else float("nan")
        leak = bool(index > policy.leak_ratio and minimum - baseline > policy.leak_min_excess_m3h)
        at = policy.clock.utc_of_local(night + policy.night_to_h * HOUR_MS, strict=False)
        verdicts.append(NightVerdict(group, at, minimum, baseline, index))
        if not np.isnan(index):
            alert = transition(
                state.alerts,
                AlertKind.SUSPECTED_LEAK,
                subject or group,
                leak,
                at,
                round(index, 3),
                f"night minimum {minimum:.2f} m3/h against {baseline:.2f} m3/h usual",
            )
            if alert:
                alerts.append(alert)
        if not leak:
            state.history = ([*state.history, minimum])[-policy.history_nights :]
    return verdicts, alerts
