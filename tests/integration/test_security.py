"""Integration: a TLS-only Mosquitto with Vigie's generated ACL and per-device passwords.

Each test talks to the real broker the fixture starts with the authority's files.
"""

from __future__ import annotations

import json
import ssl
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from edge.agent import Agent
from edge.config import AgentConfig
from shell.security.acl import ServiceAccount
from shell.security.identities import DeviceAuthority, IdentityError
from shell.stack import Stack
from shell.stack.services import free_port
from simulators.territory import generate
from vigie.mqtt import make_client
from vigie.sections import MqttSettings

pytestmark = pytest.mark.integration
T = generate(200, seed=3, territory_id="sec")
LAMPS = [a.id for a in T.assets if a.kind == "lamp"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    home = tmp_path_factory.mktemp("secure-stack")
    holder: dict[str, Stack] = {}
    authority = DeviceAuthority(
        home / "security", T, broker_pid=lambda: holder["stack"].pid("mosquitto")
    )
    port = free_port()
    broker = authority.broker_service(port)
    stack = holder["stack"] = Stack(home, services={"mosquitto": broker})
    stack.up()
    ingest_pw = authority.service_account(ServiceAccount.INGEST)
    time.sleep(0.3)
    yield authority, stack, port, ingest_pw
    stack.down()


def _settings(
    port: int, authority: DeviceAuthority, user: str | None, password_file=None, tls: bool = True
) -> MqttSettings:
    return MqttSettings(
        host="127.0.0.1",
        port=port,
        username=user,
        password_file=password_file,
        ca_file=authority.ca.cert if tls else None,
    )


class Probe:
    """A client that records CONNACK, SUBACK and messages."""

    def __init__(self, settings: MqttSettings, name: str) -> None:
        self.connack: str | None = None
        self.suback: list[int] = []
        self.messages: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.client = make_client(settings, f"{name}-{time.monotonic_ns()}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda _c, _u, _m, codes, _p: (
            self.suback.extend(int(c.value) for c in codes),
            self.ready.set(),
        )
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()

    def _on_connect(self, _c, _u, _f, rc, _p) -> None:  # type: ignore[no-untyped-def]
        self.connack = str(rc)
        self.ready.set()

    def wait(self) -> None:
        assert self.ready.wait(5)
        self.ready.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _device(authority, port, device_id, tmp_path):  # type: ignore[no-untyped-def]
    bundle = authority.provision(device_id, "127.0.0.1", port)
    time.sleep(0.3)  # the broker re-reads its files
    return _settings(port, authority, device_id, bundle / "mqtt-password")


def test_a_device_cannot_speak_for_another_or_read_the_fleet(secured, tmp_path):
    authority, _, port, ingest_pw = secured
    a, b = LAMPS[0], LAMPS[1]
    settings_a = _device(authority, port, a, tmp_path)
    settings_b = _device(authority, port, b, tmp_path)
    ingest = Probe(_settings(port, authority, ServiceAccount.INGEST, ingest_pw), "ingest")
    ingest.wait()
    ingest.client.subscribe("vigie/sec/+/+/telemetry", qos=1)
    ingest.wait()
    device = Probe(settings_a, "device")
    device.wait()
    assert device.connack == "Success" and ingest.suback == [1]
    device.client.subscribe("vigie/sec/+/+/telemetry", qos=1)
    device.wait()
    own = f"vigie/sec/lighting/{a}/telemetry"
    other = f"vigie/sec/lighting/{b}/telemetry"
    device.client.publish(other, b"spoof", qos=1).wait_for_publish(5)
    device.client.publish(own, b"mine", qos=1).wait_for_publish(5)
    neighbour = Probe(settings_b, "neighbour")
    neighbour.wait()
    neighbour.client.publish(other, b"theirs", qos=1).wait_for_publish(5)
    time.sleep(1)
    neighbour.close()
    device.close()
    ingest.close()
    # Mosquitto grants a wildcard subscription and checks read access per message: the
    # device's subscription to the fleet's telemetry delivers nothing of the fleet
    assert not [m for m in device.messages if m[0] != own]
    assert (own, b"mine") in ingest.messages
    assert (other, b"spoof") not in ingest.messages, "spoofed publish dropped"
    assert (other, b"theirs") in ingest.messages


def test_anonymous_and_plain_text_connections_are_refused(secured):
    authority, _, port, _ = secured
    anonymous = Probe(_settings(port, authority, None), "anon")
    anonymous.wait()
    anonymous.close()
    assert anonymous.connack in ("Not authorized", "Bad user name or password")
    plain = make_client(_settings(port, authority, None, tls=False), "plain")
    refused = threading.Event()
    plain.on_connect = lambda *_a: None
    with pytest.raises((OSError, ssl.SSLError, mqtt.WebsocketConnectionError)):
        plain.connect("127.0.0.1", port)
        for _ in range(50):  # a TLS listener never answers a plain CONNECT
            rc = plain.loop(timeout=0.1)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                raise OSError(mqtt.error_string(rc))
        refused.set()
    assert not refused.is_set()


def test_revoked_device_can_no_longer_connect_without_a_broker_restart(secured, tmp_path):
    authority, stack, port, _ = secured
    device_id = LAMPS[5]
    settings = _device(authority, port, device_id, tmp_path)
    password = settings.password_file.read_text()
    before = Probe(settings, "before")
    before.wait()
    before.close()
    pid = stack.pid("mosquitto")
    authority.revoke(device_id)
    time.sleep(0.5)
    secret = tmp_path / "kept-password"
    secret.write_text(password)  # a stolen board still has it
    after = Probe(settings.model_copy(update={"password_file": secret}), "after")
    after.wait()
    after.close()
    assert before.connack == "Success"
    assert after.connack in ("Not authorized", "Bad user name or password")
    assert stack.pid("mosquitto") == pid, "the broker kept running"
    with pytest.raises(IdentityError):
        authority.revoke(device_id)
    assert authority.identities()[device_id].revoked_at is not None


def test_edge_agent_works_over_tls_with_its_provisioned_bundle(secured, tmp_path):
    authority, _, port, ingest_pw = secured
    device_id = LAMPS[7]
    bundle = authority.provision(device_id, "127.0.0.1", port)
    time.sleep(0.3)
    config = json.loads((bundle / "agent.json").read_text())
    config["mqtt"]["password_file"] = str(bundle / "mqtt-password")
    config["mqtt"]["ca_file"] = str(bundle / "ca.crt")
    config |= {
        "state_dir": str(tmp_path / "state"),
        "sample_period_s": 0.02,
        "batch_max_readings": 10,
        "receipts": False,  # no stream worker here: the broker's PUBACK is the end
    }
    ingest = Probe(_settings(port, authority, ServiceAccount.INGEST, ingest_pw), "ingest2")
    ingest.wait()
    ingest.client.subscribe("vigie/sec/+/+/telemetry", qos=1)
    ingest.wait()
    report = Agent(AgentConfig.model_validate(config)).run(threading.Event(), max_samples=20)
    time.sleep(0.5)
    ingest.close()
    seqs = sorted(json.loads(p)["seq"] for t, p in ingest.messages if device_id in t)
    assert seqs == list(range(report.batches)) and report.batches > 0
    assert oct((bundle / "mqtt-password").stat().st_mode & 0o777) == "0o600"


def test_no_secret_in_the_logs_of_the_secured_run(secured):
    """Passwords of devices and services never appear in the broker's or agents' logs."""
    authority, stack, _, _ = secured
    secrets = [p.read_text() for p in (authority.folder / "services").glob("*.password")]
    secrets += [p.read_text() for p in (authority.folder / "bundles").glob("*/mqtt-password")]
    assert secrets
    logs = "".join(p.read_text(errors="ignore") for p in stack.root.rglob("*.log"))
    assert logs, "the broker logged its run"
    assert not [s for s in secrets if s in logs]


def test_ingest_bridge_and_agent_over_tls_end_to_end(secured, stack, isolated, tmp_path):
    """Agent (its device identity) -> TLS broker with ACL -> bridge (its service account)
    -> Kafka: every batch arrives."""
    import asyncio

    from shell.stack.components import Components
    from vigie.contracts import TELEMETRY_BUNDLE
    from vigie.kafka import read_topic
    from vigie.settings import Settings

    authority, _, port, ingest_pw = secured
    registry = tmp_path / "territory.json"
    T.save(registry)
    env = {
        **isolated,
        "VIGIE_REGISTRY": str(registry),
        "VIGIE_TERRITORY": T.id,
        "VIGIE_MQTT__PREFIX": "vigie",
        "VIGIE_MQTT__HOST": "127.0.0.1",
        "VIGIE_MQTT__PORT": str(port),
        "VIGIE_MQTT__USERNAME": str(ServiceAccount.INGEST),
        "VIGIE_MQTT__PASSWORD_FILE": str(ingest_pw),
        "VIGIE_MQTT__CA_FILE": str(authority.ca.cert),
    }
    settings = Settings(
        **{
            "mqtt": {
                k.split("__")[1].lower(): v for k, v in env.items() if k.startswith("VIGIE_MQTT__")
            }
        },
        kafka={
            "bootstrap": stack.settings()["kafka"]["bootstrap"],
            "topic_prefix": isolated["VIGIE_KAFKA__TOPIC_PREFIX"],
        },
    )
    comps = Components(tmp_path, settings, env)
    device_id = LAMPS[9]
    bundle = authority.provision(device_id, "127.0.0.1", port)
    time.sleep(0.3)
    config = json.loads((bundle / "agent.json").read_text())
    config["mqtt"] |= {
        "password_file": str(bundle / "mqtt-password"),
        "ca_file": str(bundle / "ca.crt"),
    }
    config |= {
        "state_dir": str(tmp_path / "state"),
        "sample_period_s": 0.02,
        "batch_max_readings": 10,
        "receipts": False,  # no stream worker here: the broker's PUBACK is the end
    }
    try:
        comps.start_ingest()
        report = Agent(AgentConfig.model_validate(config)).run(threading.Event(), max_samples=20)
        deadline = time.monotonic() + 30
        seqs: list[int] = []
        while time.monotonic() < deadline and len(seqs) < report.batches:
            records = asyncio.run(
                read_topic(
                    settings.kafka, f"{settings.kafka.topic_prefix}.telemetry.lighting", timeout_s=5
                )
            )
            seqs = sorted(b.seq for r in records for b in TELEMETRY_BUNDLE.validate_json(r.value))
            time.sleep(0.5)
        comps.check_alive()
    finally:
        comps.stop_all()
    assert report.batches > 0 and seqs == list(range(report.batches))


def test_devices_commands_act_on_the_broker_the_demo_runs(tmp_path):
    """The demo keeps its broker's identities in the stack folder; `vigie devices` once wrote
    to another folder and a provisioned device could not connect. Provisioned through the
    command line, a device connects to the running TLS broker; revoked, it cannot."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    holder: dict[str, Stack] = {}
    stack = holder["stack"] = Stack(home)
    authority = DeviceAuthority(
        stack.root / "security",
        T,
        broker_pid=lambda: holder["stack"].pid("mosquitto"),
        with_simulator=True,
    )
    port = free_port()
    stack.services = {"mosquitto": authority.broker_service(port)}
    registry = tmp_path / "territory.json"
    T.save(registry)
    env = {**os.environ, "VIGIE_HOME": str(home), "VIGIE_REGISTRY": str(registry)}

    def vigie(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "shell", *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def connack(device: str, password_file) -> str:
        bundle = stack.root / "security" / "bundles" / device
        config = json.loads((bundle / "agent.json").read_text())
        settings = MqttSettings(
            host="127.0.0.1",
            port=config["mqtt"]["port"],
            username=device,
            password_file=password_file,
            ca_file=bundle / "ca.crt",
        )
        probe = Probe(settings, device)
        probe.ready.wait(10)
        probe.client.loop_stop()
        return str(probe.connack)

    try:
        stack.up()
        device = LAMPS[3]
        vigie("devices", "provision", device)
        time.sleep(0.3)
        kept = tmp_path / "password"  # the board's copy: revocation deletes the bundle's
        kept.write_text(
            (stack.root / "security" / "bundles" / device / "mqtt-password").read_text()
        )
        assert connack(device, kept) == "Success"
        assert "with_simulator" in (stack.root / "security" / "acl-policy.json").read_text()
        assert "user vigie-simulator" in authority.acl_file.read_text(), "no right taken away"
        vigie("devices", "revoke", device)
        time.sleep(0.3)
        assert connack(device, kept) == "Not authorized"
        assert device in vigie("devices", "list")
    finally:
        stack.down()
