"""The edge agent's configuration file (TOML or JSON), and what may change remotely."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from edge.batcher import BatchPolicy
from edge.drivers import available
from edge.queue import QueuePolicy
from vigie.contracts import Asset
from vigie.retry import Backoff
from vigie.sections import MqttSettings

Period = Annotated[float, Field(gt=0, le=86_400)]
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


def _known_driver(name: str) -> str:
    known = available()
    if name not in known:
        raise ValueError(f"no driver {name!r}; this installation has {', '.join(known)}")
    return name


DriverName = Annotated[str, AfterValidator(_known_driver)]  # a vigie.edge.drivers entry point


class SensorConfig(BaseModel):
    """One sensor on the board: which driver, how often, with which options."""

    model_config = ConfigDict(extra="forbid")

    driver: DriverName = "simulated"
    period_s: Period | None = None  # default: the agent's sample_period_s
    options: dict[str, Any] = {}


class DimmingStep(BaseModel):
    """Lamp output between two local times (a part-night dimming schedule)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: HourMinute
    end: HourMinute
    level_pct: Annotated[float, Field(ge=0, le=100)]


class AgentConfig(BaseModel):
    """One board, one device identity."""

    model_config = ConfigDict(extra="forbid")

    territory: str
    asset: Asset
    driver: DriverName = "simulated"  # shorthand for sensors = [{driver = ...}]
    sensors: list[SensorConfig] = []
    sample_period_s: Period = 60.0
    batch_max_readings: Annotated[int, Field(gt=0, le=10_000)] = 50
    batch_max_age_s: Period = 300.0
    health_period_s: Period = 300.0
    dimming: list[DimmingStep] = []
    state_dir: Path = Path("/var/lib/vigie-edge")
    queue_max_batches: Annotated[int, Field(gt=0)] = 100_000
    queue_max_age_s: Annotated[float, Field(gt=0)] = 7 * 86_400.0
    queue_durability: Literal["full", "normal"] = "full"
    max_inflight: Annotated[int, Field(gt=0, le=65_535)] = 100
    # keep a batch until the platform's storage receipt names it, sending again what stays
    # without one (a platform older than receipts: false, and a batch leaves at the PUBACK)
    receipts: bool = True
    receipt_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    stop_timeout_s: Annotated[float, Field(ge=0)] = 10.0  # to empty the queue when stopping
    backoff: Backoff = Backoff()
    mqtt: MqttSettings = Field(default_factory=MqttSettings)

    @property
    def batch_policy(self) -> BatchPolicy:
        return BatchPolicy(self.batch_max_readings, int(self.batch_max_age_s * 1000))

    @property
    def queue_policy(self) -> QueuePolicy:
        return QueuePolicy(
            self.queue_max_batches, int(self.queue_max_age_s * 1000), self.queue_durability
        )

    @property
    def sensor_list(self) -> list[SensorConfig]:
        return self.sensors or [SensorConfig(driver=self.driver)]

    @classmethod
    def load(cls, path: Path) -> AgentConfig:
        """Read a .toml or .json file, then the remotely applied overlay if there is one."""
        raw = Path(path).read_bytes()
        data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
        return cls.load_from(cls.model_validate(data))

    @classmethod
    def load_from(cls, config: AgentConfig) -> AgentConfig:
        """The configuration with the remote changes persisted in its state folder applied."""
        remote = config.state_dir / "remote.json"
        if remote.exists():
            config = RemoteConfig.model_validate_json(remote.read_bytes()).apply(config)
        return config


class RemoteConfig(BaseModel):
    """What the platform may change on the ``cmd`` topic; anything else is refused."""

    model_config = ConfigDict(extra="forbid")

    sample_period_s: Period | None = None
    batch_max_readings: Annotated[int, Field(gt=0, le=10_000)] | None = None
    batch_max_age_s: Period | None = None
    health_period_s: Period | None = None
    dimming: list[DimmingStep] | None = None

    def apply(self, config: AgentConfig) -> AgentConfig:
        """A new, validated configuration with these changes."""
        changes = self.model_dump(exclude_none=True)
        return AgentConfig.model_validate({**config.model_dump(), **changes})


class Command(BaseModel):
    """A message on the device's cmd topic."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64)]
    set: RemoteConfig
