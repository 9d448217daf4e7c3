"""Large territories over several processes: devices split between them, one MQTT client each."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from dataclasses import dataclass
from typing import Any

from rich.progress import Progress, SpinnerColumn, TextColumn

from simulators.models import ModelParams
from simulators.publish import publish
from simulators.scenario import Scenario
from simulators.simulation import Simulation, SimulationPlan
from simulators.truth import GroundTruth
from vigie.contracts import Territory
from vigie.errors import VigieError
from vigie.sections import MqttSettings


@dataclass(frozen=True)
class ShardResult:
    batches: int
    readings: int
    truth: GroundTruth


def _shard(
    territory: Territory,
    plan: SimulationPlan,
    scenario: Scenario,
    settings: MqttSettings,
    speed: float | None,
    index: int,
    count: int,
    counter: Any,
    results: Any,
) -> None:
    try:
        devices = {a.id for a in territory.assets[index::count]}
        sim = Simulation(territory, plan, ModelParams(), scenario, devices)

        def tick() -> None:
            with counter.get_lock():
                counter.value += 1

        report = publish(
            sim,
            settings,
            territory.id,
            start_ms=plan.start_ms,
            speed=speed,
            show_progress=False,
            client_id=f"vigie-simulator-{index}",
            on_batch=tick,
        )
        results.put(ShardResult(report.batches, report.readings, sim.finished_truth()))
    except BaseException as exc:  # the parent reports it
        results.put(f"process {index}: {exc!r}")


def publish_parallel(
    territory: Territory,
    plan: SimulationPlan,
    scenario: Scenario,
    settings: MqttSettings,
    speed: float | None,
    processes: int,
) -> tuple[int, int, GroundTruth, float]:
    """Run ``processes`` shards; returns batches, readings, merged truth and wall seconds."""
    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    results = ctx.Queue()
    t0 = time.monotonic()
    procs = [
        ctx.Process(
            target=_shard,
            args=(territory, plan, scenario, settings, speed, i, processes, counter, results),
            daemon=True,
        )
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    done: list[ShardResult | str] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]simulating[/] {task.fields[n]:,} batches, {task.fields[rate]}"),
    ) as progress:
        task = progress.add_task("sim", n=0, rate="")
        while len(done) < processes:
            try:
                done.append(results.get(timeout=0.2))
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
            n = counter.value
            progress.update(task, n=n, rate=f"{n / max(1e-6, time.monotonic() - t0):,.0f}/s")
    for proc in procs:
        proc.join()
    failures = [d for d in done if isinstance(d, str)]
    shards = [d for d in done if isinstance(d, ShardResult)]
    if failures or len(shards) != processes:
        raise VigieError("simulation processes failed: " + "; ".join(failures or ["died"]))
    truth = shards[0].truth
    for r in shards[1:]:
        truth = truth.merged(r.truth)
    return (
        sum(r.batches for r in shards),
        sum(r.readings for r in shards),
        truth,
        time.monotonic() - t0,
    )
