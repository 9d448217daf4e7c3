"""The telemetry processor: Kafka events in, pipeline run, InfluxDB written, state saved.

It only moves data: decoding is the contract's, all computation is the pipeline's (pure),
the sink owns retries. Device and group states live in a faust table whose changelog is
written to the partition their records come from, so a restarted or rebalanced worker
recovers them. InfluxDB is written before the states are saved, and every write is idempotent
(same series and time overwrite), so a crash in between replays to the same result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from streams.catchup import roll_up_devices
from streams.groups import GroupState
from streams.lanes import (
    GROUP_PREFIX,
    Found,
    Lane,
    lane_of,
    parse_group_key,
    receipt_asked,
)
from streams.outputs import BulkOutput
from streams.pipeline import Pipeline, Policies
from streams.readback import Recovered, read_back
from streams.receipts import ReceiptPublisher, Receipts
from streams.recovery import (
    reading_span,
    seeded_states,
    window_span,
    without_stored,
)
from streams.silences import SilenceIndex
from streams.sinks.base import Sink, retention_seconds
from streams.sinks.choice import sink_for
from streams.sinks.lineprotocol import (
    Lines,
    TagIndex,
    dead_letter_lines,
    encode,
    lag_line,
    platform_lines,
)
from streams.windowing import DeviceState, WindowPolicy
from vigie.clock import SYSTEM, Clock
from vigie.contracts import TELEMETRY_BUNDLE, Asset, DeadLetter, RejectReason, TelemetryBatch
from vigie.contracts.platform import PlatformReport
from vigie.contracts.storage import LONG_RP, MINUTE_RP, RAW_RP
from vigie.errors import StorageError
from vigie.localtime import DEFAULT_TIMEZONE, LocalClock
from vigie.registries import Registries
from vigie.retry import SERVER, retrying
from vigie.settings import Settings
from vigie.usage import ProcessUsage

log = logging.getLogger("vigie.streams")

Emit = Callable[[bytes, bytes], Awaitable[Any]]


def policies_from(settings: Settings, timezone: str = DEFAULT_TIMEZONE) -> Policies:
    """The streams' settings, in the territory's time zone (its registry says which)."""
    s = settings.streams
    clock = LocalClock(timezone)
    return Policies(
        window=WindowPolicy(
            s.window_s * 1000, s.allowed_lateness_s * 1000, settings.sequence_window
        ),
        group=s.group.model_copy(
            update={
                "window_ms": s.attribution_window_s * 1000,
                "lateness_ms": s.group_lateness_s * 1000,
                "clock": clock,
            }
        ),
        kpi=s.kpi.model_copy(update={"silent_after_ms": s.silent_after_s * 1000, "clock": clock}),
        raw_keep_ms=retention_seconds(settings.influx.raw_retention) * 1000,
        minute_keep_ms=retention_seconds(settings.influx.minute_retention) * 1000,
    )


@dataclass
class Folded:
    """A bulk run through the pipeline, with what storing it will need."""

    out: BulkOutput
    lines: Lines
    devices: dict[str, DeviceState]
    groups: dict[str, GroupState]
    batches: list[TelemetryBatch]
    kafka_ms: list[float]  # per batch, when its record reached Kafka
    receipts: Receipts


def _chunks(body: bytes, size: int) -> list[bytes]:
    """Line-protocol bytes in pieces of at most ``size`` bytes, cut at line ends (a longer
    line is a piece of its own)."""
    parts, start = [], 0
    while start < len(body):
        end = body.rfind(b"\n", start, start + size) if len(body) - start > size else len(body)
        if end <= start:
            end = body.find(b"\n", start + size)
            end = len(body) if end < 0 else end
        parts.append(body[start:end])
        start = end + 1
    return parts


class TelemetryProcessor:
    """Processes one bulk of telemetry events at a time."""

    def __init__(
        self,
        settings: Settings,
        table: Any,
        registry: Mapping[str, Asset] | Registries | None,
        emit_alert: Emit | None = None,
        emit_dead_letter: Emit | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        clock: Clock = SYSTEM,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.table = table
        # one pipeline per territory served, each with its registry and local calendar; a
        # plain registry (or none) serves whatever territory a record names
        self.registries = registry if isinstance(registry, Registries) else None
        self._plain = None if isinstance(registry, Registries) else registry
        self._timezone = timezone
        self.pipelines: dict[str, Pipeline] = {}
        self._tags: dict[str, TagIndex] = {}
        self.pipeline = self.pipeline_of(settings.territory)
        self.emit_alert = emit_alert
        self.emit_dead_letter = emit_dead_letter
        self.unprocessable = 0
        self.storage_refused = 0  # lines of requests InfluxDB partly refused
        self.receipts = (
            ReceiptPublisher(settings.mqtt, f"vigie-streams-{socket.gethostname()}-{os.getpid()}")
            if settings.streams.receipts
            else None
        )
        self._receipts_to_all = settings.streams.receipts_to_all
        self._silences = SilenceIndex(settings.territory)
        self._idle_looked: dict[bytes, bytes] = {}  # group states on_idle saw, as it saw them
        self.sink: Sink | None = None
        self._exits = contextlib.AsyncExitStack()  # the sink, entered once, left on close
        self.readings = self.duplicates = self.late = self.alerts = self.rejected = 0
        self.instance = f"{socket.gethostname()}-{os.getpid()}"
        self.usage = ProcessUsage()
        self.traffic: Counter[str] = Counter()
        self.by_vertical: Counter[tuple[str, str]] = Counter()
        self.last_event = self.clock.monotonic()
        self._lock = asyncio.Lock()
        self._opening = asyncio.Lock()
        self._own_lines: list[str] = []  # lag lines waiting for the next write
        self._inflight: asyncio.Task[None] | None = None  # the bulk being written

    async def open(self) -> Sink:
        """The sink the settings choose, InfluxDB 1.x (v1 API) or 2.x/3.x (token), opened once
        however many tasks ask at the same time."""
        async with self._opening:
            if self.sink is None:
                self.sink = await self._exits.enter_async_context(sink_for(self.settings.influx))
            return self.sink

    async def drain(self) -> None:
        """Wait until the bulk in flight is stored (its error, if any, is raised here)."""
        task, self._inflight = self._inflight, None
        if task is not None:
            await task

    async def close(self) -> None:
        await self.drain()
        if self.receipts is not None:
            self.receipts.close()
        await self._exits.aclose()
        self.sink = None

    async def handle(
        self, events: Sequence[Any], written: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Fold a bulk of events (faust events of raw batch bytes) and write the results.

        The results are written while the next bulk is folded, one bulk in flight at most:
        ``written`` runs once this bulk's results are stored and its states saved (the caller
        acknowledges its records there). ``drain`` waits for the bulk in flight. A record that
        cannot be decoded or folded becomes a dead letter (``unprocessable``) and the rest of
        the bulk goes on: one bad record never stops the worker or loops it on restart.
        """
        async with self._lock:
            self.last_event = self.clock.monotonic()
            decoded = await self._decode(events)
            recovered = await self._recover(decoded)
            try:
                folded = self._fold(decoded, recovered)
            except Exception:
                log.exception("bulk could not be folded, folding record by record")
                decoded = await self._without_unprocessable(decoded, recovered)
                folded = self._fold(decoded, recovered)
            out = folded.out
            staged = self._stage(out, folded.devices, folded.groups)
            stages = self._stage_lags(folded.kafka_ms, folded.batches) if folded.batches else {}
            await self.drain()  # the previous bulk is stored and its states saved
            self._inflight = asyncio.create_task(
                self._store(out, folded.lines, staged, written, stages, folded.receipts)
            )
            self._count_traffic(events, out, folded.lines)
            self.readings += out.readings
            self.duplicates += out.duplicates
            self.late += out.late
            if out.late:
                log.warning("late readings", extra={"count": out.late})

    async def _decode(self, events: Sequence[Any]) -> list[tuple[Any, list[TelemetryBatch]]]:
        """Each event with its batches; an undecodable record goes to the dead letters."""
        decoded = []
        for event in events:
            try:
                decoded.append((event, TELEMETRY_BUNDLE.validate_json(event.value)))
            except ValidationError as exc:
                await self._unprocessable(event, f"not a telemetry bundle: {exc.errors()[0]}")
        return decoded

    def pipeline_of(self, territory: str) -> Pipeline:
        """The pipeline of a territory: its registry and time zone when the platform serves
        it by registry, else the plain registry (or none) and the default time zone."""
        pipeline = self.pipelines.get(territory)
        if pipeline is None:
            served = self.registries.territories.get(territory) if self.registries else None
            if served is not None:
                policies = policies_from(self.settings, served.timezone)
                pipeline = Pipeline(territory, served.by_id(), policies)
            else:
                policies = policies_from(self.settings, self._timezone)
                pipeline = Pipeline(territory, self._plain, policies)
            self.pipelines[territory] = pipeline
        return pipeline

    def _encode(self, territory: str, part: BulkOutput) -> Lines:
        """A territory's rows as line protocol, tagged with its registry; its alerts carry
        the territory from here on (the notifier routes by it)."""
        part.alerts = [replace(a, territory=territory) for a in part.alerts]
        tags = self._tags.get(territory)
        if tags is None:
            tags = self._tags[territory] = TagIndex(territory, self.pipeline_of(territory).registry)
        return encode(part, tags)

    def _lane(self, event: Any) -> Lane:
        return lane_of(event, self.settings.territory)

    async def _recover(
        self, decoded: Sequence[tuple[Any, list[TelemetryBatch]]]
    ) -> dict[Lane, Recovered]:
        """For devices with no state (new ones, or all of them after the Kafka-compatible
        broker came back empty), what InfluxDB already holds of the windows the bulk touches
        (``streams.recovery``), per lane: territory, live stream or imported history."""
        stateless: dict[Lane, list[TelemetryBatch]] = {}
        for event, bundled in decoded:
            lane = self._lane(event)
            stateless.setdefault(lane, []).extend(
                b for b in bundled if self.table.data.get(lane.key(b.device_id).encode()) is None
            )
        return {lane: await self._read_stored(found, lane) for lane, found in stateless.items()}

    async def _read_stored(self, stateless: list[TelemetryBatch], lane: Lane) -> Recovered:
        if not stateless or not self.settings.streams.rebuild_from_store:
            return Recovered({}, {})
        policy = self.pipeline_of(lane.territory).policies.window
        spans = {
            "agg_1m": window_span(stateless, policy.window_ms, policy),
            "agg_hop_1h": window_span(stateless, policy.hop_window_ms, policy),
        }
        readings = reading_span(stateless)
        devices = sorted({b.device_id for b in stateless})
        stored, points, marks = await retrying(
            lambda: asyncio.to_thread(
                read_back,
                self.settings,
                devices,
                spans,
                readings,
                lane.history,
                policy.hop_window_ms,
                lane.territory,
                policy.window_ms,
            ),
            SERVER,
            lambda exc: isinstance(exc, OSError),
            self.settings.influx.url,
        )
        if stored or marks:
            log.warning(
                "state rebuilt from what InfluxDB holds",
                extra={
                    "devices": len(marks),
                    "windows": len(stored),
                    "points": len(points),
                    "territory": lane.territory,
                    "history": lane.history,
                },
            )
        return Recovered(seeded_states(stored, policy, marks), points)

    def _fold(
        self,
        decoded: Sequence[tuple[Any, list[TelemetryBatch]]],
        recovered: Mapping[Lane, Recovered],
    ) -> Folded:
        """Run each lane's pipeline over its batches, on states read afresh from the table
        (so a failed fold leaves nothing behind). Receipts go to the batches that asked for
        them (or to all, ``receipts_to_all``); imported history gets none: no agent waits for
        them. States and groups come back under their table keys."""
        now_ms = self.clock.now_ms()
        batches: list[TelemetryBatch] = []
        kafka_ms: list[float] = []
        receipts = Receipts()
        found: dict[Lane, Found] = {}
        for event, bundled in decoded:
            lane = self._lane(event)
            into = found.setdefault(lane, Found())
            stored = recovered.get(lane, Recovered({}, {})).stored
            vertical = event.message.topic.rsplit(".", 1)[1]
            receipted = not lane.history and (self._receipts_to_all or receipt_asked(event))
            for batch in bundled:
                into.verticals[batch.device_id] = vertical
                into.partitions[batch.device_id] = event.message.partition
                if receipted:
                    receipts.add(lane.territory, vertical, batch.device_id, batch.seq)
            fresh = without_stored(bundled, stored) if stored else bundled
            into.batches += fresh
            if not lane.history:
                batches += fresh
                kafka_ms += [event.message.timestamp * 1000] * len(fresh)
        out, lines = BulkOutput(), Lines()
        devices: dict[str, DeviceState] = {}
        groups: dict[str, GroupState] = {}
        for lane in sorted(found, key=lambda x: (x.history, x.territory)):
            got, pipeline = found[lane], self.pipeline_of(lane.territory)
            rec = recovered.get(lane, Recovered({}, {}))
            states = {d: self._state(lane.key(d), rec, d) for d in got.verticals}
            shared = {
                g: GroupState.from_bytes(self.table.data.get(lane.group_key(g).encode()))
                for g in ([] if lane.history else pipeline.groups_of(got.verticals))
            }
            part = pipeline.process(
                got.batches,
                got.verticals,
                got.partitions,
                states,
                shared,
                now_ms,
                history=lane.history,
            )
            lines += self._encode(lane.territory, part)
            out.merge(part, history=lane.history)
            out.devices |= {lane.key(d) for d in part.devices}
            out.groups |= {lane.group_key(g) for g in part.groups}
            devices |= {lane.key(d): st for d, st in states.items()}
            groups |= {lane.group_key(g): st for g, st in shared.items()}
        return Folded(out, lines, devices, groups, batches, kafka_ms, receipts)

    def _state(self, key: str, recovered: Recovered, device: str) -> DeviceState:
        raw = self.table.data.get(key.encode())
        if raw is None and device in recovered.states:
            return DeviceState.from_bytes(recovered.states[device].to_bytes())  # a copy
        return DeviceState.from_bytes(raw)

    async def _without_unprocessable(
        self,
        decoded: list[tuple[Any, list[TelemetryBatch]]],
        recovered: Mapping[Lane, Recovered],
    ) -> list[tuple[Any, list[TelemetryBatch]]]:
        """The events that fold on their own; the others go to the dead letters."""
        kept = []
        for item in decoded:
            try:
                self._fold([item], recovered)
            except Exception as exc:
                await self._unprocessable(item[0], f"{type(exc).__name__}: {exc}"[:500])
            else:
                kept.append(item)
        return kept

    async def _refused(self) -> None:
        """Lines InfluxDB acknowledged but would not keep (a partial write): counted, and kept
        on the dead-letter topic with InfluxDB's words, never only logged."""
        refused = self.sink.refused if self.sink is not None else None
        while refused:
            rp, detail, body = refused.pop(0)
            self.storage_refused += body.count(b"\n") + 1
            source = f"influxdb:{self.settings.influx.database}/{rp}"
            for part in _chunks(body, 256 * 1024):  # under Kafka's message size, base64 and all
                letter = DeadLetter.of(
                    source, self.clock.now_ms(), RejectReason.STORAGE_REFUSED, detail, part
                )
                if self.emit_dead_letter is not None:
                    await self.emit_dead_letter(source.encode(), letter.model_dump_json().encode())

    async def _unprocessable(self, event: Any, detail: str) -> None:
        """A record this worker cannot use: kept whole, with why, on the dead-letter topic."""
        message = event.message
        source = f"kafka:{message.topic}/{message.partition}@{message.offset}"
        log.error("unprocessable record", extra={"source": source, "detail": detail[:200]})
        letter = DeadLetter.of(
            source, int(message.timestamp * 1000), RejectReason.UNPROCESSABLE, detail, event.value
        )
        self.unprocessable += 1
        if self.emit_dead_letter is not None:
            await self.emit_dead_letter(source.encode(), letter.model_dump_json().encode())

    def _stage_lags(self, kafka_ms: list[float], batches: list[TelemetryBatch]) -> dict[str, float]:
        """Where a bulk's time went before this worker: device send to Kafka append
        (``to_kafka``: MQTT, the bridge), and Kafka append to this worker taking it
        (``in_kafka``: the worker's backlog), as p99 fields of the lag line."""
        now_ms = self.clock.now_ms()
        appended = np.array(kafka_ms, np.float64)
        sent_ms = np.fromiter((b.sent_at_ms for b in batches), np.float64, len(batches))
        to_kafka = np.percentile(appended - sent_ms, 99)
        in_kafka = np.percentile(now_ms - appended, 99)
        return {"to_kafka_p99_ms": float(to_kafka), "in_kafka_p99_ms": float(in_kafka)}

    def _self_metrics(self, out: BulkOutput, stages: Mapping[str, float] | None = None) -> None:
        """The lag from reading to storage, per bulk, measured once InfluxDB acknowledged it and
        written with the next write (traffic and CPU go in ``report_self``)."""
        if not out.reading_ts.size:
            return
        now_ms = self.clock.now_ms()
        lag = now_ms - out.reading_ts
        p50, p99 = np.percentile(lag, [50, 99]).tolist()
        fields = {"lag_p50_ms": p50, "lag_p99_ms": p99, "lag_max_ms": int(lag.max())}
        self._own_lines.append(
            lag_line(self.settings.territory, self.instance, {**fields, **(stages or {})}, now_ms)
        )
        self.traffic["lines_out"] += 1

    def _count_traffic(self, events: Sequence[Any], out: BulkOutput, lines: Lines) -> None:
        self.traffic["messages_in"] += len(events)
        for event in events:
            size = len(event.value)
            self.traffic["bytes_in"] += size
            vertical = event.message.topic.rsplit(".", 1)[1]
            self.by_vertical[(vertical, "messages_in")] += 1
            self.by_vertical[(vertical, "bytes_in")] += size
        self.traffic["readings"] += out.readings
        self.traffic["lines_out"] += len(lines)
        self.traffic["bytes_out"] += lines.bytes

    async def report_self(self) -> None:
        """What this worker moved and used since the last report, into the platform measurement."""
        report = PlatformReport.of(
            "streams",
            self.instance,
            self.settings.territory,
            self.usage.sample(),
            self.traffic,
            self.by_vertical,
            self.clock.now_ms(),
        )
        self.traffic.clear()
        self.by_vertical.clear()
        own, self._own_lines = self._own_lines, []
        await self.platform_report(report, own)

    async def platform_report(self, report: PlatformReport, more: Sequence[str] = ()) -> None:
        """Write a process's report on itself (this worker's, or an ingest bridge's)."""
        sink = await self.open()
        await sink.write([*platform_lines(report), *more], LONG_RP)

    async def dead_letters(self, events: Sequence[Any]) -> None:
        """Count rejected payloads by reason and vertical for the data-quality dashboard: one
        point per dead-letter record, unique by its Kafka position (none overwrites another,
        a redelivered one overwrites itself)."""
        letters = []
        for event in events:
            try:
                letter = DeadLetter.model_validate_json(event.value)
            except ValidationError as exc:
                log.error("unreadable dead letter", extra={"error": str(exc)[:200]})
                continue
            letters.append((letter, event.message.partition, event.message.offset))
        lines = dead_letter_lines(letters, self.settings.territory, self.settings.mqtt.prefix)
        if lines:
            sink = await self.open()
            await sink.write(lines, LONG_RP, precision="ns")
        self.rejected += len(letters)

    def idle_s(self) -> float:
        """Seconds since the last telemetry bulk came."""
        return self.clock.monotonic() - self.last_event

    async def on_idle(self, idle_after_s: float) -> None:
        """When no data came for idle_after_s: close open group windows. A group state this
        check already looked at (the same bytes in the table) is not read again, so a worker
        at rest does not decode its groups every tick; one a rebalance brought is."""
        if self.idle_s() < idle_after_s:
            return
        async with self._lock:
            by_lane: dict[Lane, dict[str, GroupState]] = {}
            looked: dict[bytes, bytes] = {}
            prefix = GROUP_PREFIX.encode()
            for k, v in list(self.table.data.items()):
                if not k.startswith(prefix):
                    continue
                looked[k] = v
                if self._idle_looked.get(k) is not v:
                    lane, group = parse_group_key(k.decode(), self.settings.territory)
                    by_lane.setdefault(lane, {})[group] = GroupState.from_bytes(v)
            self._idle_looked = looked
            out, lines = BulkOutput(), Lines()
            groups: dict[str, GroupState] = {}
            for lane, states in by_lane.items():
                part = self.pipeline_of(lane.territory).close_idle(states)
                lines += self._encode(lane.territory, part)
                out.merge(part)
                out.groups |= {lane.group_key(g) for g in part.groups}
                groups |= {lane.group_key(g): st for g, st in states.items()}
            if out.groups:
                await self.drain()
                staged = self._stage(out, {}, groups)
                looked |= {key: value for key, value, _partition in staged}
                await self._store(out, lines, staged)

    async def catch_up_rollups(self) -> None:
        """Roll up the device-hours whose live windows came after InfluxDB's continuous
        queries ran over them (noted in the device states, ``streams.catchup``), then clear in
        each state the hours rolled up, unless windows came to them again meanwhile. A failure
        leaves them due for the next run. InfluxDB 1.x only: 2.x has no continuous queries."""
        if self.settings.influx.backend != "v1":
            return
        async with self._lock:
            self._silences.refresh(self.table.data)
            noted = {
                key: (lane, device, DeviceState.from_bytes(self.table.data[key]).rollup_due)
                for key, lane, device in self._silences.rollups_due()
            }
        if not noted:
            return
        due: dict[tuple[str, int], list[str]] = {}
        for lane, device, hours in noted.values():
            for hour in hours:
                due.setdefault((lane.territory, int(hour)), []).append(device)
        try:
            caught = await asyncio.to_thread(roll_up_devices, self.settings.influx, due)
        except (OSError, StorageError) as exc:
            log.warning("rollup catch-up failed: due again next run", extra={"error": str(exc)})
            return
        async with self._lock:
            out, devices = BulkOutput(), {}
            for key, (_lane, _device, hours) in noted.items():
                raw = self.table.data.get(key)
                if raw is None:  # the device moved to another worker: its own catch-up
                    continue
                state = DeviceState.from_bytes(raw)
                for hour, at in hours.items():
                    if state.rollup_due.get(hour) == at:
                        del state.rollup_due[hour]
                devices[key.decode()] = state
                out.devices.add(key.decode())
            await self.drain()
            await self._store(out, Lines(), self._stage(out, devices, {}))
        log.info(
            "late device-hours rolled up",
            extra={"hourly": caught.hourly, "daily": caught.daily, "days": caught.days},
        )

    async def check_silences(self) -> None:
        """Raise or clear device_silent across the live devices this worker holds, territory
        by territory; only the states whose alert changes are read (``streams.silences``)."""
        async with self._lock:
            self._silences.refresh(self.table.data)
            changes = self._silences.changes(
                lambda lane: self.pipeline_of(lane.territory).policies.kpi.silent_after_ms
            )
            out, lines = BulkOutput(), Lines()
            devices: dict[str, DeviceState] = {}
            for lane, changed in changes.items():
                states = {c.device: DeviceState.from_bytes(self.table.data[c.key]) for c in changed}
                newest = changed[0].newest_ms
                part = self.pipeline_of(lane.territory).silent_devices(states, newest)
                lines += self._encode(lane.territory, part)
                out.merge(part)
                out.devices |= {lane.key(d) for d in part.devices}
                devices |= {lane.key(d): st for d, st in states.items()}
            if out.alerts:
                await self.drain()
                await self._store(out, lines, self._stage(out, devices, {}))

    def _stage(
        self, out: BulkOutput, devices: dict[str, DeviceState], groups: dict[str, GroupState]
    ) -> list[tuple[bytes, bytes, int]]:
        """The states this output changes (by table key), as changelog records; the in-memory
        table takes them now (the next bulk starts from them), the changelog once the results
        are stored."""
        staged = []
        for d in out.devices:
            state = devices[d]
            staged.append((d.encode(), state.to_bytes(), state.partition))
            self._silences.note(staged[-1][0], staged[-1][1], state)  # the silence check's view
        staged += [(g.encode(), groups[g].to_bytes(), groups[g].partition) for g in out.groups]
        for key, value, _partition in staged:
            self.table.data[key] = value
        return staged

    async def _store(
        self,
        out: BulkOutput,
        lines: Lines,
        staged: list[tuple[bytes, bytes, int]],
        written: Callable[[], Awaitable[None]] | None = None,
        stages: Mapping[str, float] | None = None,
        receipts: Receipts | None = None,
    ) -> None:
        """Write the results, then emit the alerts and save the states, then tell the devices
        what is stored (receipts), then ``written``."""
        sink = await self.open()
        # every retention policy at once; this worker's own lines ride along with the results
        own, self._own_lines = self._own_lines, []
        await asyncio.gather(
            sink.write(lines.raw, RAW_RP),
            sink.write(lines.minute, MINUTE_RP),
            sink.write(lines.long + own, LONG_RP),
        )
        await self._refused()
        self._self_metrics(out, stages)
        for alert in out.alerts:
            log.info(
                "alert",
                extra={
                    "kind": alert.kind,
                    "subject": alert.subject,
                    "state": alert.state,
                    "detail": alert.detail,
                },
            )
            if self.emit_alert is not None:
                await self.emit_alert(alert.subject.encode(), alert.to_json())
        self.alerts += len(out.alerts)
        for key, value, partition in staged:
            self.table.send_changelog(partition, key, value)
        if receipts is not None and self.receipts is not None:
            self.receipts.publish(receipts)
        if written is not None:
            await written()
