"""Publishing batches on a device's MQTT telemetry topic (QoS 1): edge agent and simulator."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt

from vigie.contracts import Channel, DeviceTopic, TelemetryBatch, Vertical
from vigie.errors import VigieError


class PublishError(VigieError):
    """The broker did not take a message."""


class BatchPublisher:
    """Encodes a batch and publishes it with QoS 1 on its device's telemetry topic."""

    def __init__(
        self, client: mqtt.Client, territory: str, prefix: str = "vigie", max_inflight: int = 1000
    ) -> None:
        self.client = client
        self.territory = territory
        self.prefix = prefix
        self._slots = threading.BoundedSemaphore(max_inflight)
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._acked_early: set[int] = set()
        self.published = 0
        self.bytes_out = 0

    def topic(self, vertical: Vertical | str, device_id: str) -> str:
        return str(
            DeviceTopic(
                self.territory, Vertical(vertical), device_id, Channel.TELEMETRY, self.prefix
            )
        )

    def publish(self, vertical: Vertical | str, batch: TelemetryBatch) -> mqtt.MQTTMessageInfo:
        """Publish one batch; blocks while max_inflight messages await the broker's PUBACK."""
        return self.publish_raw(
            self.topic(vertical, batch.device_id), batch.model_dump_json().encode()
        )

    def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> mqtt.MQTTMessageInfo:
        """Publish bytes as they are (status, replay, fault injection).

        Every message of the client must go through here, so that each PUBACK frees the slot
        of the message it acknowledges. paho may call on_publish before publish() returns:
        such early acknowledgements are remembered and settled right after.
        """
        self._slots.acquire()
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._slots.release()
            raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        with self._lock:
            early = info.mid in self._acked_early
            if early:
                self._acked_early.discard(info.mid)
            else:
                self._inflight.add(info.mid)
        if early:
            self._slots.release()
        self.published += 1
        self.bytes_out += len(payload)
        return info

    def on_publish(self, _c: mqtt.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
        """Wire as the client's on_publish callback to free an in-flight slot."""
        with self._lock:
            if mid not in self._inflight:
                self._acked_early.add(mid)
                return
            self._inflight.discard(mid)
        self._slots.release()
