"""The agent's MQTT session: connect, reconnect with back-off and jitter, send the queue.

One thread owns the connection. Each connection attempt uses a fresh paho client with the same
client id and a persistent broker session (the device's ``cmd`` subscription and messages sent
to it while offline survive); unacknowledged batches are always resent from the durable queue,
in sequence order, never from paho's memory. Refused credentials and TLS failures are fatal
(retrying cannot fix them): the error says what to check and the agent exits.
"""

from __future__ import annotations

import logging
import queue as stdqueue
import random
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from edge.config import Backoff
from edge.queue import BatchQueue
from vigie.contracts import Channel, DeviceTopic, Vertical
from vigie.mqtt import MqttConnectError, make_client, session_properties
from vigie.sections import MqttSettings

log = logging.getLogger("vigie.edge")

_FATAL_REASONS = {
    "Bad user name or password",
    "Not authorized",
    "Banned",
    "Client identifier not valid",
    "Unsupported protocol version",
}


class FatalConnectError(MqttConnectError):
    """A refusal that retrying will not fix (credentials, certificates)."""


@dataclass
class SessionStats:
    connected: bool = False
    connections: int = 0
    sent: int = 0
    acked: int = 0
    sent_bytes: int = 0  # telemetry payload bytes handed to the broker


@dataclass
class Session:
    """Runs in its own thread until ``stop`` is set; raises its fatal error from ``join``."""

    settings: MqttSettings
    client_id: str
    territory: str
    vertical: Vertical
    device_id: str
    batches: BatchQueue
    backoff: Backoff
    max_inflight: int = 100
    on_command: Callable[[bytes], None] = lambda _payload: None
    stats: SessionStats = field(default_factory=SessionStats)
    error: BaseException | None = None
    _outbox: stdqueue.SimpleQueue[tuple[str, bytes, bool]] = field(
        default_factory=stdqueue.SimpleQueue
    )
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def topic(self, channel: Channel | str) -> str:
        if isinstance(channel, Channel):
            return str(
                DeviceTopic(
                    self.territory, self.vertical, self.device_id, channel, self.settings.prefix
                )
            )
        return f"{self.settings.prefix}/{self.territory}/{self.vertical}/{self.device_id}/{channel}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vigie-session", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def publish(self, channel: str, payload: bytes, retain: bool = False) -> None:
        """Queue a small message (command acknowledgement) for the session thread."""
        self._outbox.put((channel, payload, retain))

    # -- the session thread ---------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        rng = random.Random()
        while not self._stop.is_set():
            try:
                self._connection()
                attempt = 0
            except FatalConnectError as exc:
                self.error = exc
                log.error("mqtt connection refused for good", extra={"reason": str(exc)})
                return
            except (OSError, MqttConnectError) as exc:
                log.warning(
                    "mqtt unavailable", extra={"error": str(exc)[:200], "attempt": attempt + 1}
                )
            if self._stop.is_set():
                return
            self._stop.wait(self.backoff.delay(attempt, rng.random()))
            attempt += 1

    def _connection(self) -> None:
        client = make_client(self.settings, self.client_id)
        status = self.topic(Channel.STATUS)
        client.will_set(status, b"offline", qos=1, retain=True)
        inflight: dict[int, int] = {}  # mid -> seq
        acked: list[int] = []  # removed from the queue once per loop turn
        state = {"refused": None, "ready": False, "last_seq": -1}

        def on_connect(
            c: mqtt.Client, _u: object, _f: object, rc: mqtt.ReasonCode, _p: object
        ) -> None:
            if rc.is_failure:
                state["refused"] = str(rc)
                return
            c.subscribe(self.topic(Channel.CMD), qos=1)
            c.publish(status, b"online", qos=1, retain=True)
            state["ready"] = True

        def on_publish(_c: mqtt.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
            seq = inflight.pop(mid, None)
            if seq is not None:
                acked.append(seq)
                self.stats.acked += 1

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            self.on_command(msg.payload)

        client.on_connect, client.on_publish, client.on_message = on_connect, on_publish, on_message
        try:
            client.connect(
                self.settings.host,
                self.settings.port,
                self.settings.keepalive_s,
                clean_start=False,
                properties=session_properties(7 * 86_400),
            )
        except ssl.SSLError as exc:
            raise FatalConnectError(
                f"TLS with {self.settings.host}:{self.settings.port} failed ({exc}). Check "
                f"ca_file ({self.settings.ca_file}) and the client certificate."
            ) from exc
        try:
            while not self._stop.is_set():
                rc = client.loop(timeout=0.05)
                self.batches.ack_many(acked)
                acked.clear()
                if state["refused"]:
                    reason = str(state["refused"])
                    if reason in _FATAL_REASONS:
                        raise FatalConnectError(
                            f"the broker refused this device: {reason}. Check [mqtt] username "
                            "and password_file (or the device's certificate); was it revoked?"
                        )
                    raise MqttConnectError(f"the broker refused the connection: {reason}")
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    raise MqttConnectError(f"connection lost: {mqtt.error_string(rc)}")
                if state["ready"]:
                    if not self.stats.connected:
                        self.stats.connected = True
                        self.stats.connections += 1
                        log.info("mqtt connected", extra={"device": self.device_id})
                    self._pump(client, inflight, state)
        finally:
            self.batches.ack_many(acked)
            self.stats.connected = False
            if self._stop.is_set() and state["ready"]:
                client.publish(status, b"offline", qos=1, retain=True)
                client.loop(timeout=0.2)
            client.disconnect()

    def _pump(self, client: mqtt.Client, inflight: dict[int, int], state: dict) -> None:
        while not self._outbox.empty():
            channel, payload, retain = self._outbox.get()
            client.publish(self.topic(channel), payload, qos=1, retain=retain)
        room = self.max_inflight - len(inflight)
        if room <= 0:
            return
        for item in self.batches.oldest(room, after_seq=int(state["last_seq"])):
            topic = str(
                DeviceTopic(
                    self.territory,
                    Vertical(item.vertical),
                    self.device_id,
                    Channel.TELEMETRY,
                    self.settings.prefix,
                )
            )
            info = client.publish(topic, item.payload, qos=1)
            inflight[info.mid] = item.seq
            state["last_seq"] = item.seq
            self.stats.sent += 1
            self.stats.sent_bytes += len(item.payload)
