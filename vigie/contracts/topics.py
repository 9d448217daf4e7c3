"""MQTT and Kafka topic names: the only place that builds or parses them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from vigie.contracts.metrics import Vertical
from vigie.errors import DataError

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class Channel(StrEnum):
    """The last segment of a device topic."""

    TELEMETRY = "telemetry"  # device -> platform, QoS 1
    STATUS = "status"  # retained, last will "offline"
    CMD = "cmd"  # platform -> device
    ACK = "ack"  # device -> platform: a command applied or refused
    RECEIPT = "receipt"  # platform -> device: which batches are stored (contracts.receipts)
    # history of a device, imported by the replayer's service account (never by a device):
    # no age limit, its own sequence numbers and windows, no alerts, no receipts
    BACKFILL = "backfill"


class TopicError(DataError):
    """A topic string that does not follow Vigie's naming."""


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """``{prefix}/{territory}/{vertical}/{device_id}/{channel}``."""

    territory: str
    vertical: Vertical
    device_id: str
    channel: Channel
    prefix: str = "vigie"

    def __post_init__(self) -> None:
        for name in ("territory", "device_id"):
            if not _SEGMENT.match(getattr(self, name)):
                raise TopicError(
                    f"{name} {getattr(self, name)!r} is not a valid topic segment "
                    "(lowercase letters, digits, '-', '_', '.'; at most 64)"
                )

    def __str__(self) -> str:
        return f"{self.prefix}/{self.territory}/{self.vertical}/{self.device_id}/{self.channel}"

    @classmethod
    def parse(cls, topic: str, prefix: str = "vigie") -> DeviceTopic:
        """Parse a device topic, raising TopicError naming the faulty segment."""
        parts = topic.split("/")
        if len(parts) != 5 or parts[0] != prefix:
            raise TopicError(f"topic {topic!r} is not {prefix}/territory/vertical/device/channel")
        try:
            vertical = Vertical(parts[2])
        except ValueError:
            raise TopicError(f"topic {topic!r}: unknown vertical {parts[2]!r}") from None
        try:
            channel = Channel(parts[4])
        except ValueError:
            raise TopicError(f"topic {topic!r}: unknown channel {parts[4]!r}") from None
        return cls(parts[1], vertical, parts[3], channel, prefix)


PLATFORM = "_platform"  # {prefix}/_platform/...: the platform components' own topics


def platform_status(prefix: str, component: str) -> str:
    """Retained online/offline status of a platform component (an ingest bridge...)."""
    return f"{prefix}/{PLATFORM}/{component}/status"


def telemetry_filter(prefix: str = "vigie", territory: str = "+") -> str:
    """MQTT subscription filter matching every device's telemetry."""
    return f"{prefix}/{territory}/+/+/{Channel.TELEMETRY}"


def everything_filter(prefix: str = "vigie") -> str:
    """Every topic under the prefix: what ingest subscribes to, so that a payload on a
    malformed topic becomes a dead letter instead of vanishing with no subscriber."""
    return f"{prefix}/#"


def shared(filter_: str, group: str) -> str:
    """An MQTT v5 shared subscription, so several bridges split the load."""
    return f"$share/{group}/{filter_}"


@dataclass(frozen=True, slots=True)
class KafkaTopics:
    """Kafka topic names, all under one configurable prefix."""

    prefix: str = "vigie"

    def telemetry(self, vertical: Vertical | str) -> str:
        """Validated batches of one vertical, bundled per partition (``bundle``)."""
        return f"{self.prefix}.telemetry.{Vertical(vertical)}"

    @property
    def all_telemetry(self) -> tuple[str, ...]:
        return tuple(self.telemetry(v) for v in Vertical)

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def platform(self) -> str:
        """The platform's own measurements (traffic, CPU, memory per component)."""
        return f"{self.prefix}.platform"
