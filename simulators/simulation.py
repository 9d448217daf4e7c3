"""A simulated territory over a period: every asset sampled on a clock, readings batched.

The generator is pure (no I/O, deterministic for a seed); ``pacing`` turns simulated time into
wall time for real-time or accelerated runs, and ``None`` speed means as fast as possible.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from edge.batcher import Batcher, BatchPolicy
from simulators.models import ModelParams, TerritoryModel
from vigie.contracts import TelemetryBatch, Territory, Vertical


@dataclass(frozen=True)
class SimulationPlan:
    start_ms: int
    duration_s: float
    period_s: float = 60.0
    batch: BatchPolicy = field(default_factory=lambda: BatchPolicy(50, 300_000))
    seed: int = 1

    @property
    def ticks(self) -> int:
        return int(self.duration_s // self.period_s)


@dataclass(frozen=True, slots=True)
class Emitted:
    sim_ms: int
    vertical: Vertical
    batch: TelemetryBatch


def run(
    territory: Territory, plan: SimulationPlan, params: ModelParams | None = None
) -> Iterator[Emitted]:
    """Yield batches in simulated-time order; the last batch of each device is flushed at end."""
    model = TerritoryModel(territory, params or ModelParams(), plan.seed)
    batchers = {a.id: Batcher(a.id, plan.batch) for a in territory.assets}
    period_ms = int(plan.period_s * 1000)
    now = plan.start_ms
    for tick in range(plan.ticks):
        now = plan.start_ms + tick * period_ms
        for asset in territory.assets:
            batcher = batchers[asset.id]
            for metric, value in model.sample(asset, now, plan.period_s):
                batch = batcher.add(now, metric, value, now)
                if batch is not None:
                    yield Emitted(now, asset.vertical, batch)
    for asset in territory.assets:
        batch = batchers[asset.id].flush(now)
        if batch is not None:
            yield Emitted(now, asset.vertical, batch)


class Pacer:
    """Sleeps so that simulated time runs at ``speed`` times wall time (None: no sleeping)."""

    def __init__(self, start_ms: int, speed: float | None) -> None:
        self.start_ms = start_ms
        self.speed = speed
        self.wall0 = time.monotonic()

    def wait_for(self, sim_ms: int) -> None:
        if not self.speed:
            return
        due = self.wall0 + (sim_ms - self.start_ms) / 1000 / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
