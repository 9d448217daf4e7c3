"""End to end: readings/s through Mosquitto -> ingest -> Kafka -> faust -> InfluxDB, and lag.

Offered loads step up; at each, a publisher sends batches of 50 fresh readings (timestamps at
publication) for a fixed time; the candidate figure is the rate the chain stored in InfluxDB
over that time plus its drain, the baseline is the offered (published and acknowledged) rate,
and the ratio says how much of the load the chain kept up with (a chain that keeps up stays
just below 1.0: the time it takes to store the last readings counts too). Lag is reading time
to the InfluxDB write acknowledgement, as the stream worker measures it per bulk ("platform"),
with the p99 of its two first stages: device to Kafka, and waiting in Kafka for the worker.
A short untimed load first lets the worker join its group and load its kernels. One bridge
and one worker share this machine's cores with the three servers and the publisher; with
``--workers 1,2,3`` each count runs on a fresh stack and the tables compare them (scale-out
by consumer group: the topics' partitions are shared among the workers), ``--bridges 2`` puts
two bridges on the shared subscription.

    python -m bench.pipeline_e2e [--seconds 15] [--loads 5000,10000,20000,50000]
                                 [--workers 1,2,3] [--bridges 1]
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import bench_chain, console, report
from simulators.publish import publish
from simulators.recording import Recorded
from vigie import influxql
from vigie.contracts.storage import RAW_RP, at
from vigie.contracts.storage import Measurement as M


def offered(territory, rate: float, seconds: float, start_ms: int, seq: dict[str, int]):
    """Batches of 50 readings, spread over the devices, paced to ``rate`` readings/s."""
    lamps = [a.id for a in territory.assets if a.kind == "lamp"]
    n_batches = int(rate * seconds / 50)
    for k in range(n_batches):
        device = lamps[k % len(lamps)]
        sim_ms = start_ms + int(k * 50 / rate * 1000)
        seq[device] = seq.get(device, -1) + 1
        yield sim_ms, device, seq[device]


def paced_records(territory, rate: float, seconds: float, prefix: str, seqs: dict[str, int]):
    start = int(time.time() * 1000)
    for sim_ms, device, seq in offered(territory, rate, seconds, start, seqs):
        wall = time.time()
        now = int(wall * 1000)
        readings = [{"ts_ms": now - 50 + i, "metric": "power_w", "value": 40.0} for i in range(50)]
        body = json.dumps(
            {"v": 1, "device_id": device, "seq": seq, "sent_at_ms": now, "readings": readings}
        ).encode()
        yield Recorded(sim_ms, f"{prefix}/{territory.id}/lighting/{device}/telemetry", body)


def offer_and_wait(territory, settings, prefix: str, influx, load: int, seconds: float, seqs):
    """Publish one paced load under ``prefix``; wait until ``influx``'s database holds all of
    it (or 120 s): (sent, stored, seconds from the first publication to now, publishing
    wall time, start)."""
    t0 = time.time()
    rep = publish(
        paced_records(territory, load, seconds, prefix, seqs),
        settings.mqtt,
        territory.id,
        start_ms=int(t0 * 1000),
        speed=1.0,
        show_progress=False,
        client_id=f"bench-{prefix}-{load}-{int(t0)}",
    )
    sent = rep.batches * 50
    deadline = time.time() + 120
    # this load's readings only: each is timed at most 50 ms before its publication
    raw = at(M.TELEMETRY, RAW_RP)
    count = f'SELECT count("value") FROM {raw} WHERE time >= {int(t0 * 1000) - 50}ms'
    stored = 0
    while time.time() < deadline:
        stored = int(influxql.scalar(influx, count) or 0)
        if stored >= sent:
            break
        time.sleep(0.25)
    return sent, stored, time.time() - t0, rep.wall_s, t0


def _load(territory, settings, load: int, seconds: float, seqs):
    """Offer one load, wait until all of it is stored; the result row."""
    sent, stored, elapsed, wall, t0 = offer_and_wait(
        territory, settings, settings.mqtt.prefix, settings.influx, load, seconds, seqs
    )
    time.sleep(11)  # the worker writes the last bulks' lag with its next report (10 s)
    lag = influxql.query(
        settings.influx,
        'SELECT mean("lag_p50_ms") AS p50, max("lag_p99_ms") AS p99, '
        'max("to_kafka_p99_ms") AS to_kafka, max("in_kafka_p99_ms") AS in_kafka '
        f"FROM {at(M.PLATFORM)} WHERE time >= {int(t0 * 1000)}ms",
    )
    p50 = lag[0]["p50"] / 1000 if lag else float("nan")
    p99 = lag[0]["p99"] / 1000 if lag else float("nan")
    if lag:
        console.print(
            f"p99 from device to Kafka {lag[0]['to_kafka'] / 1000:.2f} s, "
            f"waiting in Kafka for the worker {lag[0]['in_kafka'] / 1000:.2f} s"
        )
    offered_rate = sent / wall
    stored_rate = stored / elapsed
    console.print(
        f"offered {offered_rate:,.0f} readings/s for {wall:.0f} s: stored "
        f"{stored:,}/{sent:,} in {elapsed:.1f} s "
        f"({stored_rate:,.0f}/s, {elapsed - wall:.1f} s after the last was sent); "
        f"lag p50 {p50:.2f} s, p99 {p99:.2f} s"
    )
    return load, offered_rate, stored_rate, p50, p99


def _run(seconds: float, loads: list[int], workers: int, bridges: int) -> list[tuple]:
    """One configuration on a fresh stack: ``workers`` workers in one consumer group and
    ``bridges`` bridges on the shared subscription."""
    stack, territory, settings, comps = bench_chain("vigie-bench-")
    rows = []
    seqs: dict[str, int] = {}  # sequence numbers go on from one load to the next
    try:
        for i in range(workers):
            comps.start_streams(str(i))
        for i in range(bridges):
            comps.start_ingest(str(i))
        console.print(
            f"{workers} worker(s), {bridges} bridge(s); warming up (consumer group join, "
            "kernels loaded): not timed"
        )
        _load(territory, settings, 1_000, 3.0 + 5.0 * (workers > 1), seqs)
        for load in loads:
            rows.append(_load(territory, settings, load, seconds, seqs))
            comps.check_alive()
    finally:
        comps.stop_all()
        stack.down()
    return rows


def main(seconds: float, loads: list[int], workers: list[int], bridges: int) -> None:
    results = {n: _run(seconds, loads, n, bridges) for n in workers}
    first = workers[0]
    for i, load in enumerate(loads):
        off = results[first][i][1]
        rows = [("offered (published, acknowledged)", off, "baseline")]
        rows += [
            (f"stored, {n} worker(s)", results[n][i][2], f"lag p50 {results[n][i][3]:.2f} s, "
             f"p99 {results[n][i][4]:.2f} s")
            for n in workers
        ]  # fmt: skip
        report(
            f"Target {load:,} readings/s, {bridges} bridge(s)",
            rows,
            baseline="offered (published, acknowledged)",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--loads", default="5000,10000,20000,50000")
    parser.add_argument(
        "--workers", default="1", help="worker counts to compare, each on a fresh stack: 1,2,3"
    )
    parser.add_argument("--bridges", type=int, default=1)
    args = parser.parse_args()
    main(
        args.seconds,
        [int(x) for x in args.loads.split(",")],
        [int(x) for x in args.workers.split(",")],
        args.bridges,
    )
