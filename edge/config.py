"""The edge agent's configuration file (TOML or JSON): who the device is and how it samples."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from edge.batcher import BatchPolicy
from vigie.contracts import Asset
from vigie.settings import MqttSettings


class AgentConfig(BaseModel):
    """One board, one device identity."""

    model_config = ConfigDict(extra="forbid")

    territory: str
    asset: Asset
    driver: str = "simulated"
    sample_period_s: Annotated[float, Field(gt=0)] = 60.0
    batch_max_readings: Annotated[int, Field(gt=0, le=10_000)] = 50
    batch_max_age_s: Annotated[float, Field(gt=0)] = 300.0
    state_dir: Path = Path("/var/lib/vigie-edge")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)

    @property
    def batch_policy(self) -> BatchPolicy:
        return BatchPolicy(self.batch_max_readings, int(self.batch_max_age_s * 1000))

    @classmethod
    def load(cls, path: Path) -> AgentConfig:
        """Read a .toml or .json file; a ValidationError names the faulty field."""
        raw = Path(path).read_bytes()
        data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
        return cls.model_validate(data)
