"""Alerts as they cross processes: the stream workers raise and clear them on the
``vigie.alerts`` topic (key: subject), the notifier routes them to people.

A condition raises an alert once when it starts and clears it once when it ends; a subject
is a device, a cabinet or a metered area of one territory."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import IntEnum, StrEnum


class AlertKind(StrEnum):
    """Stable alert kinds: dashboards group by them, operators grep for them."""

    LAMP_FAILURE = "lamp_failure"
    SUSPECTED_LEAK = "suspected_leak"
    BIN_NEARLY_FULL = "bin_nearly_full"
    CONGESTION = "congestion"
    DEVICE_SILENT = "device_silent"
    METER_DOWN = "meter_down"  # a field meter its agent polls does not answer
    SENSOR_FAULT = "sensor_fault"  # a sensor's probe does not answer or reads out of range
    ATTRIBUTION_REMAINDER = "attribution_remainder"


class AlertState(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"


class Severity(IntEnum):
    """How soon someone should act: routes choose channels by it."""

    INFO = 0
    MINOR = 1
    MAJOR = 2


SEVERITY = {
    AlertKind.LAMP_FAILURE: Severity.MINOR,  # a dark street: the next round
    AlertKind.SUSPECTED_LEAK: Severity.MAJOR,  # water lost every hour
    AlertKind.BIN_NEARLY_FULL: Severity.INFO,  # the collection plan handles it
    AlertKind.CONGESTION: Severity.INFO,
    AlertKind.DEVICE_SILENT: Severity.MINOR,
    AlertKind.METER_DOWN: Severity.MINOR,  # readings lost at the meter, not yet the energy
    AlertKind.SENSOR_FAULT: Severity.MINOR,  # a probe to check on the next round
    AlertKind.ATTRIBUTION_REMAINDER: Severity.MAJOR,  # energy unaccounted for: tapping, fault
}


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    subject: str  # device, cabinet or metered area
    state: AlertState
    at_ms: int
    value: float
    detail: str
    territory: str = ""  # set by the worker from the lane it served

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Alert:
        """An alert from the topic; raises ValueError (KeyError, TypeError included) on one
        that is not."""
        data = json.loads(raw)
        return cls(
            kind=AlertKind(data["kind"]),
            subject=str(data["subject"]),
            state=AlertState(data["state"]),
            at_ms=int(data["at_ms"]),
            value=float(data["value"]),
            detail=str(data["detail"]),
            territory=str(data.get("territory", "")),
        )


# what each kind is called, for people: notifications, the bulletin's summary
KIND_TEXT = {
    "fr": {
        AlertKind.LAMP_FAILURE: "lampe en panne",
        AlertKind.SUSPECTED_LEAK: "fuite d'eau suspectée",
        AlertKind.BIN_NEARLY_FULL: "conteneur presque plein",
        AlertKind.CONGESTION: "congestion",
        AlertKind.DEVICE_SILENT: "capteur muet",
        AlertKind.METER_DOWN: "compteur sans réponse",
        AlertKind.SENSOR_FAULT: "capteur en défaut",
        AlertKind.ATTRIBUTION_REMAINDER: "énergie non expliquée (piquage, défaut)",
    },
    "en": {
        AlertKind.LAMP_FAILURE: "lamp failure",
        AlertKind.SUSPECTED_LEAK: "suspected water leak",
        AlertKind.BIN_NEARLY_FULL: "bin nearly full",
        AlertKind.CONGESTION: "congestion",
        AlertKind.DEVICE_SILENT: "silent sensor",
        AlertKind.METER_DOWN: "meter not answering",
        AlertKind.SENSOR_FAULT: "sensor fault",
        AlertKind.ATTRIBUTION_REMAINDER: "unexplained energy (tapping, fault)",
    },
}
