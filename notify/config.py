"""Who is told what: routes from alerts to channels, maintenance windows, noise control.

A channel is an apprise URL (``mailto://...``, ``json://host/path``, ``matrix://...``,
``msteams://...``) or ``file:///path.jsonl`` (one JSON line per message, for the demo and
for sites that collect files). Loaded from TOML or JSON (``VIGIE_NOTIFY__CONFIG``)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigie.contracts.alerts import Alert, AlertKind, Severity


class Route(BaseModel):
    """Alerts of some territories, verticals, kinds and severities to some channels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    channels: list[str] = Field(min_length=1)
    territories: list[str] = []  # empty: every territory
    verticals: list[str] = []
    kinds: list[AlertKind] = []
    min_severity: Severity = Severity.INFO
    language: Literal["fr", "en"] = "fr"
    # still open and unacknowledged after this long: told to escalate_to as well
    escalate_after_s: Annotated[float, Field(gt=0)] | None = None
    escalate_to: list[str] = []

    def takes(self, alert: Alert, vertical: str) -> bool:
        return (
            (not self.territories or alert.territory in self.territories)
            and (not self.verticals or vertical in self.verticals)
            and (not self.kinds or alert.kind in self.kinds)
            and alert.severity >= self.min_severity
        )


class Maintenance(BaseModel):
    """Planned works: alerts of an asset or a district are recorded but nobody is told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    territory: str
    district: str | None = None
    asset: str | None = None
    start_ms: int
    end_ms: int
    reason: str = ""

    def covers(self, territory: str, district: str, asset: str, at_ms: int) -> bool:
        where = (self.asset is None or self.asset == asset) and (
            self.district is None or self.district == district
        )
        return territory == self.territory and where and self.start_ms <= at_ms < self.end_ms


class NotifyConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    routes: list[Route] = []
    maintenance: list[Maintenance] = []
    # alerts of one kind and district raised within this window go out as one message
    group_window_s: Annotated[float, Field(ge=0)] = 60.0
    # a subject raised more than flap_max times within flap_window_s is flapping: recorded,
    # one message says so, then nobody is told until it settles
    flap_window_s: Annotated[float, Field(gt=0)] = 3600.0
    flap_max: Annotated[int, Field(ge=1)] = 3
    dashboard_url: str = "http://localhost:3000"

    @classmethod
    def load(cls, path: Path) -> NotifyConfig:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return cls.model_validate(data)
