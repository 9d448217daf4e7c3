"""The platform's report on itself: what one process moved and used over an interval."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PlatformReport(BaseModel):
    """Counters are deltas over ``interval_s`` (sums over a day are meaningful)."""

    model_config = ConfigDict(frozen=True)

    component: str  # ingest, streams, edge
    instance: str
    territory: str
    at_ms: int
    interval_s: float = Field(ge=0)
    cpu_s: float = Field(ge=0)
    rss_kb: int = Field(ge=0)
    counters: dict[str, int] = Field(default_factory=dict)  # messages_in, bytes_in, ...
    by_vertical: dict[str, dict[str, int]] = Field(default_factory=dict)


def deltas(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """Per-key increase of cumulative counters since the previous report."""
    return {k: v - before.get(k, 0) for k, v in now.items()}
