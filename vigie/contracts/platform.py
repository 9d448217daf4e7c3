"""The platform's report on itself: what one process moved and used over an interval."""

from __future__ import annotations

from collections.abc import Mapping

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

    @classmethod
    def of(
        cls,
        component: str,
        instance: str,
        territory: str,
        usage: tuple[float, float, int],
        counters: Mapping[str, int],
        per_vertical: Mapping[tuple[str, str], int],
        at_ms: int,
    ) -> PlatformReport:
        """A report from (CPU s, wall s, RSS kB), counters and (vertical, counter) counts."""
        cpu_s, wall_s, rss_kb = usage
        by_vertical: dict[str, dict[str, int]] = {}
        for (vertical, counter), n in per_vertical.items():
            by_vertical.setdefault(vertical, {})[counter] = n
        return cls(
            component=component,
            instance=instance,
            territory=territory,
            at_ms=at_ms,
            interval_s=wall_s,
            cpu_s=cpu_s,
            rss_kb=rss_kb,
            counters=dict(counters),
            by_vertical=by_vertical,
        )
