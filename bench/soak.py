"""Soak: the whole embedded stack at a steady load for a long time; every process's memory.

A publisher offers batches of 50 fresh readings at a fixed rate (20,000 readings/s by default)
for the whole run, through Mosquitto, one bridge, Tansu, one worker and InfluxDB, all on this
machine. Every minute it prints each process's resident memory (and what is stored so far);
at the end, the memory of each process when warm-up ended (the baseline) against its memory
at the end (the candidate): a ratio near 1.0 is a flat process. Tansu keeps every record in
memory (no retention, no record deletion), so its line shows how fast it grows per million
readings, which is what the embedded stack cannot bound.

    python -m bench.soak [--minutes 60] [--rate 20000] [--warmup-minutes 5]
                         [--journal] [--kafka-max-rss-mb N]

``--journal`` runs the bridge as a site runs its only one: its journal on (what the plain
publisher sent is kept until stored and sent again when the embedded broker restarts empty)
and a plain persistent subscription. ``--kafka-max-rss-mb`` lowers the embedded broker's
memory bound so that it is started again, empty, during the run.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from rich.table import Table

from bench.common import bench_chain, console, machine
from bench.pipeline_e2e import paced_records
from shell.stack import Stack
from shell.stack.components import Components
from shell.stack.supervisor import rss_mb
from simulators.publish import publish
from vigie import influxql
from vigie.contracts.storage import Measurement as M
from vigie.contracts.storage import at
from vigie.errors import StorageError
from vigie.settings import Settings


def pids(stack: Stack, comps: Components) -> dict[str, int | None]:
    out: dict[str, int | None] = {name: stack.pid(name) for name in stack.services}
    out |= {name: proc.pid for name, proc in comps.procs.items()}
    out["publisher (this process)"] = os.getpid()
    return out


def stored(settings: Settings, since_ms: int) -> int:
    """Readings stored since then, counted from the 1-minute windows (a count over the raw
    points would take minutes at this size, and load the machine it measures)."""
    q = f'SELECT sum("count") FROM {at(M.AGG_1M)} WHERE time >= {since_ms // 60_000 * 60_000}ms'
    try:
        return int(influxql.scalar(settings.influx, q))
    except (OSError, StorageError):
        return -1


def main(
    minutes: float, rate: int, warmup_minutes: float, journal: bool, kafka_max_rss_mb: int
) -> None:
    if kafka_max_rss_mb:  # read by the supervisor that bench_chain starts
        os.environ["VIGIE_STACK__KAFKA_MAX_RSS_MB"] = str(kafka_max_rss_mb)
    stack, territory, settings, comps = bench_chain("vigie-soak-")
    if journal:
        comps.env |= {"VIGIE_INGEST__JOURNAL": "true", "VIGIE_INGEST__SHARED": "false"}
    samples: list[tuple[float, dict[str, float]]] = []
    done = threading.Event()
    t0 = time.time()

    def sample() -> None:
        while not done.wait(60.0):
            mem = {name: rss_mb(pid) for name, pid in pids(stack, comps).items()}
            samples.append((time.time() - t0, mem))
            line = ", ".join(f"{n} {m:,.0f} MB" for n, m in mem.items())
            console.print(
                f"{(time.time() - t0) / 60:5.1f} min: stored {stored(settings, int(t0 * 1000)):,}"
                f" readings; {line}"
            )

    seconds = minutes * 60
    try:
        comps.start_streams()
        comps.start_ingest()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rep = publish(
            paced_records(territory, rate, seconds, settings.mqtt.prefix, {}),
            settings.mqtt,
            territory.id,
            start_ms=int(t0 * 1000),
            speed=1.0,
            show_progress=False,
            client_id=f"soak-{int(t0)}",
        )
        sent = rep.batches * 50
        # drained once everything is stored, or nothing more came for 20 s (a rotation of the
        # embedded broker loses what the worker had not consumed: plain publishers, counted)
        deadline, got, last_change = time.time() + 300, -1, time.time()
        while time.time() < deadline and time.time() - last_change < 20:
            now_got = stored(settings, int(t0 * 1000) - 50)
            if now_got != got:
                got, last_change = now_got, time.time()
            if got >= sent:
                break
            comps.check_alive()
            time.sleep(2)
        end = {name: rss_mb(pid) for name, pid in pids(stack, comps).items()}
        comps.check_alive()
    finally:
        done.set()
        comps.stop_all()
        stack.down()
    rotations = (stack.root / "supervisor.log").read_text().count("outgrew its memory bound")
    console.print(
        f"offered {sent / rep.wall_s:,.0f} readings/s for {rep.wall_s / 60:.1f} min: "
        f"stored {got:,} of {sent:,}; the embedded broker was started again {rotations} times "
        f"(bound {settings.stack.kafka_max_rss_mb} MB), workers {comps.restarts} times; "
        f"the bridge's journal {'on' if journal else 'off'}, batches sent again: "
        f"{_resent(comps)}"
    )
    warm = next((m for t, m in samples if t >= warmup_minutes * 60), samples[0][1])
    table = Table(
        "process",
        "after warm-up (baseline)",
        "at the end",
        "x baseline",
        "MB per million readings",
        title=f"Resident memory over {rep.wall_s / 60:.0f} min at {sent / rep.wall_s:,.0f}/s",
    )
    for name, after in end.items():
        before = warm.get(name, float("nan"))
        table.add_row(
            name,
            f"{before:,.0f} MB",
            f"{after:,.0f} MB",
            f"{after / before:.2f}",
            f"{(after - before) / (sent / 1e6):+.2f}",
        )
    console.print(table)
    console.print(f"machine: {machine()}")


def _resent(comps: Components) -> int:
    """Batches the bridge sent again from its journal, from its log."""
    import re

    found = re.findall(r"journal sent again.*? batches=(\d+)", comps.log("ingest-0"))
    return sum(int(n) for n in found)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--warmup-minutes", type=float, default=5.0)
    parser.add_argument("--journal", action="store_true")
    parser.add_argument("--kafka-max-rss-mb", type=int, default=0)
    args = parser.parse_args()
    main(args.minutes, args.rate, args.warmup_minutes, args.journal, args.kafka_max_rss_mb)
