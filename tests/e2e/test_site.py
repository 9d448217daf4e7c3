"""End to end: a site put into service as a technical service would, then left to heal itself.

``vigie site init`` in an empty folder, with the MQTT listener on 127.0.0.2 (an address other
than the loopback one the internal servers use, as a server's network address would be),
``vigie site up``, a device provisioned with ``vigie devices provision`` and a real edge agent
sending over TLS with its bundle. A second device is revoked live and refused within 5 s.
Then every process of the site is killed with ``kill -9``, one at a time, the supervisor and
its guard included: the site heals with no operator action, and every reading of the agent is
stored once, in exact 1-minute windows. A plain MQTT device (no receipts) and a LoRaWAN network
server publish through the first five kills, the Kafka-compatible broker's included: nothing
the broker acknowledged to them is lost (the bridges' journal).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.agent import Agent
from edge.config import AgentConfig
from edge.queue import BatchQueue
from simulators.territory import generate
from tests.e2e.test_lorawan import _chirpstack, _ldds75
from tests.sites import init_args, tls_port, vigie
from tests.sites import state as site_state
from vigie import influxql
from vigie.contracts import Asset, AssetKind
from vigie.settings import Settings

pytestmark = pytest.mark.e2e
BIN_EUI = "a84041000181c6b2"
T = generate(150, seed=29, territory_id="commune")
T = T.model_copy(
    update={
        "assets": [
            *T.assets,
            Asset(
                id="bin-lora-1",
                kind=AssetKind.BIN,
                district=T.assets[0].district,
                lat=T.assets[0].lat,
                lon=T.assets[0].lon,
                capacity_l=660,
                lorawan={
                    "dev_eui": BIN_EUI,
                    "model": "dragino-ldds75",
                    "empty_distance_mm": 1200,
                    "full_distance_mm": 200,
                },
            ),
        ]
    }
)
LAMPS = [a for a in T.assets if a.kind == "lamp"]
ADDRESS = "127.0.0.2"
KILLED = (
    "supervisor",
    "guard",
    "ingest-0",
    "lorawan-chirpstack",
    "streams-0",
    "kafka",
    "mosquitto",
    "influxdb",
)
PUBLISHING_UNTIL = "kafka"  # the plain and LoRaWAN publishers stop after this kill healed


class Publisher:
    """A publisher that keeps nothing: QoS 1 over TLS, a message every 50 ms, the sequence
    numbers the broker acknowledged remembered."""

    def __init__(self, user: str, password: str, ca: Path, port: int, make) -> None:  # type: ignore[no-untyped-def]
        self.make, self.acked, self.sent = make, set(), 0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{user}-pub", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(user, password)
        self.client.tls_set(ca_certs=str(ca))
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect(ADDRESS, port)
        self.client.loop_start()
        self._stop = threading.Event()
        self._runner = threading.Thread(target=self._run)
        self._runner.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            topic, payload = self.make(self.sent)
            info = self.client.publish(topic, payload, qos=1)
            seq, self.sent = self.sent, self.sent + 1
            try:
                info.wait_for_publish(2)
                if info.is_published():
                    self.acked.add(seq)
            except (RuntimeError, ValueError):
                pass
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._runner.join(30)
        self.client.loop_stop()
        self.client.disconnect()


def _pid(home: Path, name: str) -> int:
    state = site_state(home)
    return int(
        state["supervisor"]["pid"] if name == "supervisor" else state["processes"][name]["pid"]
    )


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _healed(home: Path, name: str, old: int, timeout_s: float = 60) -> float:
    """Seconds until the killed process runs again under a new pid and every other one runs."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        try:
            new = _pid(home, name)
            state = site_state(home)
        except (KeyError, ValueError, OSError):
            time.sleep(0.2)
            continue
        pids = [int(p["pid"]) for p in state["processes"].values()]
        if new != old and _alive(new) and all(_alive(p) for p in pids):
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{name} not running again {timeout_s:.0f} s after kill -9")


@pytest.fixture
def site(tmp_path, monkeypatch):
    home = tmp_path / "site"
    registry = tmp_path / "commune.json"
    T.save(registry)
    made = vigie(home, *init_args(home, registry, ADDRESS, "--lorawan", "chirpstack"))
    assert "next: VIGIE_HOME=" in made.stderr
    try:
        vigie(home, "site", "up")
        for key in [k for k in os.environ if k.startswith("VIGIE_")]:
            monkeypatch.delenv(key)
        monkeypatch.setenv("VIGIE_HOME", str(home))
        yield home, tls_port(home)
    finally:
        vigie(home, "site", "down", check=False)


def _bundle_config(bundle: Path, tmp_path: Path) -> AgentConfig:
    """The provisioned agent configuration, with the paths the board would have them at."""
    config = json.loads((bundle / "agent.json").read_text())
    config["mqtt"] |= {
        "password_file": str(bundle / "mqtt-password"),
        "ca_file": str(bundle / "ca.crt"),
    }
    config |= {
        "state_dir": str(tmp_path / "agent-state"),
        "sample_period_s": 0.1,
        "batch_max_readings": 5,
        "health_period_s": 3600,
        "backoff": {"first_s": 0.2, "max_s": 1.0},
        "receipt_timeout_s": 3.0,
        "stop_timeout_s": 60.0,
    }
    return AgentConfig.model_validate(config)


def _stored(settings: Settings, device: str) -> tuple[int, int]:
    raw = influxql.scalar(
        settings.influx, f'SELECT count("value") FROM "raw"."telemetry" WHERE device=\'{device}\''
    )
    counted = influxql.scalar(
        settings.influx, f'SELECT sum("count") FROM "minute"."agg_1m" WHERE device=\'{device}\''
    )
    return int(raw), int(counted)


def _windows_exact(settings: Settings, device: str) -> None:
    """Each 1-minute window counts exactly the raw readings of its minute and metric (a
    reading written twice overwrites its point in raw, but would count twice here)."""
    raw = {
        (r["metric"], int(r["time"])): int(r["count"])
        for r in influxql.query(
            settings.influx,
            f'SELECT count("value") FROM "raw"."telemetry" WHERE device=\'{device}\' AND '
            'time > now() - 1h GROUP BY time(1m), "metric" fill(none)',
        )
    }
    windows = {
        (r["metric"], int(r["time"])): int(r["count"])
        for r in influxql.query(
            settings.influx,
            f'SELECT "count" FROM "minute"."agg_1m" WHERE device=\'{device}\' GROUP BY "metric"',
        )
    }
    assert windows == raw, "every window holds exactly its minute's readings"


def _revoked_within(home: Path, device: str, port: int, bundle: Path) -> float:
    """Connect a plain TLS client as the device, revoke it, and time until the broker refuses
    it; returns the seconds."""
    gone = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
    client.username_pw_set(device, (bundle / "mqtt-password").read_text().strip())
    client.tls_set(ca_certs=str(bundle / "ca.crt"))
    connected = threading.Event()
    client.on_connect = lambda _c, _u, _f, rc, _p: connected.set() if not rc.is_failure else None
    client.on_disconnect = lambda *_a: gone.set()
    client.connect(ADDRESS, port)
    client.loop_start()
    try:
        assert connected.wait(10), "the provisioned device connects over TLS"
        start = time.monotonic()
        vigie(home, "devices", "revoke", device)
        assert gone.wait(10), "the broker drops the revoked device"
        took = time.monotonic() - start
    finally:
        client.loop_stop()
    again = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
    again.username_pw_set(device, "guess")
    again.tls_set(ca_certs=str(bundle / "ca.crt"))
    refused: list[str] = []
    again.on_connect = lambda _c, _u, _f, rc, _p: refused.append(str(rc))
    again.connect(ADDRESS, port)
    again.loop_start()
    deadline = time.monotonic() + 5
    while not refused and time.monotonic() < deadline:
        time.sleep(0.1)
    again.loop_stop()
    assert refused and refused[0] != "Success", f"a revoked device is refused: {refused}"
    return took


def test_a_site_serves_devices_over_tls_revokes_live_and_heals_every_kill(site, tmp_path):
    home, port = site
    settings = Settings()
    assert settings.influx.url.startswith("http://127.0.0.1:"), "internal servers on loopback"
    lamp, other = LAMPS[0].id, LAMPS[1].id
    out = vigie(home, "devices", "provision", lamp, other, "--broker-host", ADDRESS)
    bundles = home / "security" / "bundles"
    agent_json = json.loads((bundles / lamp / "agent.json").read_text())
    assert agent_json["mqtt"]["port"] == port, "the bundle names the site's TLS port"
    assert "bundle in" in out.stderr

    took = _revoked_within(home, other, port, bundles / other)
    assert took <= 5, f"revoked device refused after {took:.1f} s"

    plain_id = LAMPS[2].id
    vigie(home, "devices", "provision", plain_id)
    base = int(time.time() * 1000) - 600_000

    def plain_batch(seq: int) -> tuple[str, bytes]:
        at = base + seq * 100
        batch = {"v": 1, "device_id": plain_id, "seq": seq, "sent_at_ms": at,
                 "readings": [{"ts_ms": at, "metric": "power_w", "value": 20.0}]}  # fmt: skip
        return f"vigie/{T.id}/lighting/{plain_id}/telemetry", json.dumps(batch).encode()

    def uplink(seq: int) -> tuple[str, bytes]:
        return _chirpstack(BIN_EUI, seq, base + seq * 100, _ldds75(1200 - seq % 900))

    security = home / "security"
    plain = Publisher(
        plain_id,
        (bundles / plain_id / "mqtt-password").read_text().strip(),
        security / "ca.crt",
        port,
        plain_batch,
    )
    network = Publisher(
        "vigie-network-server",
        (security / "services" / "vigie-network-server.password").read_text().strip(),
        security / "ca.crt",
        port,
        uplink,
    )
    publishers = [plain, network]
    agent = Agent(_bundle_config(bundles / lamp, tmp_path))
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    runner.start()
    healed: dict[str, float] = {}
    try:
        time.sleep(4)
        for name in KILLED:
            old = _pid(home, name)
            os.kill(old, signal.SIGKILL)
            healed[name] = _healed(home, name, old)
            time.sleep(3)
            if name == PUBLISHING_UNTIL:
                while publishers:
                    publishers.pop().stop()
    finally:
        for publisher in publishers:
            publisher.stop()
        stop.set()
        runner.join(120)
    assert not runner.is_alive()
    print("healed in", {k: round(v, 1) for k, v in healed.items()})
    status = vigie(home, "site", "status")
    assert "all running" in status.stderr

    assert agent.report.readings > 100
    deadline = time.monotonic() + 90
    while _stored(settings, lamp) != (agent.report.readings,) * 2:
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    raw, counted = _stored(settings, lamp)
    assert raw == agent.report.readings, "every reading of the agent stored"
    assert counted == agent.report.readings, "and counted once in its windows"
    queue = BatchQueue(agent.config.state_dir / "queue.db")
    assert len(queue) == 0, "every batch receipted"
    queue.close()
    _windows_exact(settings, lamp)

    assert len(plain.acked) > 100 and len(network.acked) > 100
    stored_plain = _wait_for(
        lambda: {
            (int(r["time"]) - base) // 100
            for r in influxql.query(
                settings.influx,
                f'SELECT "value" FROM "raw"."telemetry" WHERE device=\'{plain_id}\'',
            )
        },
        plain.acked,
    )
    assert plain.acked <= stored_plain, f"plain device: {len(plain.acked - stored_plain)} lost"
    _windows_exact(settings, plain_id)
    stored_uplinks = _wait_for(
        lambda: {
            (int(r["time"]) - base) // 100
            for r in influxql.query(
                settings.influx,
                'SELECT "value" FROM "raw"."telemetry" WHERE device=\'bin-lora-1\' '
                "AND metric = 'fill_pct'",
            )
        },
        network.acked,
    )
    lost = network.acked - stored_uplinks
    assert not lost, f"LoRaWAN uplinks: {len(lost)} lost"


def _wait_for(read, expected: set[int], timeout_s: float = 90) -> set[int]:  # type: ignore[no-untyped-def]
    """What ``read`` finds once it holds ``expected`` or the time is up."""
    deadline = time.monotonic() + timeout_s
    found = read()
    while not expected <= found and time.monotonic() < deadline:
        time.sleep(1)
        found = read()
    return found
