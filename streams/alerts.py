"""Alerts: stable kinds, raised once when a condition starts and cleared when it ends. Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    """Stable alert kinds: dashboards group by them, operators grep for them."""

    LAMP_FAILURE = "lamp_failure"
    SUSPECTED_LEAK = "suspected_leak"
    BIN_NEARLY_FULL = "bin_nearly_full"
    CONGESTION = "congestion"
    DEVICE_SILENT = "device_silent"
    ATTRIBUTION_REMAINDER = "attribution_remainder"


class AlertState(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    subject: str  # device, cabinet or metered area
    state: AlertState
    at_ms: int
    value: float
    detail: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()


def transition(
    open_kinds: list[str],
    kind: AlertKind,
    subject: str,
    condition: bool,
    at_ms: int,
    value: float,
    detail: str,
) -> Alert | None:
    """Raise when the condition starts, clear when it ends, nothing while it lasts.

    ``open_kinds`` is the subject's persisted list of raised kinds; it is updated in place.
    """
    is_open = kind in open_kinds
    if condition and not is_open:
        open_kinds.append(kind)
        return Alert(kind, subject, AlertState.RAISED, at_ms, value, detail)
    if not condition and is_open:
        open_kinds.remove(kind)
        return Alert(kind, subject, AlertState.CLEARED, at_ms, value, detail)
    return None
