"""Ground truth of a simulation: what really happened, to score the platform against."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from simulators.scenario import Scenario


class GroundTruth(BaseModel):
    """True energies (Wh) and volumes, and the injected events, written beside the data.

    ``district_lighting_wh`` is the energy of each district's lamps including their share of
    their cabinet's line losses: what a perfect attribution of the cabinet meters gives.
    ``cabinet_unexplained_wh`` is metered energy no lamp drew (tappings).
    """

    start_ms: int
    end_ms: int
    lamp_wh: dict[str, float] = {}
    lamp_full_power_wh: dict[str, float] = {}  # the same hours at nominal power, no dimming
    cabinet_wh: dict[str, float] = {}
    cabinet_unexplained_wh: dict[str, float] = {}
    district_lighting_wh: dict[str, float] = {}
    dma_volume_m3: dict[str, float] = {}
    leak_volume_m3: dict[str, float] = {}
    readings_sent: int = 0
    readings_dropped: int = 0
    duplicate_batches: int = 0
    scenario: Scenario = Scenario()

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1))

    def merged(self, other: GroundTruth) -> GroundTruth:
        """The truth of two runs over disjoint devices of the same territory and period."""

        def add(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
            return {k: a.get(k, 0.0) + b.get(k, 0.0) for k in a.keys() | b.keys()}

        return self.model_copy(
            update={
                "end_ms": max(self.end_ms, other.end_ms),
                "lamp_wh": {**self.lamp_wh, **other.lamp_wh},
                "lamp_full_power_wh": {**self.lamp_full_power_wh, **other.lamp_full_power_wh},
                "cabinet_wh": {**self.cabinet_wh, **other.cabinet_wh},
                "cabinet_unexplained_wh": {
                    **self.cabinet_unexplained_wh,
                    **other.cabinet_unexplained_wh,
                },
                "district_lighting_wh": add(self.district_lighting_wh, other.district_lighting_wh),
                "dma_volume_m3": add(self.dma_volume_m3, other.dma_volume_m3),
                "leak_volume_m3": add(self.leak_volume_m3, other.leak_volume_m3),
                "readings_sent": self.readings_sent + other.readings_sent,
                "readings_dropped": self.readings_dropped + other.readings_dropped,
                "duplicate_batches": self.duplicate_batches + other.duplicate_batches,
            }
        )

    @classmethod
    def load(cls, path: Path) -> GroundTruth:
        return cls.model_validate_json(Path(path).read_bytes())


class TruthRecorder:
    """Accumulates the truth while the simulation samples its models."""

    def __init__(self, start_ms: int, scenario: Scenario, losses: float) -> None:
        self.truth = GroundTruth(start_ms=start_ms, end_ms=start_ms, scenario=scenario)
        self.losses = losses
        self._lamp: dict[str, float] = defaultdict(float)
        self._full: dict[str, float] = defaultdict(float)
        self._cabinet: dict[str, float] = defaultdict(float)
        self._unexplained: dict[str, float] = defaultdict(float)
        self._district: dict[str, float] = defaultdict(float)
        self._dma: dict[str, float] = defaultdict(float)
        self._leak: dict[str, float] = defaultdict(float)

    def lamp(self, lamp_id: str, district: str, power_w: float, full_w: float, dt_s: float) -> None:
        wh = power_w * dt_s / 3600
        self._lamp[lamp_id] += wh
        self._full[lamp_id] += full_w * dt_s / 3600
        self._district[district] += wh * (1 + self.losses)

    def cabinet(self, cabinet_id: str, power_w: float, tapping_w: float, dt_s: float) -> None:
        self._cabinet[cabinet_id] += power_w * dt_s / 3600
        self._unexplained[cabinet_id] += tapping_w * dt_s / 3600

    def water(self, dma: str, flow_m3h: float, leak_m3h: float, dt_s: float) -> None:
        self._dma[dma] += flow_m3h * dt_s / 3600
        self._leak[dma] += leak_m3h * dt_s / 3600

    def finish(self, end_ms: int) -> GroundTruth:
        t = self.truth
        t.end_ms = end_ms
        t.lamp_wh, t.lamp_full_power_wh = dict(self._lamp), dict(self._full)
        t.cabinet_wh, t.cabinet_unexplained_wh = dict(self._cabinet), dict(self._unexplained)
        t.district_lighting_wh = dict(self._district)
        t.dma_volume_m3, t.leak_volume_m3 = dict(self._dma), dict(self._leak)
        return t
