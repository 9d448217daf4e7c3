"""Simulator capacity: devices one process keeps in real time, and readings/s to Mosquitto.

1. Generation: a territory of ~10,000 devices simulated for one hour as fast as possible;
   speed factor = simulated seconds per wall second, so devices sustainable in real time at
   one sample a minute = devices x factor.
2. Publishing to a real Mosquitto started for the run: batches of 50 readings (the edge
   agent's path) against one MQTT message per reading (baseline), same readings, same run.

    python -m bench.simulator_publish [--population 65000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import console, pin_to_one_core, report
from shell.stack import Stack
from simulators.publish import publish
from simulators.recording import Recorded
from simulators.simulation import Simulation, SimulationPlan
from simulators.territory import generate
from vigie.sections import MqttSettings


def main(population: int) -> None:
    pin_to_one_core()
    territory = generate(population, seed=1, territory_id="bench")
    devices = len(territory.assets)
    start = int(time.time() * 1000) - 2 * 3_600_000
    sim = Simulation(territory, SimulationPlan(start, 3600))
    t0 = time.perf_counter()
    emitted = list(sim)
    gen_s = time.perf_counter() - t0
    readings = sum(len(e.batch.readings) for e in emitted)
    factor = 3600 / gen_s
    console.print(
        f"generation: {devices:,} devices, 1 simulated hour, {readings:,} readings in "
        f"{gen_s:.1f} s: {factor:,.0f}x real time"
    )

    sample = emitted[: max(1, len(emitted) // 4)]
    singles = [
        Recorded(
            e.sim_ms,
            f"vigie/bench/{e.vertical}/{e.batch.device_id}/telemetry",
            json.dumps({"device_id": e.batch.device_id, **r}).encode(),
        )
        for e in sample
        for r in e.batch.readings
    ]
    n = len(singles)
    home = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    stack = Stack(home)
    stack.up()
    try:
        mqtt = MqttSettings(**stack.settings()["mqtt"])
        batched = publish(
            sample, mqtt, "bench", start_ms=start, show_progress=False, client_id="bench-batched"
        )
        single = publish(
            singles, mqtt, "bench", start_ms=start, show_progress=False, client_id="bench-single"
        )
    finally:
        stack.down()
    report(
        "Publishing to Mosquitto (QoS 1, acknowledged), one core",
        [
            ("one message per reading", n / single.wall_s, f"{n:,} readings, baseline"),
            ("batches of 50", n / batched.wall_s, f"{len(sample):,} batches"),
        ],
        baseline="one message per reading",
    )
    console.print(
        f"bytes on the wire per reading: batched {batched.bytes_out / n:.1f}, "
        f"one per message {single.bytes_out / n:.1f}"
    )
    per_reading_s = gen_s / readings + batched.wall_s / n
    hourly = readings / devices
    console.print(
        f"generate + publish: {1 / per_reading_s:,.0f} readings/s per process; at {hourly:.0f} "
        f"readings per device-hour, {3600 / per_reading_s / hourly:,.0f} devices in real time "
        "per process (extrapolated from the measured per-reading costs)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=65_000)
    main(parser.parse_args().population)
