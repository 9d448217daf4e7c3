"""Storage receipts to devices, once their batches' results are in InfluxDB.

The worker publishes, for each device of a stored bulk whose batches asked for a receipt, the
sequence numbers of its batches in that bulk (``vigie.contracts.receipts``) on the device's own
``receipt`` topic, QoS 1 into the device's persistent session. A receipt lost on the way (a
worker killed between the write and the publish, a broker restart) costs a repeat: the agent
sends the batch again, the worker recognises it by sequence and receipts it again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from vigie.contracts import Channel, DeviceTopic, Receipt, Vertical
from vigie.mqtt import MqttConnectError, connect, make_client
from vigie.sections import MqttSettings

log = logging.getLogger("vigie.streams")


@dataclass
class Receipts:
    """The sequence numbers one bulk holds, per (territory, vertical, device). Pure."""

    seqs: dict[tuple[str, str, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, territory: str, vertical: str, device: str, seq: int) -> None:
        self.seqs[(territory, vertical, device)].append(seq)

    def messages(self, prefix: str) -> Iterable[tuple[str, bytes]]:
        """(topic, payload) of each device's receipt."""
        for (territory, vertical, device), seqs in self.seqs.items():
            topic = DeviceTopic(territory, Vertical(vertical), device, Channel.RECEIPT, prefix)
            yield str(topic), Receipt.of(seqs).model_dump_json().encode()


class ReceiptPublisher:
    """One MQTT connection per worker, opened on first use; paho reconnects by itself and
    keeps what it could not send yet."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        self._client: mqtt.Client | None = None
        self.sent = 0

    def publish(self, receipts: Receipts) -> None:
        client = self._connected()
        if client is None:
            return
        for topic, payload in receipts.messages(self.settings.prefix):
            client.publish(topic, payload, qos=1)
            self.sent += 1

    def _connected(self) -> mqtt.Client | None:
        if self._client is None:
            client = make_client(self.settings, self.client_id)
            client.reconnect_delay_set(0.2, 5)  # type: ignore[arg-type]  # paho sleeps float seconds; its hint says int
            try:
                connect(client, self.settings)
            except MqttConnectError as exc:
                # no receipt this time: the devices send again, nothing is lost
                log.warning("receipts not sent", extra={"error": str(exc)[:200]})
                return None
            client.loop_start()
            self._client = client
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
