"""What a notification says, in French or English: the asset, its district and position,
what was measured, since when (local time), and a link to the dashboard to open. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from vigie.contracts.alerts import KIND_TEXT, AlertKind, AlertState

WORDS = {
    "fr": {
        AlertState.RAISED: "ouverte",
        AlertState.CLEARED: "close",
        "escalated": "toujours ouverte, sans prise en charge",
        "flapping": "instable : les alertes suivantes sont retenues jusqu'au retour au calme",
        "district": "quartier",
        "since": "depuis",
        "value": "valeur mesurée",
        "where": "position",
        "open": "voir",
        "ack": "prendre en charge",
    },
    "en": {
        AlertState.RAISED: "raised",
        AlertState.CLEARED: "cleared",
        "escalated": "still open, not acknowledged",
        "flapping": "flapping: later alerts are held until it settles",
        "district": "district",
        "since": "since",
        "value": "measured value",
        "where": "position",
        "open": "open",
        "ack": "acknowledge",
    },
}


@dataclass(frozen=True, slots=True)
class Item:
    """One alert event of a message, with what the registry knows of its subject."""

    territory: str
    kind: AlertKind
    subject: str
    state: str  # raised, cleared, escalated, flapping
    at_ms: int
    value: float
    detail: str
    district: str
    vertical: str
    lat: float | None = None
    lon: float | None = None


def dashboard_link(base: str, item: Item) -> str:
    """The Grafana dashboard of the alert's vertical (the fleet's for a device's own health:
    a silent sensor, a meter not answering)."""
    fleet = item.kind in (AlertKind.DEVICE_SILENT, AlertKind.METER_DOWN, AlertKind.SENSOR_FAULT)
    board = "vigie-fleet" if fleet else f"vigie-{item.vertical}"
    return (
        f"{base.rstrip('/')}/d/{board}?var-territory={item.territory}"
        f"&var-district={item.district}&var-device={item.subject}"
    )


def render(
    items: Sequence[Item], language: str, timezone: str, dashboard_url: str
) -> tuple[str, str]:
    """(title, body) of one message about one or more alert events of a kind and district."""
    words, kinds = WORDS[language], KIND_TEXT[language]
    first = items[0]
    zone = ZoneInfo(timezone)
    states = {i.state for i in items}
    state = words[first.state]  # StrEnum keys: "raised" finds AlertState.RAISED
    count = f" x{len(items)}" if len(items) > 1 else ""
    title = (
        f"[Vigie {first.territory}] {kinds[first.kind]}{count}: "
        f"{words['district']} {first.district}, {state if len(states) == 1 else '...'}"
    )
    lines = []
    for i in items:
        when = datetime.fromtimestamp(i.at_ms / 1000, zone).strftime("%Y-%m-%d %H:%M %Z")
        label = words[i.state]
        where = f"{words['where']} {i.lat:.5f}, {i.lon:.5f}; " if i.lat is not None else ""
        lines.append(
            f"- {i.subject} ({kinds[i.kind]}): {label}, {words['since']} {when}; "
            f"{words['value']} {i.value:g}; {where}{i.detail}\n"
            f"  {words['open']}: {dashboard_link(dashboard_url, i)}\n"
            f"  {words['ack']}: vigie alerts ack {i.territory} {i.kind} {i.subject}"
        )
    return title, "\n".join(lines)
