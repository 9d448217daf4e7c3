"""How long a replay waits for the platform's answer (``simulators.accounting.settle``).

The InfluxDB count is replaced by a script of answers: what is under test is when the loop
stops asking, not InfluxDB (the e2e history and replay tests ask the real one)."""

from __future__ import annotations

import time

from simulators import accounting
from simulators.accounting import PlatformCount, settle


def _answers(monkeypatch, answers: list[int]) -> list[float]:
    asked: list[float] = []

    def count(*_args: object) -> PlatformCount:
        asked.append(time.monotonic())
        return PlatformCount(stored=answers[min(len(asked), len(answers)) - 1])

    monkeypatch.setattr(accounting, "count", count)
    monkeypatch.setattr(accounting.time, "sleep", lambda s: None)
    return asked


def test_a_worker_slow_to_store_its_first_bulk_is_waited_for(monkeypatch):
    """Nothing for longer than the quiet period, then everything: a worker compiling its
    kernels on a cold start. The replay used to give up and report 0 stored."""
    clock = iter(range(0, 10_000))
    monkeypatch.setattr(accounting.time, "monotonic", lambda: float(next(clock)))
    _answers(monkeypatch, [0] * 30 + [42])
    seen = settle(None, ["d"], (0, 1), 0, 42, quiet_s=10, timeout_s=300, first_s=120)
    assert seen.stored == 42


def test_nothing_ever_stored_ends_after_the_first_wait_and_a_stall_after_the_quiet_one(
    monkeypatch,
):
    clock = iter(range(0, 10_000))
    monkeypatch.setattr(accounting.time, "monotonic", lambda: float(next(clock)))
    asked = _answers(monkeypatch, [0])
    assert settle(None, ["d"], (0, 1), 0, 42, quiet_s=10, first_s=60).stored == 0
    assert 60 <= asked[-1] - asked[0] <= 70
    clock = iter(range(0, 10_000))
    asked = _answers(monkeypatch, [0, 5, 20])
    assert settle(None, ["d"], (0, 1), 0, 42, quiet_s=10, first_s=60).stored == 20
    assert asked[-1] - asked[2] <= 2 * 11, "a stall after progress ends after the quiet time"
