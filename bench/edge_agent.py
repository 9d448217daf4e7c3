"""Edge agent footprint and queue throughput.

1. The agent as it runs on a board (``vigie edge run``, simulated driver, 1 reading every
   10 ms) against a real Mosquitto for ``--seconds``: resident memory and CPU time per 1,000
   readings; baseline: a bare Python interpreter's memory.
2. Store-and-forward throughput at batch size 50: batches written to the queue, sent over
   MQTT (QoS 1) and removed on acknowledgement, with the durable queue (SQLite WAL,
   synchronous FULL and NORMAL) against the same queue in memory; plus raw writes: the queue's
   put against plain SQLite inserts and a Python deque.

    python -m bench.edge_agent [--seconds 20]
"""

from __future__ import annotations

import argparse
import collections
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import best_of, console, report
from edge.config import Backoff
from edge.queue import BatchQueue, QueuePolicy
from edge.session import Session
from shell.stack import Stack
from vigie.contracts import Vertical
from vigie.sections import MqttSettings

PAYLOAD = json.dumps(
    {
        "v": 1,
        "device_id": "lamp-00001",
        "seq": 0,
        "sent_at_ms": 0,
        "readings": [
            {"ts_ms": 1_800_000_000_000 + i, "metric": "power_w", "value": 40.0 + i}
            for i in range(50)
        ],
    }
).encode()


def _proc_stats(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds) of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return rss_kb / 1024, ticks / 100


def footprint(mqtt: MqttSettings, home: Path, seconds: float) -> None:
    config = {
        "territory": "bench",
        "sample_period_s": 0.01,
        "batch_max_readings": 50,
        "health_period_s": 60,
        "receipts": False,  # the agent against the broker alone
        "state_dir": str(home / "edge"),
        "mqtt": mqtt.model_dump(mode="json"),
        "asset": {
            "id": "wmeter-00001",
            "kind": "water_meter",
            "district": "d00",
            "lat": 45.0,
            "lon": 5.0,
            "dma": "dma001",
        },
    }
    path = home / "agent.json"
    path.write_text(json.dumps(config))
    agent = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "--config", str(path), "--log-level", "WARNING"]
    )
    bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    time.sleep(3)  # start-up
    rss0, cpu0 = _proc_stats(agent.pid)
    q0 = BatchQueue(home / "edge" / "queue.db").next_seq()
    time.sleep(seconds)
    rss1, cpu1 = _proc_stats(agent.pid)
    q1 = BatchQueue(home / "edge" / "queue.db").next_seq()
    bare_rss, _ = _proc_stats(bare.pid)
    agent.terminate()
    bare.kill()
    agent.wait(20)
    readings = (q1 - q0) * 50
    console.print(
        f"agent: {readings / seconds:,.0f} readings/s for {seconds:.0f} s, resident "
        f"{max(rss0, rss1):.1f} MB (bare interpreter {bare_rss:.1f} MB), CPU "
        f"{(cpu1 - cpu0) / readings * 1000 * 1000:.1f} ms per 1,000 readings"
    )


def send_rate(mqtt: MqttSettings, queue: BatchQueue, n: int) -> float:
    """Readings/s through put -> MQTT QoS 1 -> acknowledgement -> removal."""
    session = Session(
        mqtt,
        f"bench-{time.monotonic_ns()}",
        "bench",
        Vertical.LIGHTING,
        "lamp-00001",
        queue,
        Backoff(),
        max_inflight=200,
    )
    session.start()
    while not session.stats.connected:
        time.sleep(0.01)
    t0 = time.perf_counter()
    for seq in range(n):
        queue.put(seq, 0, "lighting", PAYLOAD)
    while len(queue):
        time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    session.stop()
    return n * 50 / elapsed


def main(seconds: float) -> None:
    home = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    stack = Stack(home)
    stack.up()
    try:
        mqtt = MqttSettings(**stack.settings()["mqtt"])
        footprint(mqtt, home, seconds)
        n = 2000
        rows = [
            ("in-memory queue", send_rate(mqtt, BatchQueue(Path(":memory:")), n), "baseline"),
            (
                "durable, synchronous NORMAL",
                send_rate(mqtt, BatchQueue(home / "n.db", QueuePolicy(durability="normal")), n),
                "survives a crash",
            ),
            (
                "durable, synchronous FULL",
                send_rate(mqtt, BatchQueue(home / "f.db", QueuePolicy(durability="full")), n),
                "survives a power cut",
            ),
        ]
    finally:
        stack.down()
    report(f"Store and forward to Mosquitto, {n:,} batches of 50 readings", rows, "in-memory queue")

    def plain_sqlite() -> None:
        db = sqlite3.connect(home / "plain.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE IF NOT EXISTS b (seq INTEGER PRIMARY KEY, payload BLOB)")
        db.execute("DELETE FROM b")
        for seq in range(n):
            db.execute("INSERT INTO b VALUES (?, ?)", (seq, PAYLOAD))
        db.close()

    def queue_put() -> None:
        path = home / "put.db"
        path.unlink(missing_ok=True)
        q = BatchQueue(path, QueuePolicy(durability="full"))
        for seq in range(n):
            q.put(seq, 0, "lighting", PAYLOAD)
        q.close()

    def deque_put() -> None:
        d: collections.deque[bytes] = collections.deque()
        for _ in range(n):
            d.append(PAYLOAD)

    report(
        f"Writes only, {n:,} batches of 50 readings (synchronous FULL)",
        [
            ("plain SQLite inserts", n * 50 / best_of(3, plain_sqlite), "baseline"),
            (
                "BatchQueue.put",
                n * 50 / best_of(3, queue_put),
                "insert + next sequence + bound, one transaction",
            ),
            ("Python deque", n * 50 / best_of(3, deque_put), "no durability at all"),
        ],
        "plain SQLite inserts",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    main(parser.parse_args().seconds)
