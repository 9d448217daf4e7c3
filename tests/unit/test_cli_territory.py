"""Which territory a command speaks of when none is named."""

from __future__ import annotations

from shell.cli import _settings_for
from simulators.territory import generate


def test_with_one_registry_its_territory_is_the_default(tmp_path, monkeypatch):
    registry = tmp_path / "paris.json"
    generate(100, seed=1, territory_id="paris").save(registry)
    monkeypatch.delenv("VIGIE_TERRITORY", raising=False)
    monkeypatch.setenv("VIGIE_REGISTRY", str(registry))
    assert _settings_for(None).territory == "paris"
    monkeypatch.setenv("VIGIE_TERRITORY", "paris")
    assert _settings_for(None).territory == "paris"


def test_with_several_registries_the_setting_stays_the_default(tmp_path, monkeypatch):
    for tid in ("nord", "sud"):
        generate(100, seed=1, territory_id=tid).save(tmp_path / f"{tid}.json")
    monkeypatch.setenv("VIGIE_REGISTRY", str(tmp_path))
    monkeypatch.setenv("VIGIE_TERRITORY", "sud")
    assert _settings_for(None).territory == "sud"
    assert _settings_for("nord").territory == "nord"
