"""End to end: back up a running site, destroy it, restore it into a fresh folder.

A site with a notifier stores readings a provisioned device sends over TLS and an alert it
records; ``vigie site backup`` runs while everything runs; the site is stopped and its folder
deleted; ``vigie site restore`` puts the archive into another folder and ``vigie site up``
starts it. Compared by query: every measurement's points per retention policy, the registry,
the identities (the device connects again with the password of its bundle), the notifier's
store.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from simulators.territory import generate
from tests.sites import init_args, tls_port, vigie
from vigie import influxql
from vigie.settings import Settings

pytestmark = pytest.mark.e2e
T = generate(120, seed=31, territory_id="commune")
LAMP = next(a for a in T.assets if a.kind == "lamp")


def _connect(device: str, password: str, ca: Path, port: int) -> tuple[mqtt.Client, str]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
    client.username_pw_set(device, password)
    client.tls_set(ca_certs=str(ca))
    answered = threading.Event()
    codes: list[str] = []
    client.on_connect = lambda _c, _u, _f, rc, _p: (codes.append(str(rc)), answered.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert answered.wait(10), "the broker answers"
    return client, codes[0]


def _publish_readings(home: Path, port: int, n: int) -> None:
    bundle = home / "security" / "bundles" / LAMP.id
    client, code = _connect(
        LAMP.id, (bundle / "mqtt-password").read_text().strip(), bundle / "ca.crt", port
    )
    assert code == "Success"
    now = int(time.time() * 1000)
    topic = f"vigie/{T.id}/lighting/{LAMP.id}/telemetry"
    for seq in range(n):
        batch = {
            "v": 1,
            "device_id": LAMP.id,
            "seq": seq,
            "sent_at_ms": now,
            "readings": [
                {"ts_ms": now - (n - seq) * 1000, "metric": "power_w", "value": 40.0 + seq}
            ],
        }
        client.publish(topic, json.dumps(batch), qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def _points(settings: Settings) -> dict[str, int]:
    """Points per retention policy and measurement, counted on one field each."""
    out = {}
    for rp in ("raw", "minute", "long"):
        for row in influxql.query(settings.influx, 'SHOW MEASUREMENTS ON "vigie"'):
            name = row["name"]
            keys = influxql.query(settings.influx, f'SHOW FIELD KEYS FROM "{rp}"."{name}"')
            if keys:
                field = keys[0]["fieldKey"]
                out[f"{rp}.{name}"] = int(
                    influxql.scalar(
                        settings.influx, f'SELECT count("{field}") FROM "{rp}"."{name}"'
                    )
                )
    return out


def _settings(home: Path, monkeypatch) -> Settings:
    for key in [k for k in __import__("os").environ if k.startswith("VIGIE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VIGIE_HOME", str(home))
    return Settings()


def _store_rows(home: Path) -> dict[str, list]:
    files = sorted((home / "notify").glob("*.sqlite"))
    assert files, "the notifier keeps its store in the site"
    with sqlite3.connect(files[0]) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables}


def _identity_files(home: Path) -> dict[str, bytes]:
    folder = home / "security"
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_backup_of_a_running_site_restores_into_a_fresh_folder(tmp_path, monkeypatch):
    home = tmp_path / "site"
    registry = tmp_path / "commune.json"
    T.save(registry)
    routes = tmp_path / "routes.toml"
    routes.write_text(
        f'[[routes]]\nname = "duty"\nchannels = ["file://{tmp_path / "notices.jsonl"}"]\n'
    )
    vigie(home, *init_args(home, registry, "127.0.0.1", "--notify-config", str(routes)))
    restored = tmp_path / "restored"
    try:
        vigie(home, "site", "up")
        port = tls_port(home)
        vigie(home, "devices", "provision", LAMP.id)
        _publish_readings(home, port, 30)
        settings = _settings(home, monkeypatch)
        deadline = time.monotonic() + 60
        while _points(settings).get("raw.telemetry", 0) < 30 and time.monotonic() < deadline:
            time.sleep(0.5)
        before = _points(settings)
        assert before["raw.telemetry"] == 30 and before.get("minute.agg_1m", 0) > 0
        rows_before, ids_before = _store_rows(home), _identity_files(home)
        registry_before = (home / "registries" / f"{T.id}.json").read_bytes()

        made = vigie(home, "site", "backup")
        assert "backup " in made.stderr
        archive = next((home / "backups").glob("*.tar.gz"))
        assert archive.stat().st_mode & 0o077 == 0, "the archive holds secrets: owner only"
        kept = tmp_path / archive.name
        shutil.copyfile(archive, kept)
        vigie(home, "site", "down")
        shutil.rmtree(home)

        vigie(restored, "site", "restore", str(kept), "--dir", str(restored))
        vigie(restored, "site", "up")
        settings = _settings(restored, monkeypatch)
        after = _points(settings)
        assert {k: after.get(k) for k in before} == before, "every stored point back"
        made_since = {k.split(".", 1)[1] for k in after} - {k.split(".", 1)[1] for k in before}
        assert made_since <= {"agg_1h", "agg_1d", "fleet_1d"}, "only the roll-ups ran since"
        assert (restored / "registries" / f"{T.id}.json").read_bytes() == registry_before
        assert _identity_files(restored) == ids_before, "CA, accounts, bundles, ACL"
        assert _store_rows(restored) == rows_before, "the notifier's store"
        bundle = restored / "security" / "bundles" / LAMP.id
        client, code = _connect(
            LAMP.id, (bundle / "mqtt-password").read_text().strip(), bundle / "ca.crt", port
        )
        client.loop_stop()
        assert code == "Success", "the device's identity survived the restore"
        wrong, refused = _connect(LAMP.id, "not-its-password", bundle / "ca.crt", port)
        wrong.loop_stop()
        assert refused != "Success"
    finally:
        vigie(home, "site", "down", check=False) if home.exists() else None
        vigie(restored, "site", "down", check=False) if restored.exists() else None
