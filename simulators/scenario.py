"""What happens to a simulated territory besides normal life: failures, leaks, faults.

A scenario is data (JSON round trip), deterministic from a seed, and the ground truth that
tests and benchmarks score the platform against.
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from vigie.contracts import AssetKind, Territory


class LampFailure(BaseModel):
    """A lamp that stops drawing power from ``at_ms`` on (defective lamp)."""

    lamp_id: str
    at_ms: int


class Leak(BaseModel):
    """A leak adding a constant flow to a district metered area from ``start_ms`` on."""

    dma: str
    start_ms: int
    flow_m3h: float


class Tapping(BaseModel):
    """An unmetered load hooked onto a lighting cabinet (theft or a fault to earth)."""

    cabinet_id: str
    start_ms: int
    power_w: float


class Incident(BaseModel):
    """A road incident: flow collapses and occupancy rises at a counter."""

    counter_id: str
    start_ms: int
    end_ms: int


class Window(BaseModel):
    """A device-level fault over a period: silence or a stuck sensor."""

    device_id: str
    start_ms: int
    end_ms: int


class Scenario(BaseModel):
    """Everything injected into one simulation run."""

    model_config = ConfigDict(frozen=True)

    lamp_failures: list[LampFailure] = []
    leaks: list[Leak] = []
    tappings: list[Tapping] = []
    incidents: list[Incident] = []
    silences: list[Window] = []
    stuck: list[Window] = []
    clock_skew_ms: dict[str, int] = {}
    dropout_rate: float = 0.0  # fraction of readings lost at the sensor
    duplicate_rate: float = 0.0  # fraction of batches sent twice (same sequence number)

    @classmethod
    def random(
        cls,
        territory: Territory,
        start_ms: int,
        end_ms: int,
        seed: int = 1,
        *,
        lamp_failures: int = 0,
        leaks: int = 0,
        tappings: int = 0,
        incidents: int = 0,
        silences: int = 0,
        stuck: int = 0,
        skewed: int = 0,
        dropout_rate: float = 0.0,
        duplicate_rate: float = 0.0,
    ) -> Scenario:
        """Draw faults among the territory's assets, each starting in the first half."""
        rng = random.Random(seed)

        def of(kind: AssetKind) -> list[str]:
            return [a.id for a in territory.assets if a.kind is kind]

        def when() -> int:
            return rng.randrange(start_ms, start_ms + max(1, (end_ms - start_ms) // 2))

        dmas = sorted({a.dma for a in territory.assets if a.dma})
        devices = [a.id for a in territory.assets]
        return cls(
            lamp_failures=[
                LampFailure(lamp_id=d, at_ms=when())
                for d in rng.sample(of(AssetKind.LAMP), lamp_failures)
            ],
            leaks=[
                Leak(dma=d, start_ms=when(), flow_m3h=round(rng.uniform(2.0, 6.0), 2))
                for d in rng.sample(dmas, leaks)
            ],
            tappings=[
                Tapping(cabinet_id=c, start_ms=when(), power_w=rng.choice((400.0, 800.0)))
                for c in rng.sample(of(AssetKind.LIGHTING_CABINET), tappings)
            ],
            incidents=[
                Incident(counter_id=c, start_ms=(s := when()), end_ms=s + 45 * 60_000)
                for c in rng.sample(of(AssetKind.TRAFFIC_COUNTER), incidents)
            ],
            silences=[
                Window(device_id=d, start_ms=(s := when()), end_ms=s + 30 * 60_000)
                for d in rng.sample(devices, silences)
            ],
            stuck=[
                Window(device_id=d, start_ms=(s := when()), end_ms=s + 30 * 60_000)
                for d in rng.sample(devices, stuck)
            ],
            clock_skew_ms={
                d: rng.choice((-1, 1)) * rng.randrange(5_000, 90_000)
                for d in rng.sample(devices, skewed)
            },
            dropout_rate=dropout_rate,
            duplicate_rate=duplicate_rate,
        )

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1))

    @classmethod
    def load(cls, path: Path) -> Scenario:
        return cls.model_validate_json(Path(path).read_bytes())


class Faults:
    """Fast look-ups of a scenario's effects at a time, for the models' inner loops."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.failed_at = {f.lamp_id: f.at_ms for f in scenario.lamp_failures}
        self.leaks: dict[str, list[tuple[int, float]]] = {}  # dma -> [(start, flow)]
        for leak in scenario.leaks:
            self.leaks.setdefault(leak.dma, []).append((leak.start_ms, leak.flow_m3h))
        self.tappings: dict[str, list[tuple[int, float]]] = {}
        for t in scenario.tappings:
            self.tappings.setdefault(t.cabinet_id, []).append((t.start_ms, t.power_w))
        self.incidents: dict[str, list[tuple[int, int]]] = {}
        for i in scenario.incidents:
            self.incidents.setdefault(i.counter_id, []).append((i.start_ms, i.end_ms))
        self.silent: dict[str, list[tuple[int, int]]] = {}
        for w in scenario.silences:
            self.silent.setdefault(w.device_id, []).append((w.start_ms, w.end_ms))
        self.stuck: dict[str, list[tuple[int, int]]] = {}
        for w in scenario.stuck:
            self.stuck.setdefault(w.device_id, []).append((w.start_ms, w.end_ms))

    def lamp_failed(self, lamp_id: str, ts_ms: int) -> bool:
        at = self.failed_at.get(lamp_id)
        return at is not None and ts_ms >= at

    def leak_m3h(self, dma: str, ts_ms: int) -> float:
        return sum(flow for start, flow in self.leaks.get(dma, ()) if ts_ms >= start)

    def tapping_w(self, cabinet_id: str, ts_ms: int) -> float:
        return sum(p for start, p in self.tappings.get(cabinet_id, ()) if ts_ms >= start)

    @staticmethod
    def _inside(spans: dict[str, list[tuple[int, int]]], device: str, ts_ms: int) -> bool:
        return any(a <= ts_ms < b for a, b in spans.get(device, ()))

    def incident(self, counter_id: str, ts_ms: int) -> bool:
        return self._inside(self.incidents, counter_id, ts_ms)

    def is_silent(self, device: str, ts_ms: int) -> bool:
        return self._inside(self.silent, device, ts_ms)

    def is_stuck(self, device: str, ts_ms: int) -> bool:
        return self._inside(self.stuck, device, ts_ms)
