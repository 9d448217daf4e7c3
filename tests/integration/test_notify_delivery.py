"""The notifier against real servers: alerts on the real Kafka-compatible broker, e-mail to a
real SMTP server (aiosmtpd), messages to a real local HTTP webhook receiver, the notifier a
real process (``vigie alerts run``) that is killed with SIGKILL and started again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from dashboards.catalog import ALERT_OPS
from dashboards.spec import render
from shell.stack.services import free_port
from simulators.territory import Ratios, generate
from vigie import influxql
from vigie.contracts import AssetKind, DeadLetter
from vigie.contracts.alerts import Alert, AlertKind, AlertState
from vigie.contracts.topics import KafkaTopics
from vigie.kafka import ensure_topics, read_topic

pytestmark = pytest.mark.integration
T = generate(1000, seed=3, territory_id="lyon", ratios=Ratios(inhabitants_per_dma=250))


class Mailbox:
    """A real SMTP server on a fixed port, that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[tuple[list[str], str, str]] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, _server, _session, envelope) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        body = mail.get_body(("plain",))
        self.mails.append((envelope.rcpt_tos, str(mail["subject"]), body.get_content()))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=vigie@example.org&to={to}&secure=no"


class Webhook:
    """A real HTTP receiver; ``status`` is what it answers, ``hold`` (when set) keeps the
    answer back until it is set; ``arrived`` is every request, taken or not."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.arrived: list[dict] = []
        self.status = 200
        self.hold: threading.Event | None = None
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.arrived.append(json.loads(body))
                if hook.hold is not None:
                    hook.hold.wait(60)
                if hook.status == 200:
                    hook.posts.append(json.loads(body))
                try:
                    self.send_response(hook.status)
                    self.end_headers()
                except OSError:  # the sender is gone
                    pass

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


def _env(isolated, tmp_path, config: dict, **more: str) -> dict[str, str]:
    registry = tmp_path / "lyon.json"
    T.save(registry)
    path = tmp_path / "notify.json"
    path.write_text(json.dumps(config))
    return {
        **os.environ,
        **isolated,
        "VIGIE_REGISTRY": str(registry),
        "VIGIE_TERRITORY": "lyon",
        "VIGIE_NOTIFY__CONFIG": str(path),
        "VIGIE_NOTIFY__STATE": str(tmp_path / "state.sqlite"),
        "VIGIE_NOTIFY__GROUP": f"notify-{isolated['VIGIE_KAFKA__TOPIC_PREFIX']}",
        "VIGIE_NOTIFY__RETRY_FIRST_S": "0.3",
        "VIGIE_NOTIFY__RETRY_MAX_S": "1",
        **more,
    }


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    log = (tmp_path / "notifier.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "shell", "alerts", "run"], env=env, stdout=log, stderr=log
    )


def _told(webhook: Webhook) -> list[str]:
    """The assets named by the messages that reached the webhook, once per naming."""
    return [s for p in webhook.arrived for s in _subjects(([], "", p["message"]))]


def _publish(settings, alerts: list[Alert]) -> None:
    from aiokafka import AIOKafkaProducer

    async def send() -> None:
        await ensure_topics(settings.kafka)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
        await producer.start()
        try:
            for a in alerts:
                topic = KafkaTopics(settings.kafka.topic_prefix).alerts
                await producer.send_and_wait(topic, a.to_json(), key=a.subject.encode())
        finally:
            await producer.stop()

    asyncio.run(send())


def _until(ready, timeout_s: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def _outbox(tmp_path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(tmp_path / "state.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        db.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_grouped_mail_webhook_acknowledgement_escalation_and_lifecycle_points(
    settings, isolated, tmp_path, mailbox, webhook
):
    mailbox.start()
    config = {
        "group_window_s": 1.5,
        "dashboard_url": "https://grafana.lyon.example",
        "routes": [
            {"name": "lighting", "channels": [mailbox.url("eclairage@lyon.example")],
             "verticals": ["lighting"]},
            {"name": "water", "channels": [webhook.url], "kinds": ["suspected_leak"],
             "language": "en", "escalate_after_s": 10,
             "escalate_to": [mailbox.url("astreinte@lyon.example")]},
        ],
    }  # fmt: skip
    env = _env(isolated, tmp_path, config)
    district = T.districts[0].id
    lamps = [a for a in T.assets if a.kind is AssetKind.LAMP and a.district == district][:3]
    meters = [a for a in T.assets if a.kind is AssetKind.WATER_METER][:2]
    now = int(time.time() * 1000)
    raised = [
        Alert(AlertKind.LAMP_FAILURE, a.id, AlertState.RAISED, now, 0.0, "0 W", "lyon")
        for a in lamps
    ] + [
        Alert(AlertKind.SUSPECTED_LEAK, m.id, AlertState.RAISED, now, 2.5, "night flow", "lyon")
        for m in meters
    ]
    proc = _start(env, tmp_path)
    try:
        _publish(settings, raised)
        _until(lambda: len(webhook.posts) >= 1 and mailbox.mails, what="first messages")
        # someone takes one leak in hand before its escalation delay
        ack = subprocess.run(
            [sys.executable, "-m", "shell", "alerts", "ack", "lyon", "suspected_leak",
             meters[1].id, "--by", "agent.dupont"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ack.returncode == 0, ack.stdout + ack.stderr
        assert "acknowledged by agent.dupont" in ack.stdout
        _until(lambda: len(mailbox.mails) >= 2, what="the escalation")
        time.sleep(2)  # nothing else comes
        _publish(settings, [raised[0]])  # the same record again: nothing new
        # one lamp is repaired half a minute after it failed
        repaired = Alert(AlertKind.LAMP_FAILURE, lamps[2].id, AlertState.CLEARED, now + 30_000,
                         12.0, "12 W", "lyon")  # fmt: skip
        _publish(settings, [repaired])
        _until(lambda: len(mailbox.mails) >= 3, what="the repair")
        time.sleep(2)
        listed = subprocess.run(
            [sys.executable, "-m", "shell", "alerts", "list", "--state", "acknowledged"],
            env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        shown = subprocess.run(
            [sys.executable, "-m", "shell", "alerts", "show", "lyon", "suspected_leak",
             meters[0].id],
            env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        _stop(proc)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "escalated: nobody acknowledged it in time" in shown.stdout
    assert "1 events, 2 notifications" in shown.stdout  # the webhook, then the escalation
    assert shown.stdout.count("escalated") >= 2 and "astreinte" not in shown.stdout
    lighting = [m for m in mailbox.mails if m[0] == ["eclairage@lyon.example"]]
    assert len(lighting) == 2, "three lamps of one district, one message; then the repair"
    _to, subject, body = lighting[0]
    assert subject == f"[Vigie lyon] lampe en panne x3: quartier {district}, ouverte"
    assert lighting[1][1] == f"[Vigie lyon] lampe en panne: quartier {district}, close"
    for lamp in lamps:
        assert lamp.id in body and f"{lamp.lat:.5f}, {lamp.lon:.5f}" in body
    assert (
        f"https://grafana.lyon.example/d/vigie-lighting?var-territory=lyon&var-district={district}"
        in body
    )
    told = sorted(s for p in webhook.posts for s in _subjects(([], "", p["message"])))
    assert told == sorted(m.id for m in meters), "in English, one message per district"
    assert all("suspected water leak" in p["title"] for p in webhook.posts)
    escalations = [m for m in mailbox.mails if m[0] == ["astreinte@lyon.example"]]
    assert len(escalations) == 1 and meters[0].id in escalations[0][2]
    assert meters[1].id not in escalations[0][2], "an acknowledged alert is not escalated"
    assert meters[1].id in listed.stdout and "agent.dupont" in listed.stdout
    ops = influxql.query(
        settings.influx,
        'SELECT count("count") FROM "long"."alert_ops" WHERE "territory" = \'lyon\' '
        'GROUP BY "state"',
    )
    assert {r["state"]: r["count"] for r in ops} == {"open": 5, "acknowledged": 1, "cleared": 1}
    # the alert-operations dashboard from those points, as Grafana queries them
    period = f"time > {now - 3_600_000}ms AND time < {now + 3_600_000}ms"
    ask = {
        p.title: influxql.query(settings.influx, render(p.query, "lyon", time_filter=period))
        for p in ALERT_OPS.panels
    }
    (standing,) = ask["Open alerts, and how many of them are acknowledged"]
    assert (standing["open"], standing["acknowledged"]) == (4, 1)
    waits = {r["state"]: r["mean"] for r in ask["Mean time to acknowledge and to clear (min)"]}
    assert waits["cleared"] == pytest.approx(0.5)  # repaired after 30 s
    assert 0 < waits["acknowledged"] < 1  # acknowledged within the minute
    steps = ask["Alerts opened, acknowledged and cleared"]
    assert sum(r["sum"] for r in steps) == 7
    assert ask["Alerts held by planned works or for flapping, per kind"] == []


def test_a_channel_down_then_back_and_a_notifier_killed_lose_nothing(
    settings, isolated, tmp_path, mailbox
):
    config = {
        "group_window_s": 0,
        "routes": [{"name": "all", "channels": [mailbox.url("astreinte@lyon.example")]}],
    }
    env = _env(isolated, tmp_path, config, VIGIE_NOTIFY__MAX_ATTEMPTS="1000")
    lamps = [a for a in T.assets if a.kind is AssetKind.LAMP][:6]
    now = int(time.time() * 1000)
    alerts = [
        Alert(AlertKind.LAMP_FAILURE, a.id, AlertState.RAISED, now, 0.0, "0 W", "lyon")
        for a in lamps
    ]
    proc = _start(env, tmp_path)  # the mail server is down
    try:
        _publish(settings, alerts[:3])
        _until(
            lambda: any(r["attempts"] >= 2 for r in _outbox(tmp_path)),
            what="retries while the mail server is down",
        )
        proc.kill()  # SIGKILL, mid-retry
        proc.wait(timeout=10)
        _publish(settings, alerts[3:])  # while no notifier runs
        mailbox.start()
        proc = _start(env, tmp_path)
        _until(lambda: len({s for m in mailbox.mails for s in _subjects(m)}) >= 6, 90, "all six")
        time.sleep(3)
    finally:
        _stop(proc)
    told = [s for m in mailbox.mails for s in _subjects(m)]
    assert sorted(told) == sorted(a.id for a in lamps), "each alert told once, none lost"
    rows = _outbox(tmp_path)
    assert all(r["sent_ms"] for r in rows) and len(rows) == 6
    assert max(r["attempts"] for r in rows) >= 2  # the retries are on record


def test_a_notifier_killed_between_sending_and_marking_sends_again_and_says_so(
    settings, isolated, tmp_path, webhook
):
    """At least once: a message the channel took but the store never marked sent goes out
    again after a restart, and its two attempts are on record."""
    config = {"group_window_s": 0, "routes": [{"name": "all", "channels": [webhook.url]}]}
    env = _env(isolated, tmp_path, config)
    lamp = next(a for a in T.assets if a.kind is AssetKind.LAMP)
    alert = Alert(
        AlertKind.LAMP_FAILURE, lamp.id, AlertState.RAISED, int(time.time() * 1000), 0.0, "",
        "lyon",
    )  # fmt: skip
    webhook.hold = threading.Event()
    proc = _start(env, tmp_path)
    try:
        _publish(settings, [alert])
        _until(lambda: webhook.arrived, what="the message at the receiver")
        proc.kill()  # SIGKILL: the channel has the message, its answer never came back
        proc.wait(timeout=10)
        (row,) = _outbox(tmp_path)
        assert row["attempts"] == 1 and row["sent_ms"] is None, "attempted, not marked sent"
        hold, webhook.hold = webhook.hold, None
        hold.set()
        proc = _start(env, tmp_path)
        _until(lambda: all(r["sent_ms"] for r in _outbox(tmp_path)), what="marked sent")
        time.sleep(2)  # nothing more comes
    finally:
        _stop(proc)
    assert len(webhook.arrived) == 2 and lamp.id in webhook.arrived[1]["message"]
    (row,) = _outbox(tmp_path)
    assert row["attempts"] == 2 and row["sent_ms"], "the second sending is on record"


def test_a_message_no_channel_takes_becomes_a_dead_letter(settings, isolated, tmp_path, webhook):
    webhook.status = 500
    config = {"group_window_s": 0, "routes": [{"name": "all", "channels": [webhook.url]}]}
    env = _env(isolated, tmp_path, config, VIGIE_NOTIFY__MAX_ATTEMPTS="3")
    lamp = next(a for a in T.assets if a.kind is AssetKind.LAMP)
    alert = Alert(
        AlertKind.LAMP_FAILURE, lamp.id, AlertState.RAISED, int(time.time() * 1000), 0.0, "",
        "lyon",
    )  # fmt: skip
    proc = _start(env, tmp_path)
    try:
        _publish(settings, [alert, alert])  # a redelivery changes nothing
        _until(lambda: any(r["failed"] for r in _outbox(tmp_path)), what="the last attempt")
    finally:
        _stop(proc)
    (row,) = _outbox(tmp_path)
    assert row["attempts"] == 3 and "did not take" in row["failed"]
    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in asyncio.run(
            read_topic(settings.kafka, KafkaTopics(settings.kafka.topic_prefix).deadletter)
        )
    ]
    assert [(d.reason, d.mqtt_topic) for d in letters] == [
        ("notification_failed", f"notify:{webhook.url}")
    ]
    assert lamp.id in letters[0].payload.decode()


def _subjects(mail: tuple[list[str], str, str]) -> list[str]:
    """The assets a message is about (one line per asset)."""
    return [line[2:].split(" ")[0] for line in mail[2].splitlines() if line.startswith("- ")]


def test_planned_works_from_the_command_line_and_a_flapping_sensor(settings, isolated, tmp_path):
    told = tmp_path / "told.jsonl"
    config = {
        "group_window_s": 0,
        "flap_max": 2,
        "routes": [{"name": "all", "channels": [f"file://{told}"], "language": "en"}],
    }
    env = _env(isolated, tmp_path, config)
    works, other = T.districts[0].id, T.districts[1].id
    silence = subprocess.run(
        [sys.executable, "-m", "shell", "alerts", "silence", "lyon", "--district", works,
         "--hours", "2", "--reason", "cable works"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert silence.returncode == 0, silence.stdout + silence.stderr
    quiet = next(a for a in T.assets if a.kind is AssetKind.LAMP and a.district == works)
    flappy = next(a for a in T.assets if a.kind is AssetKind.LAMP and a.district == other)
    now = int(time.time() * 1000)
    alerts = [Alert(AlertKind.LAMP_FAILURE, quiet.id, AlertState.RAISED, now, 0.0, "", "lyon")]
    for i in range(5):  # raised and cleared five times within the hour
        for state, at in ((AlertState.RAISED, now + 2 * i), (AlertState.CLEARED, now + 2 * i + 1)):
            alerts.append(Alert(AlertKind.LAMP_FAILURE, flappy.id, state, at, 0.0, "", "lyon"))
    proc = _start(env, tmp_path)
    try:
        _publish(settings, alerts)
        _until(lambda: told.exists() and told.read_text().count(f"- {flappy.id} ") >= 5, what="all")
        time.sleep(3)  # nothing more comes
    finally:
        _stop(proc)
    bodies = [json.loads(line)["body"] for line in told.read_text().splitlines()]
    states = [
        line.split("): ", 1)[1].split(", since", 1)[0]
        for body in bodies
        for line in body.splitlines()
        if line.startswith(f"- {flappy.id} ")
    ]
    # twice raised and cleared, then said to flap once; its later raises and clears untold
    flapping = "flapping: later alerts are held until it settles"
    assert sorted(states) == sorted(["raised", "cleared"] * 2 + [flapping])
    assert quiet.id not in told.read_text(), "planned works: nobody told"
    db = sqlite3.connect(tmp_path / "state.sqlite")
    held = db.execute("SELECT held FROM alerts WHERE subject = ?", (quiet.id,)).fetchone()
    assert held == ("maintenance",), "but the alert is on record"
    (held_panel,) = [p for p in ALERT_OPS.panels if "held" in p.title]
    period = f"time > {now - 3_600_000}ms AND time < {now + 3_600_000}ms"
    rows = influxql.query(settings.influx, render(held_panel.query, "lyon", time_filter=period))
    # on the dashboard: the planned-works alert and the flapping sensor's last three raises
    assert {r["kind"]: r["count"] for r in rows} == {"lamp_failure": 4}


def test_two_notifiers_share_the_alerts_and_tell_each_once(settings, isolated, tmp_path, webhook):
    """Scale-out on one host: one consumer group shares the topic's partitions, one store
    shares the outbox; each message is claimed by one notifier."""
    config = {"group_window_s": 0, "routes": [{"name": "all", "channels": [webhook.url]}]}
    env = _env(isolated, tmp_path, config)
    lamps = [a for a in T.assets if a.kind is AssetKind.LAMP][:24]
    now = int(time.time() * 1000)
    alerts = [
        Alert(AlertKind.LAMP_FAILURE, a.id, AlertState.RAISED, now + i, 0.0, "0 W", "lyon")
        for i, a in enumerate(lamps)
    ]
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shell", "alerts", "run"],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        time.sleep(8)  # both in the group before the alerts come
        _publish(settings, alerts)
        _until(lambda: len(_told(webhook)) >= len(lamps), what="every alert told")
        time.sleep(3)  # nothing more comes
    finally:
        for proc in procs:
            _stop(proc)
    assert sorted(_told(webhook)) == sorted(a.id for a in lamps), "each told once, by one"
    recorded = [
        int(log.read_text().rsplit("notifier stopped: ", 1)[1].split(" ")[0]) for log in logs
    ]
    assert sum(recorded) == len(lamps) and min(recorded) > 0, f"load shared: {recorded}"
