"""Vigie against the flow a territory would otherwise build: Node-RED, an MQTT-in node, a
function node and node-red-contrib-influxdb's batch node (the "MING" stack), on the same
Mosquitto, the same InfluxDB 1.x with authentication, the same publisher (Vigie's own:
batches of 50 readings, QoS 1, paced), interleaved load by load.

First each system idles (Vigie past its idle threshold, so its worker fetches with the long
wait) and the CPU of every process is measured (once more after the loads, when Vigie's
worker holds the state of every device); then each system gets a warm-up in which every
device sends once (a device's first batch makes Vigie's worker read back what InfluxDB holds
of it, a cost paid once per device and worker start, not per reading).

For each system and load: readings stored out of those sent, the time to store them all
after the last was sent, the CPU seconds of the system's own processes per 1,000 readings
stored (Vigie: its bridge and its worker; the peer: the Node-RED process), their peak
resident memory, and the servers' CPU seconds per 1,000 during the same run. Both systems
stay up through the whole bench, each on its own MQTT prefix and database, so the idle one
costs what idling costs. Vigie does more per reading than the peer (validation, the Kafka
hop, de-duplication, windows, KPIs, alerts); the peer stores the raw points only.

    bench/peer_nodered/setup.sh                     # once: Node-RED into .venv/nodered
    python -m bench.peer [--seconds 15] [--loads 5000,20000,50000] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

from rich.table import Table

from bench.common import bench_chain, console, machine
from bench.pipeline_e2e import offer_and_wait
from vigie import influxql
from vigie.contracts import Territory
from vigie.contracts.storage import RAW_RP, at
from vigie.contracts.storage import Measurement as M
from vigie.settings import Settings

PEER = Path(__file__).with_name("peer_nodered")
NODE_RED = PEER.parents[1] / ".venv" / "nodered" / "node_modules" / ".bin" / "node-red"
PEER_PREFIX, PEER_DB = "peer", "peer"
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _written(pid: int) -> int:
    """Bytes a process passed to write() so far (InfluxDB: its WAL and compactions)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar"):
            return int(line.split()[1])
    return 0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


class Row(NamedTuple):
    load: int
    system: str
    offered: float
    stored: int
    sent: int
    drain_s: float
    cpu_per_k: float
    rss_mb: float
    servers: dict[str, float]
    points_per_reading: float  # InfluxDB points written per reading stored
    influx_bytes_per_reading: float  # bytes InfluxDB wrote (WAL, compactions) per reading


class Watch:
    """CPU seconds and peak resident memory of some processes over a run."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.cpu0 = {n: _cpu_s(p) for n, p in pids.items()}
        self.peak = {n: _rss_mb(p) for n, p in pids.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for n, p in self.pids.items():
                self.peak[n] = max(self.peak[n], _rss_mb(p))

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {n: _cpu_s(p) - self.cpu0[n] for n, p in self.pids.items()}


def _start_peer(home: Path, settings: Settings) -> subprocess.Popen[bytes]:
    """Node-RED with the flow, its credentials written for this run, its log in the home."""
    if not NODE_RED.exists():
        raise SystemExit(f"{NODE_RED} is missing: run bench/peer_nodered/setup.sh first")
    user = home / "peer-nodered"
    user.mkdir(parents=True, exist_ok=True)
    shutil.copy(PEER / "flow.json", user / "flows.json")
    password = Path(str(settings.influx.password_file)).read_text().strip()
    (user / "flows_cred.json").write_text(
        json.dumps({"influx": {"username": settings.influx.username, "password": password}})
    )
    influx_host, influx_port = settings.influx.url.rsplit("/", 1)[1].split(":")
    env = {
        **os.environ,
        "MQTT_HOST": settings.mqtt.host,
        "MQTT_PORT": str(settings.mqtt.port),
        "MQTT_TOPIC": f"{PEER_PREFIX}/+/+/+/telemetry",
        "INFLUX_HOST": influx_host,
        "INFLUX_PORT": influx_port,
        "INFLUX_DB": PEER_DB,
        "NODE_RED_PORT": "0",
    }
    log = (home / "logs").joinpath("peer-nodered.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [str(NODE_RED), "-u", str(user), "-s", str(PEER / "settings.js"), "flows.json"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _offer(
    territory: Territory,
    settings: Settings,
    prefix: str,
    database: str,
    load: int,
    seconds: float,
    seqs: dict[str, int],
) -> tuple[int, int, float, float]:
    """One paced load under ``prefix``, stored in ``database``: (sent, stored, seconds to
    store it all, publishing wall time)."""
    influx = settings.influx.model_copy(update={"database": database})
    sent, stored, elapsed, wall, _ = offer_and_wait(
        territory, settings, prefix, influx, load, seconds, seqs
    )
    return sent, stored, elapsed, wall


def _idle(
    systems: dict[str, tuple[str, str, dict[str, int]]],
    servers: dict[str, int],
    settings: Settings,
    seconds: float,
    title: str = "nothing sent",
) -> None:
    """Every process's share of a core while nothing is sent."""
    time.sleep(settings.streams.idle_fetch_after_s + 5)  # the worker's stream counts as idle
    pids = {n: p for _, _, own in systems.values() for n, p in own.items()}
    watch = Watch({**pids, **servers})
    time.sleep(seconds)
    cpu = watch.stop()
    table = Table(
        "process",
        "system",
        "idle CPU (core)",
        "resident MB",
        title=f"At rest, {seconds:.0f} s, {title}",
    )
    for name, (_, _, own) in systems.items():
        for n in own:
            table.add_row(n, name, f"{cpu[n] / seconds:.4f}", f"{watch.peak[n]:,.0f}")
    for n in servers:
        table.add_row(n, "server (shared)", f"{cpu[n] / seconds:.4f}", f"{watch.peak[n]:,.0f}")
    console.print(table)
    for name, (_, _, own) in systems.items():
        console.print(f"{name} at rest ({title}): {sum(cpu[n] for n in own) / seconds:.4f} core")


def main(seconds: float, loads: list[int], idle_s: float) -> None:
    stack, territory, settings, comps = bench_chain("vigie-peer-")
    stack.prepare_database(PEER_DB)
    comps.start_streams()
    comps.start_ingest()
    peer = _start_peer(stack.home, settings)
    servers = {n: stack.pid(n) for n in ("mosquitto", "kafka", "influxdb")}
    systems = {
        "Vigie": (
            settings.mqtt.prefix,
            settings.influx.database,
            {"bridge": comps.procs["ingest-0"].pid, "worker": comps.procs["streams-0"].pid},
        ),
        "Node-RED": (PEER_PREFIX, PEER_DB, {"node-red": peer.pid}),
    }
    seqs: dict[str, dict[str, int]] = {name: {} for name in systems}
    rows: list[Row] = []
    try:
        live = {s: p for s, p in servers.items() if p}
        if idle_s > 0:
            _idle(systems, live, settings, idle_s, "before any device sent")
        else:
            time.sleep(5)  # Node-RED connects and subscribes
        lamps = sum(1 for a in territory.assets if a.kind == "lamp")
        for name, (prefix, db, _pids) in systems.items():  # warm-up, not timed
            sent, stored, _, _ = _offer(
                territory, settings, prefix, db, 10_000, lamps * 50 / 10_000 + 1, seqs[name]
            )
            console.print(f"warm-up {name}: {stored:,}/{sent:,} stored, each lamp once")
        for load in loads:
            for name, (prefix, db, pids) in systems.items():
                watch = Watch({**pids, **{s: p for s, p in servers.items() if p}})
                wrote, t0 = _written(servers["influxdb"]), time.time()
                sent, stored, elapsed, wall = _offer(
                    territory, settings, prefix, db, load, seconds, seqs[name]
                )
                cpu = watch.stop()
                influx_bytes = _written(servers["influxdb"]) - wrote
                points = _points(settings, t0, stored) if name == "Vigie" else 1.0
                own = sum(cpu[n] for n in pids)
                rss = sum(watch.peak[n] for n in pids)
                per_k = 1000 / max(stored, 1)
                rows.append(
                    Row(load, name, sent / wall, stored, sent, elapsed - wall, own * per_k, rss,
                        {s: cpu[s] * per_k for s in servers if s in cpu}, points,
                        influx_bytes / max(stored, 1))
                )  # fmt: skip
                console.print(
                    f"{name} at {load:,}/s: stored {stored:,}/{sent:,}, "
                    f"{elapsed - wall:.1f} s after the last; own CPU {own * per_k:.3f} s per "
                    f"1,000; resident {rss:,.0f} MB"
                )
            comps.check_alive()
        if idle_s > 0:  # at rest again, each system holding what it keeps of every device
            _idle(systems, live, settings, idle_s, "after every device sent")
        stored = {name: _readings(settings, db) for name, (_, db, _) in systems.items()}
        disk = {name: _on_disk(stack.root, db) for name, (_, db, _) in systems.items()}
    finally:
        peer.terminate()
        peer.wait(20)
        comps.stop_all()
        stack.down()
    _report(rows, loads)
    for name, parts in disk.items():
        per = ", ".join(f"{rp} {b / max(stored[name], 1):.1f}" for rp, b in sorted(parts.items()))
        console.print(
            f"{name}: InfluxDB holds {sum(parts.values()) / 1e6:.1f} MB for its "
            f"{stored[name]:,} readings (warm-up included): bytes per reading by retention "
            f"policy, data and write-ahead log: {per}"
        )


def _readings(settings: Settings, database: str) -> int:
    """Raw readings a database holds (both systems write them to the default policy)."""
    influx = settings.influx.model_copy(update={"database": database})
    return int(influxql.scalar(influx, f"SELECT count(*) FROM {at(M.TELEMETRY, RAW_RP)}"))


def _on_disk(root: Path, database: str) -> dict[str, int]:
    """Bytes InfluxDB keeps for a database, per retention policy (TSM files and WAL)."""
    out: dict[str, int] = {}
    for part in ("data", "wal"):
        base = root / "influxdb" / part / database
        for rp in base.iterdir() if base.exists() else ():
            size = sum(f.stat().st_size for f in rp.rglob("*") if f.is_file())
            out[rp.name] = out.get(rp.name, 0) + size
    return out


def _points(settings: Settings, t0: float, stored: int) -> float:
    """Points the worker wrote per reading stored since ``t0`` (its platform reports: every
    line it sent InfluxDB, raw readings, windows, KPIs and its own figures)."""
    time.sleep(11)  # the worker reports every 10 s
    lines = influxql.scalar(
        settings.influx,
        f'SELECT sum("lines_out") FROM {at(M.PLATFORM)} WHERE time >= {int(t0 * 1000)}ms '
        "AND \"component\" = 'streams' AND \"vertical\" = ''",
    )
    return float(lines or 0) / max(stored, 1)


def _report(rows: list[Row], loads: list[int]) -> None:
    table = Table(
        "offered/s",
        "system",
        "stored",
        "drain s",
        "own CPU-s / 1,000",
        "resident MB",
        "servers' CPU-s / 1,000 (mosquitto, kafka, influxdb)",
        "points / reading",
        "InfluxDB bytes written / reading",
        title="Vigie against Node-RED (MING flow), same servers, same publisher",
    )
    for r in rows:
        table.add_row(
            f"{r.offered:,.0f}",
            r.system,
            f"{r.stored:,}/{r.sent:,}",
            f"{r.drain_s:.1f}",
            f"{r.cpu_per_k:.3f}",
            f"{r.rss_mb:,.0f}",
            ", ".join(f"{s} {v:.3f}" for s, v in r.servers.items()),
            f"{r.points_per_reading:.2f}",
            f"{r.influx_bytes_per_reading:,.0f}",
        )
    console.print(table)
    for load in loads:
        mine = next(r for r in rows if r.load == load and r.system == "Vigie")
        peer = next(r for r in rows if r.load == load and r.system == "Node-RED")
        whole = (mine.cpu_per_k + sum(mine.servers.values())) / max(
            peer.cpu_per_k + sum(peer.servers.values()), 1e-9
        )
        console.print(
            f"at {load:,}/s: Vigie / Node-RED own CPU per 1,000 stored "
            f"{mine.cpu_per_k / max(peer.cpu_per_k, 1e-9):.2f}x (with the servers' "
            f"{whole:.2f}x), resident memory "
            f"{mine.rss_mb / peer.rss_mb:.2f}x, stored {mine.stored / mine.sent:.0%} / "
            f"{peer.stored / peer.sent:.0%}"
        )
    console.print(f"machine: {machine()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--loads", default="5000,20000,50000")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="0: no idle phase")
    args = parser.parse_args()
    main(args.seconds, [int(x) for x in args.loads.split(",")], args.idle_seconds)
