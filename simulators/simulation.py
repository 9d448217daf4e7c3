"""A simulated territory over a period: every asset sampled on a clock, readings batched.

The generator is pure (no I/O, deterministic for a seed) and records the ground truth as it
goes; ``Pacer`` turns simulated time into wall time for real-time (speed 1) or accelerated
runs, and no speed means as fast as possible (back-filling a past period).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from edge.batcher import Batcher, BatchPolicy
from simulators.models import ModelParams, TerritoryModel
from simulators.scenario import Scenario
from simulators.truth import GroundTruth, TruthRecorder
from vigie.contracts import AssetKind, TelemetryBatch, Territory, Vertical
from vigie.errors import VigieError


@dataclass(frozen=True)
class SimulationPlan:
    start_ms: int
    duration_s: float
    period_s: float = 60.0
    batch: BatchPolicy = field(default_factory=lambda: BatchPolicy(50, 300_000))
    seed: int = 1
    health_period_s: float = 3600.0  # each device's own health readings; 0: none
    first_seq: int = 0  # the devices' sequence numbers start here (to follow an earlier run)

    @property
    def health_every(self) -> int:
        """Health readings every this many ticks (0: never)."""
        return max(1, int(self.health_period_s // self.period_s)) if self.health_period_s else 0

    @property
    def ticks(self) -> int:
        return int(self.duration_s // self.period_s)


@dataclass(frozen=True, slots=True)
class Emitted:
    sim_ms: int
    vertical: Vertical
    batch: TelemetryBatch
    duplicate: bool = False  # a repeat of an earlier batch (same sequence number)


class Simulation:
    """Iterate over it for the batches; ``truth`` is complete once iteration ends."""

    def __init__(
        self,
        territory: Territory,
        plan: SimulationPlan,
        params: ModelParams | None = None,
        scenario: Scenario | None = None,
        devices: set[str] | None = None,
    ) -> None:
        self.territory = territory
        self.plan = plan
        self.scenario = scenario or Scenario()
        self.params = params or ModelParams()
        self.model = TerritoryModel(territory, self.params, plan.seed, self.scenario)
        self.assets = [a for a in territory.assets if devices is None or a.id in devices]
        self.recorder = TruthRecorder(plan.start_ms, self.scenario, self.params.cabinet_losses)
        self.truth: GroundTruth | None = None

    def __iter__(self) -> Iterator[Emitted]:
        plan, model, faults, rec = self.plan, self.model, self.model.faults, self.recorder
        rng = random.Random(plan.seed * 7919 + 1)
        batchers = {a.id: Batcher(a.id, plan.batch, plan.first_seq) for a in self.assets}
        stuck_value: dict[tuple[str, str], float] = {}
        skew = self.scenario.clock_skew_ms
        health = _Health(plan.seed, [a.id for a in self.assets])
        period_ms = int(plan.period_s * 1000)
        now = plan.start_ms
        for tick in range(plan.ticks):
            now = plan.start_ms + tick * period_ms
            for asset in self.assets:
                readings = model.sample(asset, now, plan.period_s)
                self._record_truth(asset, now, readings)
                if faults.is_silent(asset.id, now):
                    continue
                batcher = batchers[asset.id]
                stuck = faults.is_stuck(asset.id, now)
                for metric, measured in readings:
                    key = (asset.id, metric)
                    value = self._sent(key, measured, stuck, stuck_value, rng)
                    if value is None:
                        continue
                    batch = batcher.add(now + skew.get(asset.id, 0), metric, value, now)
                    if batch is not None:
                        yield from self._emit(now, asset.vertical, batch, rng)
                if plan.health_every and tick % plan.health_every == 0:
                    for metric, value in health.sample(asset.id):
                        rec.truth.readings_sent += 1
                        batch = batcher.add(now + skew.get(asset.id, 0), metric, value, now)
                        if batch is not None:
                            yield from self._emit(now, asset.vertical, batch, rng)
        for asset in self.assets:
            batch = batchers[asset.id].flush(now)
            if batch is not None:
                yield from self._emit(now, asset.vertical, batch, rng)
        self.truth = rec.finish(now + period_ms)

    def _sent(
        self,
        key: tuple[str, str],
        measured: float,
        stuck: bool,
        stuck_value: dict[tuple[str, str], float],
        rng: random.Random,
    ) -> float | None:
        """The value a device sends for a reading (a stuck sensor repeats the one it stuck
        at), or None when the scenario drops it on the way; the truth counts both."""
        if stuck:
            value = stuck_value.setdefault(key, measured)
        else:
            value = measured
            stuck_value.pop(key, None)
        if self.scenario.dropout_rate and rng.random() < self.scenario.dropout_rate:
            self.recorder.truth.readings_dropped += 1
            return None
        self.recorder.truth.readings_sent += 1
        return value

    def _emit(
        self, now: int, vertical: Vertical, batch: TelemetryBatch, rng: random.Random
    ) -> Iterator[Emitted]:
        yield Emitted(now, vertical, batch)
        if self.scenario.duplicate_rate and rng.random() < self.scenario.duplicate_rate:
            self.recorder.truth.duplicate_batches += 1
            yield Emitted(now, vertical, batch, duplicate=True)

    def finished_truth(self) -> GroundTruth:
        """The ground truth of a simulation iterated to its end."""
        if self.truth is None:
            raise VigieError("the simulation has not run to its end: no ground truth yet")
        return self.truth

    def _record_truth(self, asset, now: int, readings: list[tuple[str, float]]) -> None:
        dt, model, rec = self.plan.period_s, self.model, self.recorder
        if asset.kind is AssetKind.LAMP:
            full = float(asset.nominal_power_w or 0) if model.dark(now) else 0.0
            if model.faults.lamp_failed(asset.id, now):
                full = 0.0
            rec.lamp(asset.id, asset.district, model.lamp_power_w(asset, now), full, dt)
        elif asset.kind is AssetKind.LIGHTING_CABINET:
            rec.cabinet(asset.id, readings[0][1], model.faults.tapping_w(asset.id, now), dt)
        elif asset.kind is AssetKind.WATER_METER and asset.dma:
            rec.water(asset.dma, readings[0][1], model.faults.leak_m3h(asset.dma, now), dt)


class _Health:
    """A device's own health as its agent reports it: queue depth and radio signal."""

    def __init__(self, seed: int, devices: list[str]) -> None:
        self.rng = random.Random(seed * 104_729 + 3)
        self.signal = {d: self.rng.uniform(-95.0, -60.0) for d in devices}

    def sample(self, device: str) -> list[tuple[str, float]]:
        rssi = min(-40.0, max(-120.0, self.signal[device] + self.rng.gauss(0.0, 2.0)))
        return [("queue_depth", 0.0), ("rssi_dbm", round(rssi, 1))]


def run(
    territory: Territory,
    plan: SimulationPlan,
    params: ModelParams | None = None,
    scenario: Scenario | None = None,
) -> Iterator[Emitted]:
    """Batches in simulated-time order (see Simulation for the ground truth)."""
    return iter(Simulation(territory, plan, params, scenario))


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
