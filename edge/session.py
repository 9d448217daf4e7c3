"""The agent's MQTT session: connect, reconnect with back-off and jitter, send the queue.

One thread owns the connection. Each connection attempt uses a fresh paho client with the same
client id and a persistent broker session (the device's ``cmd`` and ``receipt`` subscriptions
and messages sent to it while offline survive); batches are always sent from the durable queue,
in sequence order, never from paho's memory, asking for storage receipts. A batch leaves the
queue when the platform's receipt names it (``vigie.contracts.receipts``): the broker's PUBACK
only means the broker has it. What stays without a receipt for ``receipt_timeout_s`` is sent
again, and so is everything queued after a reconnection; the platform absorbs the repeats.
Refused credentials and TLS failures are fatal (retrying cannot fix them): the error says what
to check and the agent exits.
"""

from __future__ import annotations

import logging
import queue as stdqueue
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from edge.queue import BatchQueue
from vigie.contracts import Channel, DeviceTopic, Receipt, Vertical
from vigie.mqtt import MqttConnectError, make_client, receipt_request, session_properties
from vigie.retry import Backoff
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
    receipted: int = 0  # batches the platform said it stored
    resent: int = 0  # times unreceipted batches were sent again after the timeout


@dataclass
class Link:
    """What one connection knows: the broker's refusal or readiness, how far the queue was
    sent, and when each batch was (to send again what no receipt named in time)."""

    refused: str | None = None
    ready: bool = False
    last_seq: int = -1
    sent_at: dict[int, float] = field(default_factory=dict)  # seq -> monotonic seconds
    rounds: int = 0  # times the queue was sent again with no receipt in between

    def resend_due(self, oldest_seq: int, now: float, timeout_s: float) -> bool:
        """The oldest queued batch was sent and no receipt named it in time; the wait doubles
        with each round without a receipt (at most 16 times), so a platform that is down for
        long is not flooded with repeats."""
        sent = self.sent_at.get(oldest_seq)
        return sent is not None and now - sent > timeout_s * 2 ** min(self.rounds, 4)

    def receipted(self, ranges: list[tuple[int, int]]) -> None:
        self.rounds = 0
        for first, last in ranges:
            for seq in [s for s in self.sent_at if first <= s <= last]:
                del self.sent_at[seq]


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
    receipts: bool = True
    receipt_timeout_s: float = 60.0
    on_command: Callable[[bytes], None] = lambda _payload: None
    stats: SessionStats = field(default_factory=SessionStats)
    error: BaseException | None = None
    _outbox: stdqueue.SimpleQueue[tuple[Channel, bytes, bool]] = field(
        default_factory=stdqueue.SimpleQueue
    )
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def topic(self, channel: Channel) -> str:
        return str(
            DeviceTopic(
                self.territory, self.vertical, self.device_id, channel, self.settings.prefix
            )
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vigie-session", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def publish(self, channel: Channel, payload: bytes, retain: bool = False) -> None:
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

    def _open(self, client: mqtt.Client) -> None:
        """Connect with the persistent session (7 days); a TLS failure is fatal."""
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

    def _turn(
        self, client: mqtt.Client, inflight: dict[int, int], acked: list[int], link: Link
    ) -> None:
        """One turn of the network loop: forget what the broker acknowledged, stop on a
        refusal or a lost connection, send what is due once the session is up."""
        rc = client.loop(timeout=0.05)
        self.batches.ack_many(acked)
        acked.clear()
        if link.refused:
            reason = link.refused
            if reason in _FATAL_REASONS:
                raise FatalConnectError(
                    f"the broker refused this device: {reason}. Check [mqtt] username "
                    "and password_file (or the device's certificate); was it revoked?"
                )
            raise MqttConnectError(f"the broker refused the connection: {reason}")
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttConnectError(f"connection lost: {mqtt.error_string(rc)}")
        if link.ready:
            if not self.stats.connected:
                self.stats.connected = True
                self.stats.connections += 1
                log.info("mqtt connected", extra={"device": self.device_id})
            self._pump(client, inflight, link)

    def _connection(self) -> None:
        client = make_client(self.settings, self.client_id)
        status = self.topic(Channel.STATUS)
        client.will_set(status, b"offline", qos=1, retain=True)
        inflight: dict[int, int] = {}  # mid -> seq
        acked: list[int] = []  # removed from the queue once per loop turn (receipts off)
        link = Link()
        receipt_topic = self.topic(Channel.RECEIPT)

        def on_connect(
            c: mqtt.Client, _u: object, _f: object, rc: mqtt.ReasonCode, _p: object
        ) -> None:
            if rc.is_failure:
                link.refused = str(rc)
                return
            c.subscribe(self.topic(Channel.CMD), qos=1)
            if self.receipts:
                c.subscribe(receipt_topic, qos=1)
            c.publish(status, b"online", qos=1, retain=True)
            link.ready = True

        def on_publish(_c: mqtt.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
            seq = inflight.pop(mid, None)
            if seq is not None:
                if not self.receipts:
                    acked.append(seq)
                self.stats.acked += 1

        def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            if msg.topic != receipt_topic:
                self.on_command(bytes(msg.payload))
                return
            try:
                receipt = Receipt.model_validate_json(msg.payload)
            except ValidationError:
                log.warning("unreadable receipt ignored", extra={"payload": msg.payload[:100]})
                return
            self.stats.receipted += self.batches.forget(receipt.stored)
            link.receipted(receipt.stored)

        client.on_connect, client.on_publish, client.on_message = on_connect, on_publish, on_message
        self._open(client)
        try:
            while not self._stop.is_set():
                self._turn(client, inflight, acked, link)
        finally:
            self.batches.ack_many(acked)
            self.stats.connected = False
            if self._stop.is_set() and link.ready:
                client.publish(status, b"offline", qos=1, retain=True)
                client.loop(timeout=0.2)
            client.disconnect()

    def _pump(self, client: mqtt.Client, inflight: dict[int, int], link: Link) -> None:
        while not self._outbox.empty():
            channel, payload, retain = self._outbox.get()
            client.publish(self.topic(channel), payload, qos=1, retain=retain)
        now = time.monotonic()
        if self.receipts:
            head = self.batches.oldest(1)
            if head and link.resend_due(head[0].seq, now, self.receipt_timeout_s):
                log.warning(
                    "no storage receipt in time: sending again",
                    extra={"device": self.device_id, "from_seq": head[0].seq},
                )
                link.last_seq = head[0].seq - 1
                link.rounds += 1
                self.stats.resent += 1
        room = self.max_inflight - len(inflight)
        asked = receipt_request() if self.receipts else None  # the worker receipts on request
        todo = self.batches.oldest(room, after_seq=link.last_seq) if room > 0 else []
        for item in todo:
            topic = str(
                DeviceTopic(
                    self.territory,
                    Vertical(item.vertical),
                    self.device_id,
                    Channel.TELEMETRY,
                    self.settings.prefix,
                )
            )
            info = client.publish(topic, item.payload, qos=1, properties=asked)
            inflight[info.mid] = item.seq
            link.last_seq = item.seq
            link.sent_at[item.seq] = now
            self.stats.sent += 1
            self.stats.sent_bytes += len(item.payload)
