"""A worker's guards: an agent crash ends the process (for a fresh start), refused lines are
kept in pieces Kafka accepts, raw readings past the raw retention go where they are kept."""

from __future__ import annotations

import asyncio

import faust
import pytest

from streams import app as worker
from streams.processor import _chunks
from streams.sinks.lineprotocol import TagIndex, raw_lines
from vigie.contracts import TelemetryBatch
from vigie.exits import Exit


def test_an_agent_that_crashes_ends_the_worker_for_a_fresh_start(monkeypatch):
    def leave(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(worker.os, "_exit", leave)
    app = faust.App("guard-test")
    with pytest.raises(SystemExit) as ended, worker._exit_on_crash(app, "telemetry"):
        raise RuntimeError("producer send failed")
    assert ended.value.code == Exit.RESTART
    with pytest.raises(asyncio.CancelledError), worker._exit_on_crash(app, "telemetry"):
        raise asyncio.CancelledError  # a stop is no crash


def test_refused_lines_are_cut_at_line_ends_into_bounded_pieces():
    body = b"\n".join(b"telemetry value=%d %d" % (i, i) for i in range(10_000))
    parts = _chunks(body, 4096)
    assert b"\n".join(parts) == body
    assert max(map(len, parts)) <= 4096
    assert all(not p.startswith(b"\n") for p in parts)


def test_raw_readings_past_the_retention_are_kept_apart():
    batch = TelemetryBatch(
        device_id="a",
        seq=0,
        sent_at_ms=5000,
        readings=[
            {"ts_ms": 1000, "metric": "power_w", "value": 1.0},
            {"ts_ms": 5000, "metric": "power_w", "value": 2.0},
        ],
    )
    recent, old = raw_lines([batch], {"a": "lighting"}, TagIndex("t", {}), from_ms=2000)
    assert [x.rsplit(" ", 1)[1] for x in recent] == ["5000"]
    assert [x.rsplit(" ", 1)[1] for x in old] == ["1000"]
    assert raw_lines([batch], {"a": "lighting"}, TagIndex("t", {}))[1] == []
