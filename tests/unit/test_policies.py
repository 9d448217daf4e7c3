"""Stream policies are settings: a technical service tunes them without touching code."""

from __future__ import annotations

import pytest

from streams.processor import policies_from
from vigie.settings import Settings


def test_kpi_and_group_policies_come_from_settings_with_the_territorys_clock(monkeypatch):
    monkeypatch.setenv("VIGIE_STREAMS__KPI__LAMP_OFF_W", "3.5")
    monkeypatch.setenv("VIGIE_STREAMS__KPI__SWITCH_OFF_HOURS", "[23, 5]")
    monkeypatch.setenv("VIGIE_STREAMS__GROUP__LEAK_RATIO", "1.5")
    monkeypatch.setenv("VIGIE_STREAMS__SILENT_AFTER_S", "60")
    monkeypatch.setenv("VIGIE_SEQUENCE_WINDOW", "1024")
    policies = policies_from(Settings(), "America/Cayenne")
    assert policies.kpi.lamp_off_w == 3.5
    assert policies.kpi.switch_off_hours == (23, 5)
    assert policies.kpi.silent_after_ms == 60_000
    assert policies.group.leak_ratio == 1.5
    assert policies.window.seq_window == 1024
    assert policies.kpi.clock.timezone == policies.group.clock.timezone == "America/Cayenne"


def test_settings_are_read_once_and_never_changed(monkeypatch):
    """A process's settings are frozen, sections and footprint factors included: a change is
    a new object, so no module can alter what another reads."""
    from pydantic import ValidationError

    from vigie.settings import Settings

    monkeypatch.setenv("VIGIE_TERRITORY", "paris")
    settings = Settings()
    for target, name, value in (
        (settings, "territory", "lyon"),
        (settings.influx, "url", "http://elsewhere:8086"),
        (settings.streams, "receipts", False),
        (settings.footprint, "board_idle_w", 0.0),
    ):
        with pytest.raises(ValidationError, match="frozen"):
            setattr(target, name, value)
    changed = settings.model_copy(update={"territory": "lyon"})
    assert (settings.territory, changed.territory) == ("paris", "lyon")
