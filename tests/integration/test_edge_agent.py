"""Integration: the edge agent against real Mosquitto brokers started by the tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from edge.agent import Agent
from edge.config import AgentConfig
from edge.queue import BatchQueue
from edge.session import FatalConnectError
from shell.pki import create_ca, issue
from shell.stack import Stack
from shell.stack.services import SecureMosquitto, free_port, mosquitto_password_file
from vigie.contracts import TELEMETRY_BATCH
from vigie.mqtt import make_client

pytestmark = pytest.mark.integration
METER = {
    "id": "wmeter-00001",
    "kind": "water_meter",
    "district": "d00",
    "lat": 45.0,
    "lon": 5.0,
    "dma": "dma001",
}


def _config(settings, tmp_path, **over) -> AgentConfig:
    base = {
        "territory": "t1",
        "sample_period_s": 0.02,
        "batch_max_readings": 10,
        "health_period_s": 3600,
        "state_dir": str(tmp_path / "state"),
        "mqtt": settings.mqtt.model_dump(mode="json"),
        "asset": METER,
        "backoff": {"first_s": 0.1, "max_s": 0.5},
        # these tests are about the agent and the broker alone: a batch leaves the queue at
        # the broker's PUBACK; storage receipts are tested through the whole chain in
        # tests/e2e/test_receipts.py
        "receipts": False,
    }
    return AgentConfig.model_validate({**base, **over})


class Collector:
    """A persistent QoS 1 subscriber that survives broker restarts."""

    def __init__(self, settings, topic_filter: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.client = make_client(settings.mqtt, f"collector-{time.monotonic_ns()}")
        self.client.on_connect = lambda c, *_a: c.subscribe(topic_filter, qos=1)
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.client.reconnect_delay_set(0.1, 0.5)
        from vigie.mqtt import connect

        connect(self.client, settings.mqtt, session_expiry_s=3600)
        self.client.loop_start()
        time.sleep(0.3)

    def batches(self):  # type: ignore[no-untyped-def]
        return [
            TELEMETRY_BATCH.validate_json(p) for t, p in self.messages if t.endswith("/telemetry")
        ]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _check_complete(batches, expected_count: int) -> None:
    seqs = [b.seq for b in batches]
    assert sorted(set(seqs)) == list(range(expected_count)), "every batch arrived"
    first_seen = list(dict.fromkeys(seqs))
    assert first_seen == sorted(first_seen), "in order"
    by_seq = {}
    for b in batches:
        assert by_seq.setdefault(b.seq, b) == b, "duplicates only as the same batch"


def test_batches_and_sequence_numbers_go_on_after_restart(settings, tmp_path):
    collector = Collector(settings, f"{settings.mqtt.prefix}/t1/water/wmeter-00001/#")
    try:
        first = Agent(_config(settings, tmp_path)).run(threading.Event(), max_samples=15)
        second = Agent(_config(settings, tmp_path)).run(threading.Event(), max_samples=5)
        time.sleep(0.5)
    finally:
        collector.close()
    batches = collector.batches()
    _check_complete(batches, first.batches + second.batches)
    status = [p for t, p in collector.messages if t.endswith("/status")]
    assert status[-1] == b"offline"
    metrics = {r["metric"] for b in batches for r in b.readings}
    assert {"flow_m3h", "volume_index_m3", "queue_depth", "link_up"} <= metrics


def test_broker_outage_loses_nothing(stack, settings, tmp_path):
    collector = Collector(settings, f"{settings.mqtt.prefix}/t1/water/wmeter-00001/telemetry")
    agent = Agent(_config(settings, tmp_path))
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    try:
        runner.start()
        time.sleep(1.5)
        stack.stop("mosquitto")
        time.sleep(2.0)  # the agent keeps sampling into its queue meanwhile
        queued_during_outage = len(agent.queue)
        stack.start("mosquitto")
        time.sleep(2.0)
        stop.set()
        runner.join(20)
        time.sleep(1.0)
    finally:
        if not stack.running("mosquitto"):
            stack.start("mosquitto")
        collector.close()
    assert queued_during_outage > 0
    assert agent.session.stats.connections >= 2
    _check_complete(collector.batches(), agent.report.batches)


def test_agent_killed_mid_stream_loses_nothing_and_sequence_goes_on(settings, tmp_path):
    config = _config(settings, tmp_path)
    path = tmp_path / "agent.json"
    path.write_text(config.model_dump_json())
    collector = Collector(settings, f"{settings.mqtt.prefix}/t1/water/wmeter-00001/telemetry")
    cmd = [sys.executable, "-m", "shell", "edge", "run", "--config", str(path)]
    try:
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        time.sleep(3.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        queue = BatchQueue(tmp_path / "state" / "queue.db")
        before = queue.next_seq()
        queue.close()
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        time.sleep(0.5)
        queue = BatchQueue(tmp_path / "state" / "queue.db")
        after, left = queue.next_seq(), len(queue)
        queue.close()
    finally:
        collector.close()
    assert before > 0 and after > before, "sequence numbers went on after the kill"
    assert left == 0
    _check_complete(collector.batches(), after)


def test_queue_bound_drops_oldest_and_reports_it(tmp_path, settings):
    dead = settings.mqtt.model_copy(update={"port": free_port()})  # nothing listens there
    config = _config(
        settings,
        tmp_path,
        batch_max_readings=2,
        queue_max_batches=5,
        mqtt=dead.model_dump(mode="json"),
    )
    agent = Agent(config)
    agent.run(threading.Event(), max_samples=40)
    queue = BatchQueue(tmp_path / "state" / "queue.db")
    assert len(queue) == 5
    assert queue.dropped == agent.report.batches - 5 > 0
    newest = [json.loads(b.payload)["seq"] for b in queue.oldest(10)]
    assert newest == list(range(agent.report.batches - 5, agent.report.batches))
    queue.close()


def test_remote_configuration_applied_refused_and_persisted(settings, tmp_path):
    prefix = settings.mqtt.prefix
    collector = Collector(settings, f"{prefix}/t1/water/wmeter-00001/#")
    agent = Agent(_config(settings, tmp_path))
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    sender = make_client(settings.mqtt, "platform-cmd")
    from vigie.mqtt import connect

    connect(sender, settings.mqtt)
    sender.loop_start()
    cmd_topic = f"{prefix}/t1/water/wmeter-00001/cmd"
    try:
        runner.start()
        time.sleep(1.0)
        sender.publish(
            cmd_topic, json.dumps({"id": "c1", "set": {"batch_max_readings": 4}}), qos=1
        ).wait_for_publish()
        sender.publish(
            cmd_topic, json.dumps({"id": "c2", "set": {"sample_period_s": -1}}), qos=1
        ).wait_for_publish()
        sender.publish(cmd_topic, b"not json", qos=1).wait_for_publish()
        time.sleep(1.5)
        stop.set()
        runner.join(20)
        time.sleep(0.5)
    finally:
        sender.disconnect()
        sender.loop_stop()
        collector.close()
    acks = [json.loads(p) for t, p in collector.messages if t.endswith("/ack")]
    assert [(a["id"], a["ok"]) for a in acks] == [("c1", True), ("c2", False), ("", False)]
    assert "sample_period_s" in acks[1]["reason"]
    assert agent.config.batch_max_readings == 4 and agent.config.sample_period_s == 0.02
    sizes = [len(b.readings) for b in collector.batches()]
    assert 4 in sizes[-5:]
    reloaded = AgentConfig.load_from(_config(settings, tmp_path))
    assert reloaded.batch_max_readings == 4


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory):
    """Mosquitto with TLS and a password file, as the security settings require."""
    home = tmp_path_factory.mktemp("secure")
    ca = create_ca(home / "pki", "t1")
    server = issue(ca, home / "pki", "broker", server_hosts=["127.0.0.1", "localhost"])
    passwords = mosquitto_password_file(home / "passwd", {"wmeter-00001": "right-secret"})
    broker = SecureMosquitto(
        free_port(), str(ca.cert), str(server.cert), str(server.key), str(passwords)
    )
    stack = Stack(home, services={"mosquitto": broker})
    stack.up()
    other_ca = create_ca(home / "other", "elsewhere")
    yield broker, ca, other_ca, home
    stack.down()


def _secure_config(settings, tmp_path, broker, ca_file, password: str) -> AgentConfig:
    secret = tmp_path / "password"
    secret.write_text(password)
    mqtt = {
        "host": "127.0.0.1",
        "port": broker.port,
        "prefix": settings.mqtt.prefix,
        "username": "wmeter-00001",
        "password_file": str(secret),
        "ca_file": str(ca_file),
    }
    return _config(settings, tmp_path, mqtt=mqtt)


def test_tls_and_right_credentials_deliver(settings, tmp_path, secure_broker):
    broker, ca, _, _ = secure_broker
    report = Agent(_secure_config(settings, tmp_path, broker, ca.cert, "right-secret")).run(
        threading.Event(), max_samples=12
    )
    queue = BatchQueue(tmp_path / "state" / "queue.db")
    assert report.batches > 0 and len(queue) == 0, "everything acknowledged over TLS"


@pytest.mark.parametrize(
    ("password", "wrong_ca", "says"),
    [
        ("wrong-secret", False, "password"),
        ("right-secret", True, "TLS"),
    ],
)
def test_wrong_credentials_or_ca_exit_with_a_clear_error(
    settings, tmp_path, secure_broker, password, wrong_ca, says
):
    broker, ca, other_ca, _ = secure_broker
    config = _secure_config(
        settings, tmp_path, broker, other_ca.cert if wrong_ca else ca.cert, password
    )
    with pytest.raises(FatalConnectError, match=says):
        Agent(config).run(threading.Event(), max_samples=1000)
    path = tmp_path / "agent.json"
    path.write_text(config.model_dump_json())
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "shell", "edge", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 4
    assert says in proc.stderr
    assert time.monotonic() - started < 30, "no silent retry loop"
