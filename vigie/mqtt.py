"""Building paho-mqtt clients from settings: one place for protocol, TLS and credentials."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vigie.contracts import RECEIPT_ASKED
from vigie.errors import ConnectError
from vigie.sections import MqttSettings, read_secret


class MqttConnectError(ConnectError):
    """The broker refused us or could not be reached; the message says what to check."""


def make_client(settings: MqttSettings, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """An MQTT v5 client with the configured credentials and TLS, not yet connected."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if settings.username:
        client.username_pw_set(settings.username, read_secret(settings.password_file))
    if settings.ca_file:
        client.tls_set(
            ca_certs=str(settings.ca_file),
            certfile=str(settings.cert_file) if settings.cert_file else None,
            keyfile=str(settings.key_file) if settings.key_file else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    client.max_queued_messages_set(0)
    return client


def connect(
    client: mqtt.Client,
    settings: MqttSettings,
    *,
    session_expiry_s: int | None = None,
    receive_maximum: int | None = None,
) -> None:
    """Connect (not yet looping); a persistent session when session_expiry_s is given.

    Raises MqttConnectError saying which address failed and what to check.
    """
    kwargs: dict[str, object] = {}
    if session_expiry_s is not None:
        kwargs = {
            "clean_start": False,
            "properties": session_properties(session_expiry_s, receive_maximum),
        }
    try:
        client.connect(settings.host, settings.port, settings.keepalive_s, **kwargs)  # type: ignore[arg-type]  # v5 options, typed per name by paho
    except OSError as exc:
        raise MqttConnectError(
            f"cannot reach the MQTT broker at {settings.host}:{settings.port} ({exc}). "
            "Is it running? For the local stack try: vigie stack status"
        ) from exc


def session_properties(expiry_s: int, receive_maximum: int | None = None) -> Properties:
    """CONNECT properties for a persistent session that survives a restart."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry_s
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    return props


def receipt_request() -> Properties:
    """PUBLISH properties of telemetry whose sender wants storage receipts."""
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [RECEIPT_ASKED]
    return props


def asks_receipt(msg: mqtt.MQTTMessage) -> bool:
    """Whether a received publish carries the receipt request."""
    props = getattr(msg, "properties", None)
    return RECEIPT_ASKED in (getattr(props, "UserProperty", None) or ())


def wait_for_status(
    settings: MqttSettings, topic: str, expected: bytes = b"online", timeout_s: float = 30.0
) -> bool:
    """Block until the retained status on topic equals expected; False on timeout."""
    import threading
    import uuid

    seen = threading.Event()
    client = make_client(settings, f"vigie-watch-{uuid.uuid4().hex[:8]}")

    def on_connect(c: mqtt.Client, *_a: object) -> None:
        c.subscribe(topic, qos=1)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if msg.payload == expected:
            seen.set()

    client.on_connect = on_connect
    client.on_message = on_message
    connect(client, settings)
    client.loop_start()
    try:
        return seen.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
