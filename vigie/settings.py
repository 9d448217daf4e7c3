"""Typed settings for every component, in one place.

Sources, highest priority first: environment variables (``VIGIE_`` prefix, ``__`` between
levels, e.g. ``VIGIE_MQTT__PORT=8883``), a TOML file named by ``VIGIE_CONFIG``, the addresses the
local stack launcher recorded (``$VIGIE_HOME/stack/stack.json``), then the documented defaults.
Secrets are never values here: only paths to files that hold them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def vigie_home() -> Path:
    """Where the local stack keeps its configs, data and logs (``VIGIE_HOME``, else ./.vigie)."""
    return Path(os.environ.get("VIGIE_HOME", ".vigie")).resolve()


def read_secret(path: Path | None) -> str | None:
    """The content of a secret file, stripped; None when no file is configured."""
    if path is None:
        return None
    return Path(path).read_text().strip()


class MqttSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 1883
    prefix: str = "vigie"
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30


class KafkaSettings(BaseModel):
    bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "vigie"
    partitions: int = 4


class InfluxSettings(BaseModel):
    backend: Literal["v1", "v2"] = "v1"
    url: str = "http://127.0.0.1:8086"
    database: str = "vigie"  # v1 database; v2 bucket prefix
    org: str = "vigie"  # v2 only
    username: str | None = None
    password_file: Path | None = None
    token_file: Path | None = None  # v2 only
    raw_retention: str = "7d"
    aggregate_retention: str = "INF"


class IngestSettings(BaseModel):
    share_group: str = "vigie-ingest"
    max_payload_bytes: int = 256 * 1024
    max_clock_skew_s: float = 300.0
    max_age_s: float = 7 * 86400.0
    dedup_window: int = 4096
    metrics_port: int = 0  # 0: no Prometheus endpoint
    metrics_host: str = "127.0.0.1"


class StreamsSettings(BaseModel):
    app_id: str = "vigie-streams"
    window_s: int = 60
    allowed_lateness_s: int = 120
    attribution_window_s: int = 3600
    group_lateness_s: int = 1800  # batches from the edge may be this old
    idle_close_s: float = 20.0  # no data for this long: close open group windows
    silent_after_s: int = 900  # event time behind the newest data before device_silent
    take_max: int = 500
    take_within_s: float = 0.5
    web_port: int = 0  # 0: pick a free port


class Settings(BaseSettings):
    """Everything a Vigie process needs to know."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_nested_delimiter="__", extra="ignore"
    )

    territory: str = "demo"
    registry: Path | None = None
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    streams: StreamsSettings = Field(default_factory=StreamsSettings)

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
