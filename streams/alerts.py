"""Alerts raised once when a condition starts and cleared when it ends (the contract is
``vigie.contracts.alerts``). Pure."""

from __future__ import annotations

from vigie.contracts.alerts import Alert, AlertKind, AlertState

__all__ = ["Alert", "AlertKind", "AlertState", "transition"]


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
