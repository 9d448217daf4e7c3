"""End to end: readings/s through Mosquitto -> ingest -> Kafka -> faust -> InfluxDB, and lag.

Offered loads step up; at each, a publisher sends batches of 50 fresh readings (timestamps at
publication) for a fixed time; the candidate figure is the rate the chain stored in InfluxDB
over that time plus its drain, the baseline is the offered (published and acknowledged) rate,
and the ratio says how much of the load the chain kept up with. Lag is reading time to the
InfluxDB write acknowledgement, as the stream worker measures it per bulk ("platform").
One bridge and one worker share this machine's cores with the three servers.

    python -m bench.pipeline_e2e [--seconds 15] [--loads 5000,10000,20000,50000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import console, report
from simulators.publish import publish
from simulators.recording import Recorded
from simulators.territory import generate
from vigie import influxql
from vigie.settings import Settings
from vigie.stack import Stack
from vigie.stack.components import Components


def offered(territory, rate: float, seconds: float, start_ms: int, seq: dict[str, int]):  # type: ignore[no-untyped-def]
    """Batches of 50 readings, spread over the devices, paced to ``rate`` readings/s."""
    lamps = [a.id for a in territory.assets if a.kind == "lamp"]
    n_batches = int(rate * seconds / 50)
    for k in range(n_batches):
        device = lamps[k % len(lamps)]
        sim_ms = start_ms + int(k * 50 / rate * 1000)
        seq[device] = seq.get(device, -1) + 1
        yield sim_ms, device, seq[device]


def paced_records(territory, rate: float, seconds: float, prefix: str, seqs: dict[str, int]):  # type: ignore[no-untyped-def]
    start = int(time.time() * 1000)
    for sim_ms, device, seq in offered(territory, rate, seconds, start, seqs):
        wall = time.time()
        now = int(wall * 1000)
        readings = [{"ts_ms": now - 50 + i, "metric": "power_w", "value": 40.0} for i in range(50)]
        body = json.dumps(
            {"v": 1, "device_id": device, "seq": seq, "sent_at_ms": now, "readings": readings}
        ).encode()
        yield Recorded(sim_ms, f"{prefix}/{territory.id}/lighting/{device}/telemetry", body)


def main(seconds: float, loads: list[int]) -> None:
    home = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    os.environ["VIGIE_HOME"] = str(home)
    stack = Stack(home)
    stack.up()
    territory = generate(60_000, seed=3, territory_id="bench")
    registry = home / "territory.json"
    territory.save(registry)
    env = {"VIGIE_HOME": str(home), "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": "bench"}
    os.environ.update(env)
    settings = Settings()
    comps = Components(home, settings, env)
    rows = []
    seqs: dict[str, int] = {}  # sequence numbers go on from one load to the next
    try:
        comps.start_streams()
        comps.start_ingest()
        stored_before = 0
        for load in loads:
            t0 = time.time()
            rep = publish(
                paced_records(territory, load, seconds, settings.mqtt.prefix, seqs),
                settings.mqtt,
                territory.id,
                start_ms=int(t0 * 1000),
                speed=1.0,
                show_progress=False,
                client_id=f"bench-{load}",
            )
            sent = rep.batches * 50
            deadline = time.time() + 120
            stored = stored_before
            while time.time() < deadline:
                stored = int(
                    influxql.scalar(
                        settings.influx,
                        'SELECT count("value") FROM "raw"."telemetry"',
                    )
                )
                if stored >= stored_before + sent:
                    break
                time.sleep(0.25)
            elapsed = time.time() - t0
            lag = influxql.query(
                settings.influx,
                'SELECT mean("lag_p50_ms") AS p50, max("lag_p99_ms") AS p99 '
                f'FROM "long"."platform" WHERE time >= {int(t0 * 1000)}ms',
            )
            p50 = lag[0]["p50"] / 1000 if lag else float("nan")
            p99 = lag[0]["p99"] / 1000 if lag else float("nan")
            offered_rate = sent / rep.wall_s
            stored_rate = (stored - stored_before) / elapsed
            rows.append((load, offered_rate, stored_rate, p50, p99))
            console.print(
                f"offered {offered_rate:,.0f} readings/s for {rep.wall_s:.0f} s: stored "
                f"{stored - stored_before:,}/{sent:,} in {elapsed:.1f} s "
                f"({stored_rate:,.0f}/s); lag p50 {p50:.2f} s, p99 {p99:.2f} s"
            )
            stored_before = stored
            comps.check_alive()
    finally:
        comps.stop_all()
        stack.down()
    for load, off, got, p50, p99 in rows:
        report(
            f"Target {load:,} readings/s (lag p50 {p50:.2f} s, p99 {p99:.2f} s)",
            [
                ("offered (published, acknowledged)", off, "baseline"),
                ("stored in InfluxDB", got, "through the whole chain"),
            ],
            baseline="offered (published, acknowledged)",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--loads", default="5000,10000,20000,50000")
    args = parser.parse_args()
    main(args.seconds, [int(x) for x in args.loads.split(",")])
