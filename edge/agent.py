"""The edge agent: sample sensors on their periods, batch, queue on disk, send, obey commands.

Threads: this one samples and batches into the durable queue; the session thread sends the
queue over MQTT and receives commands. A batch is in the queue (with the next sequence number,
in one transaction) before anything is sent, and leaves it only when the platform's storage
receipt names it, so no server's failure and no killed agent loses a reading.
"""

from __future__ import annotations

import json
import logging
import queue as stdqueue
import threading
import time
from dataclasses import dataclass

from pydantic import ValidationError

from edge import health
from edge.batcher import Batcher
from edge.config import AgentConfig, Command, RemoteConfig
from edge.drivers import Driver, load_driver
from edge.queue import BatchQueue
from edge.session import FatalConnectError, Session
from vigie.contracts import Channel, TelemetryBatch

log = logging.getLogger("vigie.edge")


@dataclass
class AgentReport:
    batches: int = 0
    readings: int = 0
    commands_applied: int = 0
    commands_refused: int = 0


class Agent:
    """One device's agent; ``run`` returns when ``stop`` is set (or max_samples are taken)."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.queue = BatchQueue(config.state_dir / "queue.db", config.queue_policy)
        self.batcher = Batcher(config.asset.id, config.batch_policy, self.queue.next_seq())
        self.drivers = self._drivers(config)
        self.commands: stdqueue.SimpleQueue[bytes] = stdqueue.SimpleQueue()
        self.session = Session(
            config.mqtt,
            f"vigie-edge-{config.asset.id}",
            config.territory,
            config.asset.vertical,
            config.asset.id,
            self.queue,
            config.backoff,
            config.max_inflight,
            config.receipts,
            config.receipt_timeout_s,
            on_command=self.commands.put,
        )
        self.report = AgentReport()

    def _drivers(self, config: AgentConfig) -> list[tuple[float, Driver]]:
        out = []
        for sensor in config.sensor_list:
            driver = load_driver(sensor.driver, config.asset, sensor.options, config.state_dir)
            if config.dimming and hasattr(driver, "set_dimming"):
                driver.set_dimming(config.dimming)
            out.append((sensor.period_s or config.sample_period_s, driver))
        return out

    def run(self, stop: threading.Event, max_samples: int | None = None) -> AgentReport:
        """Sample until stopped; raises FatalConnectError when the broker refuses us for good."""
        self.session.start()
        samples = 0
        now = time.time()
        due = [now for _ in self.drivers]
        last = [now for _ in self.drivers]
        next_health = now
        own = health.SelfMeasure()
        try:
            while not stop.is_set() and (max_samples is None or samples < max_samples):
                if self.session.error is not None:
                    raise self.session.error
                self._apply_commands()
                now = time.time()
                for i, (period, driver) in enumerate(self.drivers):
                    if now >= due[i]:
                        self._add(driver.read(int(now * 1000), now - last[i]), now)
                        # behind schedule (a slow bus read, a stalled board): the missed
                        # samples are skipped, not taken in a burst at one timestamp
                        last[i], due[i] = now, max(due[i] + period, now + period / 2)
                        samples += 1
                if now >= next_health:
                    stats = self.session.stats
                    self._add(
                        health.readings(
                            self.config.state_dir,
                            len(self.queue),
                            self.queue.dropped,
                            stats.connected,
                            self.queue.first_seq,
                        )
                        + own.readings(stats.sent, stats.sent_bytes),
                        now,
                    )
                    next_health = now + self.config.health_period_s
                self._flush_due(time.time())
                stop.wait(max(0.0, min([*due, next_health]) - time.time()))
            self._flush_due(time.time(), force=True)
            self._drain(self.config.stop_timeout_s)
        finally:
            self.session.stop()
            self.queue.close()
        if self.session.error is not None:
            raise self.session.error
        return self.report

    def _add(self, readings: list[tuple[str, float]], now: float) -> None:
        now_ms = int(now * 1000)
        for metric, value in readings:
            self.report.readings += 1
            batch = self.batcher.add(now_ms, metric, value, now_ms)
            if batch is not None:
                self._enqueue(batch)

    def _flush_due(self, now: float, force: bool = False) -> None:
        now_ms = int(now * 1000)
        batch = self.batcher.flush(now_ms) if force else self.batcher.due(now_ms)
        if batch is not None:
            self._enqueue(batch)

    def _enqueue(self, batch: TelemetryBatch) -> None:
        dropped = self.queue.put(
            batch.seq,
            batch.sent_at_ms,
            str(self.config.asset.vertical),
            batch.model_dump_json().encode(),
        )
        self.report.batches += 1
        if dropped:
            log.warning("queue full: oldest batches dropped", extra={"dropped": dropped})

    def _drain(self, timeout_s: float) -> None:
        """Give the session a moment to send what is queued, and the platform to receipt it,
        before stopping; what is still queued then is sent again by the next run."""
        deadline = time.monotonic() + timeout_s
        while len(self.queue) and self.session.stats.connected and time.monotonic() < deadline:
            time.sleep(0.05)

    def _apply_commands(self) -> None:
        while not self.commands.empty():
            raw = self.commands.get()
            try:
                command = Command.model_validate_json(raw)
                new = command.set.apply(self.config)
            except ValidationError as exc:
                cid = _command_id(raw)
                reason = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                    for e in exc.errors(include_url=False)[:3]
                )
                self.report.commands_refused += 1
                self.session.publish(
                    Channel.ACK, json.dumps({"id": cid, "ok": False, "reason": reason}).encode()
                )
                log.warning("command refused", extra={"id": cid, "reason": reason})
                continue
            self._persist(command.set)
            self.config = new
            self.batcher.policy = new.batch_policy
            self.drivers = [
                (s.period_s or new.sample_period_s, d)
                for s, (_, d) in zip(new.sensor_list, self.drivers, strict=True)
            ]
            for _, driver in self.drivers:
                if new.dimming and hasattr(driver, "set_dimming"):
                    driver.set_dimming(new.dimming)
            self.report.commands_applied += 1
            self.session.publish(
                Channel.ACK,
                json.dumps(
                    {
                        "id": command.id,
                        "ok": True,
                        "applied": command.set.model_dump(exclude_none=True),
                    }
                ).encode(),
            )
            log.info("command applied", extra={"id": command.id})

    def _persist(self, change: RemoteConfig) -> None:
        path = self.config.state_dir / "remote.json"
        before = json.loads(path.read_text()) if path.exists() else {}
        merged = {**before, **change.model_dump(exclude_none=True)}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(merged))
        tmp.replace(path)


def _command_id(raw: bytes) -> str:
    try:
        value = json.loads(raw).get("id", "")
        return str(value)[:64]
    except (ValueError, AttributeError):
        return ""


__all__ = ["Agent", "AgentReport", "FatalConnectError"]
