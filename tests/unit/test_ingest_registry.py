"""A bridge without a territory registry would accept any device: only when told so."""

from __future__ import annotations

import pytest

from ingest.bridge import NoRegistryError, make_router
from vigie.settings import Settings


def test_a_bridge_without_registry_refuses_to_start(monkeypatch):
    monkeypatch.delenv("VIGIE_REGISTRY", raising=False)
    with pytest.raises(NoRegistryError, match="VIGIE_INGEST__ACCEPT_ANY_DEVICE"):
        make_router(Settings(registry=None), "0")


def test_accepting_any_device_is_said_out_loud(monkeypatch, caplog):
    monkeypatch.delenv("VIGIE_REGISTRY", raising=False)
    settings = Settings(registry=None, ingest={"accept_any_device": True})
    router = make_router(settings, "0")
    assert router.registry is None
    assert "registry checks off" in caplog.text
