"""Typed settings for every component, in one place.

Sources, highest priority first: environment variables (``VIGIE_`` prefix, ``__`` between
levels, e.g. ``VIGIE_MQTT__PORT=8883``), a TOML file named by ``VIGIE_CONFIG`` (else a site's
``$VIGIE_HOME/site.toml``), the addresses the
local stack launcher recorded (``$VIGIE_HOME/stack/stack.json``), then the documented defaults.
Secrets are never values here: only paths to files that hold them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vigie.sections import (
    GrafanaSettings,
    InfluxSettings,
    IngestSettings,
    KafkaSettings,
    MqttSettings,
    NotifySettings,
    StackSettings,
    StreamsSettings,
)
from vigie.sequence import SEQ_WINDOW
from vigie.sobriety.factors import FootprintFactors


def vigie_home() -> Path:
    """Where the local stack keeps its configs, data and logs (``VIGIE_HOME``, else ./.vigie)."""
    return Path(os.environ.get("VIGIE_HOME", ".vigie")).resolve()


class Settings(BaseSettings):
    """Everything a Vigie process needs to know."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    territory: str = "demo"
    registry: Path | None = None
    # how many sequence numbers are remembered per device to recognise repeats (the bridge
    # counts them, the worker drops them): one window for one job
    sequence_window: int = Field(default=SEQ_WINDOW, ge=64, le=65_536)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    streams: StreamsSettings = Field(default_factory=StreamsSettings)
    stack: StackSettings = Field(default_factory=StackSettings)
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    footprint: FootprintFactors = Field(default_factory=FootprintFactors)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("VIGIE_CONFIG")
        site = vigie_home() / "site.toml"  # a site's file serves every command run on it
        if not config and site.is_file():
            config = str(site)
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        sources.append(_StackSource(settings_cls))
        return tuple(sources)


class _StackSource(PydanticBaseSettingsSource):
    """Addresses recorded by ``vigie stack up``, so components find the local servers."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = vigie_home() / "stack" / "stack.json"
        if not path.exists():
            return {}
        state = json.loads(path.read_text())
        return state.get("settings", {})
