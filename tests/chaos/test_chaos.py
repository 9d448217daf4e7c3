"""Chaos: one fault per case, a Vigie edge agent sending throughout, known truth at the end.

Each case runs the whole chain (Mosquitto, bridge, Tansu, worker, InfluxDB) with an edge
agent sampling every 50 ms, kills one part with SIGKILL mid-stream, lets it come back (the
stack's supervisor restarts servers; bridges, workers and agents are restarted the way a
service manager restarts them), and checks that every reading the agent made is stored once,
that every 1-minute window equals the one computed from those readings, and that the agent's
queue is empty (every batch receipted). The time to recover is printed.

Tansu, the embedded Kafka-compatible broker, keeps data in memory only: its kill is tested
for the bridge (it keeps running and sends again once topics are back), not for the whole
chain; see docs/developers.md, "Guarantees".
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from edge.queue import BatchQueue
from simulators.territory import generate
from tests.helpers import running_chain
from vigie import influxql
from vigie.contracts import TELEMETRY_BATCH, KafkaTopics, TelemetryBatch
from vigie.kafka import read_topic
from vigie.mqtt import connect, make_client

pytestmark = pytest.mark.chaos
T = generate(150, seed=31, territory_id="chaos")
LAMPS = [a for a in T.assets if a.kind == "lamp"]


class Collector:
    """Every telemetry batch the broker delivered for a device, resends included."""

    def __init__(self, settings, device: str) -> None:
        self.batches: dict[int, TelemetryBatch] = {}
        self.client = make_client(settings.mqtt, f"chaos-collector-{time.monotonic_ns()}")
        topic = f"{settings.mqtt.prefix}/{T.id}/+/{device}/telemetry"
        self.client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
        self.client.on_message = lambda _c, _u, m: self._keep(m.payload)
        self.client.reconnect_delay_set(0.1, 0.5)
        connect(self.client, settings.mqtt, session_expiry_s=3600)
        self.client.loop_start()

    def _keep(self, payload: bytes) -> None:
        batch = TELEMETRY_BATCH.validate_json(payload)
        assert self.batches.setdefault(batch.seq, batch) == batch, "a resend is the same batch"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class AgentProcess:
    """``vigie edge run`` for one lamp, as on its board."""

    def __init__(self, settings, tmp_path: Path, asset) -> None:
        self.state = tmp_path / f"state-{asset.id}"
        config = {
            "territory": T.id,
            "asset": asset.model_dump(mode="json", exclude_none=True),
            "sample_period_s": 0.05,
            "batch_max_readings": 5,
            "health_period_s": 3,
            "state_dir": str(self.state),
            "mqtt": settings.mqtt.model_dump(mode="json"),
            "backoff": {"first_s": 0.1, "max_s": 0.5},
            "receipt_timeout_s": 2.0,
            "stop_timeout_s": 40.0,
        }
        self.path = tmp_path / f"agent-{asset.id}.json"
        self.path.write_text(json.dumps(config))
        self.log = (tmp_path / f"agent-{asset.id}.log").open("ab")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "shell", "edge", "run", "--config", str(self.path)]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) == 0

    def queued(self) -> int:
        queue = BatchQueue(self.state / "queue.db")
        try:
            return len(queue)
        finally:
            queue.close()


@pytest.fixture
def chain(settings, isolated, tmp_path):
    with running_chain(settings, isolated, tmp_path, T) as comps:
        yield comps


def _run_case(settings, chain, tmp_path, fault, lamp_index: int) -> float:
    """Agent sends, ``fault`` strikes after 3 s and returns once it has recovered (seconds)."""
    asset = LAMPS[lamp_index]
    collector = Collector(settings, asset.id)
    agent = AgentProcess(settings, tmp_path, asset)
    try:
        agent.start()
        time.sleep(3)
        recovered_s = fault(agent)
        time.sleep(3)
        agent.stop()
        chain.check_alive()
        time.sleep(1)
    finally:
        if agent.proc is not None and agent.proc.poll() is None:
            agent.proc.kill()
        collector.close()
    print(f"\nrecovered in {recovered_s:.1f} s")
    _check_exact(settings, asset.id, collector.batches)
    assert agent.queued() == 0, "every batch receipted, none left to send"
    return recovered_s


def _check_exact(
    settings, device: str, batches: dict[int, TelemetryBatch], timeout_s: float = 40
) -> None:
    """Every reading of every batch stored once; each 1-minute window equals the truth."""
    assert sorted(batches) == list(range(len(batches))), "the agent sent every sequence"
    truth: dict[tuple[str, int], list[float]] = defaultdict(list)
    for batch in batches.values():
        for r in batch.readings:
            truth[(r["metric"], r["ts_ms"] // 60_000 * 60_000)].append(r["value"])
    readings = sum(len(v) for v in truth.values())
    where = f"WHERE device='{device}'"
    deadline = time.monotonic() + timeout_s
    while True:
        raw = int(
            influxql.scalar(
                settings.influx, f'SELECT count("value") FROM "raw"."telemetry" {where}'
            )
        )
        rows = influxql.query(
            settings.influx,
            f'SELECT "count", "sum", "min", "max" FROM "minute"."agg_1m" {where} GROUP BY "metric"',
        )
        got = {(r["metric"], r["time"]): r for r in rows}
        if (raw >= readings and len(got) >= len(truth)) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert raw == readings, "every reading stored once"
    assert set(got) == set(truth)
    for key, values in truth.items():
        row = got[key]
        assert row["count"] == len(values), f"window {key}: no reading lost or counted twice"
        assert row["sum"] == pytest.approx(sum(values), rel=1e-9, abs=1e-9)
        assert (row["min"], row["max"]) == (min(values), max(values))


def _wait(predicate, timeout_s: float = 60) -> float:
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < timeout_s, "did not recover in time"
        time.sleep(0.1)
    return time.monotonic() - t0


def _kill_server(stack, name: str) -> float:
    """SIGKILL a server; the supervisor starts it again on the same port."""
    pid = stack.pid(name)
    os.kill(pid, signal.SIGKILL)
    return _wait(lambda: stack.pid(name) not in (None, pid) and stack.services[name].ready())


def test_mosquitto_killed(stack, settings, chain, tmp_path):
    assert _run_case(settings, chain, tmp_path, lambda _a: _kill_server(stack, "mosquitto"), 0) < 10


def test_influxdb_killed(stack, settings, chain, tmp_path):
    assert _run_case(settings, chain, tmp_path, lambda _a: _kill_server(stack, "influxdb"), 1) < 10


def test_bridge_killed(settings, chain, tmp_path):
    def fault(_agent) -> float:
        t0 = time.monotonic()
        chain.stop("ingest-0", signal.SIGKILL)
        time.sleep(1)  # a service manager's restart delay
        chain.start_ingest()
        return time.monotonic() - t0

    assert _run_case(settings, chain, tmp_path, fault, 2) < 30


def test_worker_killed(settings, chain, tmp_path):
    def fault(_agent) -> float:
        t0 = time.monotonic()
        chain.stop("streams-0", signal.SIGKILL)
        # started again once the broker dropped the dead member (session timeout, 10 s)
        time.sleep(11)
        chain.start_streams()
        return time.monotonic() - t0

    assert _run_case(settings, chain, tmp_path, fault, 3) < 30


def test_edge_agent_killed(settings, chain, tmp_path):
    def fault(agent: AgentProcess) -> float:
        t0 = time.monotonic()
        agent.kill()
        time.sleep(1)
        agent.start()
        return time.monotonic() - t0

    assert _run_case(settings, chain, tmp_path, fault, 4) < 30


def test_edge_agent_killed_while_offline(stack, settings, chain, tmp_path):
    """The broker stops, the agent queues, is killed, comes back before the broker does."""

    def fault(agent: AgentProcess) -> float:
        t0 = time.monotonic()
        stack.stop("mosquitto")
        time.sleep(1.5)
        agent.kill()
        agent.start()
        time.sleep(1)
        stack.start("mosquitto")
        return time.monotonic() - t0

    assert _run_case(settings, chain, tmp_path, fault, 5) < 30


def test_bridge_keeps_running_when_tansu_is_killed(stack, settings, chain):
    """The bridge waits for Kafka with its MQTT messages unacknowledged, creates the topics
    again when the broker is back empty, and goes on; batches sent afterwards arrive."""
    recovered = _kill_server(stack, "kafka")
    client = make_client(settings.mqtt, "chaos-plain")
    connect(client, settings.mqtt)
    client.loop_start()
    lamp = LAMPS[6].id
    now = int(time.time() * 1000)
    for seq in range(20):
        batch = {
            "v": 1,
            "device_id": lamp,
            "seq": seq,
            "sent_at_ms": now,
            "readings": [{"ts_ms": now - 1000 + seq, "metric": "power_w", "value": 20.0}],
        }
        topic = f"{settings.mqtt.prefix}/{T.id}/lighting/{lamp}/telemetry"
        client.publish(topic, json.dumps(batch).encode(), qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    topic = KafkaTopics(settings.kafka.topic_prefix).telemetry("lighting")
    seqs: set[int] = set()

    def arrived() -> bool:
        records = asyncio.run(read_topic(settings.kafka, topic, timeout_s=5))
        seqs.update(b.seq for r in records for b in _bundle(r.value) if b.device_id == lamp)
        return seqs >= set(range(20))

    _wait(arrived, timeout_s=90)
    chain.check_alive()
    print(f"\nkafka back in {recovered:.1f} s")


def _bundle(value: bytes) -> list[TelemetryBatch]:
    from vigie.contracts import TELEMETRY_BUNDLE

    return TELEMETRY_BUNDLE.validate_json(value)


def test_tansu_killed(stack, settings, chain, tmp_path):
    """Tansu comes back empty: the bridge sends its bulk again, the worker exits for a fresh
    start (started again as a service manager would) and rebuilds its windows from InfluxDB,
    the agent sends again what no receipt named."""

    def fault(_agent) -> float:
        t0 = time.monotonic()
        worker = chain.procs["streams-0"]
        _kill_server(stack, "kafka")
        assert worker.wait(30) == 75, "the worker exits to start afresh"
        _wait(lambda: chain.restarts == 1 and chain.procs["streams-0"] is not worker)
        return time.monotonic() - t0

    assert _run_case(settings, chain, tmp_path, fault, 7) < 60


def test_a_window_left_short_by_a_worker_stopped_mid_write_is_rebuilt_from_raw_readings(
    stack, settings, chain
):
    """A worker stopped between writing a bulk's raw readings and its windows (``kill -9``,
    or its own exit when Tansu came back empty) leaves a 1-minute window that misses readings
    InfluxDB holds. The next worker, with no state, computes the window again from the raw
    readings; before, it started from the short window and never counted those readings
    again (the fresh-clone failure ``assert 156 == 308``)."""
    lamp = LAMPS[14].id
    minute = (int(time.time() * 1000) - 600_000) // 60_000 * 60_000
    client = make_client(settings.mqtt, f"plain-{time.monotonic_ns()}")
    connect(client, settings.mqtt)
    client.loop_start()
    topic = f"{settings.mqtt.prefix}/{T.id}/lighting/{lamp}/telemetry"

    def send(seq: int, offsets: range) -> None:
        batch = {"v": 1, "device_id": lamp, "seq": seq, "sent_at_ms": minute + 59_000,
                 "readings": [{"ts_ms": minute + o * 1000, "metric": "power_w", "value": 10.0}
                              for o in offsets]}  # fmt: skip
        client.publish(topic, json.dumps(batch).encode(), qos=1).wait_for_publish(5)

    where = f"WHERE device='{lamp}' AND metric='power_w'"

    def window() -> dict:
        rows = influxql.query(
            settings.influx, f'SELECT * FROM "minute"."agg_1m" {where} GROUP BY *'
        )
        return rows[0] if rows else {}

    try:
        send(0, range(10))
        _wait(lambda: window().get("count") == 10)
        worker = chain.procs["streams-0"]
        _kill_server(stack, "kafka")  # the worker's state goes with the broker
        assert worker.wait(30) == 75
        _wait(lambda: chain.procs["streams-0"] is not worker)
        stored = window()
        tags = ",".join(
            f"{k}={stored[k]}"
            for k in ("device", "district", "metric", "territory", "vertical")
            if stored.get(k)
        )
        influxql.write_lines(  # the window as a worker stopped mid-write left it
            settings.influx,
            [f"agg_1m,{tags} count=4i,sum=40,min=10,max=10,mean=10,last=10,"
             f"last_ts_ms={minute + 3000}i {minute}"],
            "minute",
        )  # fmt: skip
        assert window()["count"] == 4
        send(1, range(20, 25))
        _wait(lambda: window().get("count") != 4)
        time.sleep(2)
    finally:
        client.loop_stop()
        client.disconnect()
    chain.check_alive()
    assert window()["count"] == 15, "the ten stored readings and the five new ones"
    assert window()["sum"] == 150.0


def test_a_worker_stops_on_sigterm_even_when_kafka_is_gone(stack, settings, chain):
    """faust waits for the broker at shutdown; a stop must end all the same."""
    time.sleep(3)  # the worker is up and has joined its group
    stack.stop("kafka")  # on purpose: the supervisor leaves it stopped
    try:
        worker = chain.procs["streams-0"]
        t0 = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(40)
        took = time.monotonic() - t0
    finally:
        stack.start("kafka")
    print(f"\nstopped in {took:.1f} s")
    assert took < 15, "stop_timeout_s (10 s) bounds a stop"


def test_tansu_outgrowing_its_memory_bound_is_started_again_empty(tmp_path, monkeypatch):
    """Tansu cannot delete records; past ``kafka_max_rss_mb`` the supervisor starts it again
    empty. An edge agent sending meanwhile loses nothing; the broker's memory stays bounded."""
    from bench.pipeline_e2e import paced_records
    from shell.stack import Stack
    from shell.stack.supervisor import rss_mb
    from simulators.publish import publish
    from vigie.settings import Settings

    home = tmp_path / "home"
    monkeypatch.setenv("VIGIE_HOME", str(home))
    monkeypatch.setenv("VIGIE_STACK__KAFKA_MAX_RSS_MB", "40")
    stack = Stack(home)
    stack.up()
    try:
        settings = Settings()
        first = stack.pid("kafka")
        with running_chain(settings, {"VIGIE_HOME": str(home)}, tmp_path, T) as chain:
            # not a lamp: the filler's batches go to every lamp
            asset = next(a for a in T.assets if a.kind == "water_meter")
            collector = Collector(settings, asset.id)
            agent = AgentProcess(settings, tmp_path, asset)
            agent.start()
            try:
                publish(
                    paced_records(T, 20_000, 25, settings.mqtt.prefix, {}),
                    settings.mqtt,
                    T.id,
                    start_ms=int(time.time() * 1000),
                    speed=1.0,
                    show_progress=False,
                    client_id="chaos-filler",
                )
                time.sleep(3)
                agent.stop()
                chain.check_alive()
            finally:
                if agent.proc is not None and agent.proc.poll() is None:
                    agent.proc.kill()
                collector.close()
            rotated = stack.pid("kafka") != first
            size = rss_mb(stack.pid("kafka"))
            _check_exact(settings, asset.id, collector.batches)
            assert agent.queued() == 0
        log = (stack.root / "supervisor.log").read_text()
    finally:
        stack.down()
    assert rotated and "outgrew its memory bound" in log
    assert size < 40 + 20, "bounded: started again before it grew much past its bound"


def test_one_of_two_bridges_stopped_for_good(settings, chain, tmp_path):
    """A bridge instance that stops for good hands its share back: the broker routes nothing
    more to it and the other instance takes the whole load."""

    def fault(_agent) -> float:
        t0 = time.monotonic()
        chain.stop("ingest-1")  # SIGTERM, never started again
        return time.monotonic() - t0

    chain.start_ingest("1")
    _run_case(settings, chain, tmp_path, fault, 9)
    assert "share handed back, session ended" in chain.log("ingest-1")


class PlainPublisher:
    """A plain MQTT device: one batch every 10 ms at QoS 1, a sequence number each, nothing
    kept once its client gave up on a PUBACK. Reading ``seq`` is timed ``base + seq * 100``."""

    def __init__(self, settings, lamp: str) -> None:
        self.settings, self.lamp = settings, lamp
        self.topic = f"{settings.mqtt.prefix}/{T.id}/lighting/{lamp}/telemetry"
        self.client = make_client(settings.mqtt, f"chaos-plain-{lamp}")
        self.client.reconnect_delay_set(0.1, 0.5)
        connect(self.client, settings.mqtt)
        self.client.loop_start()
        self.base = int(time.time() * 1000) - 600_000
        self.sent = 0
        self.acked: set[int] = set()
        self._stop = threading.Event()
        self._runner = threading.Thread(target=self._publish)
        self._runner.start()

    def _publish(self) -> None:
        while not self._stop.is_set():
            seq, at = self.sent, self.base + self.sent * 100
            batch = {
                "v": 1,
                "device_id": self.lamp,
                "seq": seq,
                "sent_at_ms": at,
                "readings": [{"ts_ms": at, "metric": "power_w", "value": 20.0}],
            }
            info = self.client.publish(self.topic, json.dumps(batch).encode(), qos=1)
            self.sent += 1
            try:  # paho raises when the client was disconnected at publish time
                info.wait_for_publish(2)
                if info.is_published():
                    self.acked.add(seq)
            except (RuntimeError, ValueError):
                pass
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._runner.join(30)
        self.client.disconnect()
        self.client.loop_stop()

    def stored(self) -> set[int]:
        """The sequence numbers whose reading InfluxDB holds."""
        rows = influxql.query(
            self.settings.influx,
            f'SELECT "value" FROM "raw"."telemetry" WHERE device=\'{self.lamp}\'',
        )
        return {(int(r["time"]) - self.base) // 100 for r in rows}

    def fleet(self) -> tuple[int, int]:
        """The last sequence number and the missing ones, as the fleet view shows them."""
        rows = influxql.query(
            self.settings.influx,
            f'SELECT last("last_seq") AS s, last("missing_seq") AS m FROM "minute"."fleet" '
            f"WHERE device='{self.lamp}'",
        )
        return (int(rows[0]["s"]), int(rows[0]["m"])) if rows else (-1, 0)

    def settle(self, timeout_s: float = 60) -> tuple[int, int, int]:
        """Waits until every sequence number is stored or counted missing: (stored, missing,
        acknowledged by the broker and lost)."""
        deadline = time.monotonic() + timeout_s
        while True:
            stored = self.stored()
            last_seq, missing = self.fleet()
            settled = last_seq == self.sent - 1 and len(stored) + missing == self.sent
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        print(
            f"\n{self.sent} batches sent, {len(self.acked)} acknowledged by the broker, "
            f"{len(stored)} stored, {missing} counted missing, "
            f"{len(self.acked - stored)} lost after the broker's acknowledgement"
        )
        assert last_seq == self.sent - 1
        assert len(stored) + missing == self.sent, "every batch stored or counted missing"
        return len(stored), missing, len(self.acked - stored)


def test_a_plain_publishers_batches_lost_with_tansu_are_counted(stack, settings, chain):
    """A plain MQTT device has nothing to send again: what Tansu held and the worker had not
    consumed is lost, and shows as missing sequence numbers on the fleet view. The worker is
    paused while Tansu is killed, so that a loss happens every run."""
    device = PlainPublisher(settings, LAMPS[10].id)
    try:
        _wait(lambda: len(device.stored()) > 0)
        worker = chain.procs["streams-0"]
        worker.send_signal(signal.SIGSTOP)
        time.sleep(2)  # batches pile up in Tansu, acknowledged, not consumed
        _kill_server(stack, "kafka")
        worker.send_signal(signal.SIGCONT)
        time.sleep(8)
    finally:
        device.stop()
    _, missing, _ = device.settle()
    chain.check_alive()
    assert missing > 0, "the paused worker had not consumed what Tansu lost"


@pytest.fixture
def journaled_chain(settings, isolated, tmp_path):
    """The chain with the bridge's journal on, as a site runs it."""
    with running_chain(
        settings, {**isolated, "VIGIE_INGEST__JOURNAL": "true"}, tmp_path, T
    ) as comps:
        yield comps


def test_with_the_journal_a_plain_publisher_loses_nothing_when_tansu_is_killed(
    stack, settings, journaled_chain
):
    """The same fault as above with the bridge's journal on: what the plain device sent and
    the broker acknowledged is kept by the bridge until the worker stored it, and sent again
    once Tansu is back empty; every batch is stored, once, none missing."""
    device = PlainPublisher(settings, LAMPS[12].id)
    try:
        _wait(lambda: len(device.stored()) > 0)
        worker = journaled_chain.procs["streams-0"]
        worker.send_signal(signal.SIGSTOP)
        time.sleep(2)
        _kill_server(stack, "kafka")
        worker.send_signal(signal.SIGCONT)
        time.sleep(8)
    finally:
        device.stop()
    stored, missing, lost = device.settle(timeout_s=120)
    journaled_chain.check_alive()
    assert "journal sent again" in journaled_chain.log("ingest-0")
    assert missing == 0 and lost == 0, "nothing the broker acknowledged was lost"
    assert stored == device.sent
    counted = influxql.scalar(
        settings.influx,
        f'SELECT sum("count") FROM "minute"."agg_1m" WHERE device=\'{device.lamp}\'',
    )
    assert int(counted) == device.sent, "each reading counted once in its window"


def test_a_sole_bridge_keeps_what_a_plain_device_sent_while_it_and_the_broker_restarted(
    stack, settings, isolated, tmp_path
):
    """Bridge stopped, Mosquitto stopped and started again, 10 batches published by a plain
    QoS 1 device and acknowledged, bridge started: all 10 stored. A sole bridge holds a plain
    persistent subscription, which Mosquitto restores (Debian's 2.0 restores no shared one:
    with it, 0 of 10 arrived)."""
    env = {**isolated, "VIGIE_INGEST__SHARED": "false"}
    lamp = LAMPS[13].id
    with running_chain(settings, env, tmp_path, T) as comps:
        comps.stop("ingest-0")  # graceful: a sole bridge keeps its session
        stack.stop("mosquitto")
        stack.start("mosquitto")
        client = make_client(settings.mqtt, f"plain-{time.monotonic_ns()}")
        connect(client, settings.mqtt)
        client.loop_start()
        base = int(time.time() * 1000) - 60_000
        topic = f"{settings.mqtt.prefix}/{T.id}/lighting/{lamp}/telemetry"
        for seq in range(10):
            batch = {"v": 1, "device_id": lamp, "seq": seq, "sent_at_ms": base + seq,
                     "readings": [{"ts_ms": base + seq * 1000, "metric": "power_w",
                                   "value": 30.0}]}  # fmt: skip
            info = client.publish(topic, json.dumps(batch).encode(), qos=1)
            info.wait_for_publish(5)
            assert info.is_published(), "acknowledged by the broker"
        client.loop_stop()
        client.disconnect()
        comps.start_ingest()
        query = f'SELECT count("value") FROM "raw"."telemetry" WHERE device=\'{lamp}\''
        _wait(lambda: influxql.scalar(settings.influx, query) >= 10, timeout_s=60)
        comps.check_alive()
    assert influxql.scalar(settings.influx, query) == 10


def test_a_plain_publisher_across_a_mosquitto_kill(stack, settings, chain):
    """Mosquitto ``kill -9`` with the bridges online: what a plain device lost is at most what
    the broker had acknowledged and not yet handed on or saved (persistence every second), and
    every lost batch shows as missing on the fleet view."""
    device = PlainPublisher(settings, LAMPS[11].id)
    try:
        _wait(lambda: len(device.stored()) > 0)
        time.sleep(1)
        recovered = _kill_server(stack, "mosquitto")
        time.sleep(4)
    finally:
        device.stop()
    _, _, lost = device.settle()
    chain.check_alive()
    print(f"mosquitto back in {recovered:.1f} s")
    assert lost <= 150, "at most the last ~1.5 s of acknowledged batches (about 70 a second)"


# the same territory id, with enough cabinets (partition keys) to feed every partition
WIDE = generate(2000, seed=31, territory_id="chaos")


@pytest.fixture
def wide_chain(settings, isolated, tmp_path):
    with running_chain(settings, isolated, tmp_path, WIDE) as comps:
        yield comps


def _one_lamp_per_partition(partitions: int) -> list:
    """A lamp whose records land on each partition (the bridge keys them by cabinet and the
    producer hashes keys with Kafka's default partitioner)."""
    from aiokafka.partitioner import DefaultPartitioner

    every = list(range(partitions))
    chosen: dict[int, object] = {}
    for lamp in (a for a in WIDE.assets if a.kind == "lamp"):
        p = DefaultPartitioner()(lamp.partition_key.encode(), every, every)
        chosen.setdefault(p, lamp)
    assert len(chosen) == partitions, "the chaos territory feeds every partition"
    return [chosen[p] for p in every]


def _agents_through(settings, chain, tmp_path, faults, timeout_s: float = 40) -> int:
    """One agent per partition sends while ``faults`` runs; then every reading is stored once,
    every 1-minute window is exact and every batch receipted. When the agents started (ms)."""
    lamps = _one_lamp_per_partition(settings.kafka.partitions)
    collectors = [Collector(settings, lamp.id) for lamp in lamps]
    agents = [AgentProcess(settings, tmp_path, lamp) for lamp in lamps]
    start_ms = int(time.time() * 1000)
    try:
        for agent in agents:
            agent.start()
        faults()
        for agent in agents:
            agent.stop()
        chain.check_alive()
        time.sleep(1)
    finally:
        for agent in agents:
            if agent.proc is not None and agent.proc.poll() is None:
                agent.proc.kill()
        for collector in collectors:
            collector.close()
    for lamp, collector in zip(lamps, collectors, strict=True):
        _check_exact(settings, lamp.id, collector.batches, timeout_s)
    assert all(agent.queued() == 0 for agent in agents), "every batch receipted"
    time.sleep(11)  # each process's report on itself
    return start_ms


def test_two_workers_share_the_load_and_one_killed_then_back_loses_nothing(
    settings, wide_chain, tmp_path
):
    """Scale-out: a second worker joins the consumer group, takes part of the partitions, is
    killed with SIGKILL mid-stream (its partitions move to the first) and starts again (they
    move back). One agent per partition sends throughout; every reading is stored once and
    every 1-minute window is exact, and both workers did part of the work."""
    chain = wide_chain
    chain.start_streams("1")
    time.sleep(8)  # the group rebalanced over two members
    restarted: list[int] = []

    def faults() -> None:
        time.sleep(4)
        chain.stop("streams-1", signal.SIGKILL)
        time.sleep(11)  # the broker drops the dead member; its partitions move to streams-0
        chain.start_streams("1")
        restarted.append(chain.procs["streams-1"].pid)
        time.sleep(8)  # its partitions move back

    start_ms = _agents_through(settings, chain, tmp_path, faults)
    working = _shares(settings, "streams", "readings", start_ms)
    print(f"\nreadings per worker instance: {working}")
    host = socket.gethostname()
    first = chain.procs["streams-0"].pid
    assert {f"{host}-{first}", f"{host}-{restarted[0]}"} <= set(working), "the load was shared"


def _shares(settings, component: str, field: str, start_ms: int) -> dict[str, float]:
    """What each instance of a component reported doing since ``start_ms`` (its platform
    points: a worker's readings, a bridge's MQTT messages)."""
    rows = influxql.query(
        settings.influx,
        f'SELECT sum("{field}") AS "n" FROM "long"."platform" WHERE time >= {start_ms}ms '
        f'AND "component" = \'{component}\' AND "vertical" = \'\' GROUP BY "instance"',
    )
    return {r["instance"]: r["n"] for r in rows if r["n"]}


@pytest.fixture
def churn_chain(settings, isolated, tmp_path):
    # a worker whose table recovery hangs (streams.stall) starts afresh within the test's wait
    env = {**isolated, "VIGIE_STREAMS__RECOVERY_STALL_S": "20"}
    with running_chain(settings, env, tmp_path, WIDE) as comps:
        yield comps


def test_three_workers_and_two_bridges_under_churn_lose_nothing(settings, churn_chain, tmp_path):
    """Scale-out with churn, under load: three workers in one consumer group and two bridges
    on the shared subscription. One worker leaves gracefully (SIGTERM) and a fourth joins, then
    one bridge is killed with SIGKILL and started again. One agent per partition sends
    throughout; every reading is stored once, every 1-minute window is exact, three workers
    and both bridges did part of the work."""
    chain = churn_chain
    chain.start_streams("1")
    chain.start_streams("2")
    chain.start_ingest("1")
    time.sleep(10)  # the group rebalanced over three members

    def faults() -> None:
        time.sleep(5)
        chain.stop("streams-2")  # graceful: it commits, leaves the group, its partitions move
        time.sleep(4)
        chain.start_streams("3")  # joins: the partitions are shared out again
        time.sleep(6)
        chain.stop("ingest-1", signal.SIGKILL)
        time.sleep(2)
        chain.start_ingest("1")  # same client id: its persistent session is taken up again
        time.sleep(6)

    start_ms = _agents_through(settings, chain, tmp_path, faults, timeout_s=90)
    workers = _shares(settings, "streams", "readings", start_ms)
    bridges = _shares(settings, "ingest", "messages_in", start_ms)
    print(f"\nreadings per worker: {workers}\nMQTT messages per bridge: {bridges}")
    print(f"workers started afresh after a stalled recovery: {chain.restarts}")
    assert len(workers) >= 3, "three workers of the group did part of the work"
    assert {"0", "1"} <= set(bridges), "both bridges took part of the messages"
