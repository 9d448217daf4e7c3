"""The worker's periodic checks, cheap at rest. The silence check raises device_silent for
devices far behind their territory's newest data and clears it when they are back, the same as
reading every state would give, while only the states the worker did not save itself are read,
once. The idle close writes open group windows once, then leaves the groups alone."""

from __future__ import annotations

import asyncio
import random

from streams.lanes import Lane
from streams.pipeline import Pipeline
from streams.processor import TelemetryProcessor
from streams.silences import SilenceIndex
from streams.windowing import DeviceState
from vigie.contracts.alerts import AlertKind, AlertState
from vigie.settings import Settings

MIN = 60_000
AFTER = 15 * MIN  # the default silent_after_s


def _state(watermark_ms: int, silent: bool = False) -> DeviceState:
    return DeviceState(watermark_ms=watermark_ms, alerts=["device_silent"] if silent else [])


def test_the_index_finds_what_reading_every_state_finds():
    rng = random.Random(4)
    now = 10_000 * MIN
    table = {
        f"lamp-{i}".encode(): _state(now - rng.randrange(30) * MIN, rng.random() < 0.3).to_bytes()
        for i in range(500)
    }
    full = Pipeline("t", None).silent_devices(
        {k.decode(): DeviceState.from_bytes(v) for k, v in table.items()}
    )
    index = SilenceIndex("t")
    index.refresh(table)
    changes = index.changes(lambda _lane: AFTER)
    assert {c.device for c in changes[Lane("t")]} == {a.subject for a in full.alerts}
    assert 50 < len(full.alerts) < 450, "both raised and cleared alerts are checked"


class _Table:
    """The worker's faust table, as a dict (no Kafka here: only the check runs)."""

    def __init__(self, data: dict[bytes, bytes]) -> None:
        self.data = data


def test_the_worker_raises_and_clears_and_reads_only_what_it_did_not_save():
    now = 10_000 * MIN
    table = _Table(
        {
            b"lamp-1": _state(now).to_bytes(),
            b"lamp-2": _state(now - 20 * MIN).to_bytes(),  # silent
            b"h:lamp-3": _state(now - 60 * MIN).to_bytes(),  # imported history: never
            b"g:cab-1": b"{}",  # a group's state: not a device
        }
    )
    settings = Settings(territory="t", registry=None, streams={"receipts": False})
    processor = TelemetryProcessor(settings, table, None)
    alerts: list[tuple[str, str]] = []

    async def store(out, lines, staged, *_a, **_k) -> None:  # type: ignore[no-untyped-def]
        alerts.extend((a.subject, a.state) for a in out.alerts)

    processor._store = store  # type: ignore[method-assign]  # InfluxDB is another test's

    async def checks() -> list[int]:
        decoded = []
        await processor.check_silences()
        decoded.append(processor._silences.decoded)
        await processor.check_silences()  # nothing changed: nothing read, nothing raised
        decoded.append(processor._silences.decoded)
        state = DeviceState.from_bytes(table.data[b"lamp-2"])
        state.watermark_ms = now  # lamp-2 is back, saved by the worker
        processor._stage(_devices_out("lamp-2"), {"lamp-2": state}, {})
        await processor.check_silences()
        decoded.append(processor._silences.decoded)
        return decoded

    decoded = asyncio.run(checks())
    assert alerts == [("lamp-2", AlertState.RAISED), ("lamp-2", AlertState.CLEARED)]
    assert decoded == [2, 2, 2], "the two live states read once, lamp-2's noted when saved"
    assert AlertKind.DEVICE_SILENT not in DeviceState.from_bytes(table.data[b"lamp-2"]).alerts


def _devices_out(device: str):  # type: ignore[no-untyped-def]
    from streams.outputs import BulkOutput

    out = BulkOutput()
    out.devices.add(device)
    return out


def test_a_worker_at_rest_closes_its_groups_once_and_does_not_read_them_again(monkeypatch):
    """Idle, the worker writes its open group windows as they stand; the next ticks find the
    same group states and read none of them (they used to be decoded every 2 s)."""
    import json
    from types import SimpleNamespace

    from simulators.simulation import Simulation, SimulationPlan
    from simulators.territory import generate
    from streams import processor as worker
    from streams.groups import GroupState

    territory = generate(300, seed=5, territory_id="t")
    start = 1_800_000_000_000
    emitted = list(Simulation(territory, SimulationPlan(start, 1200, period_s=300)))
    settings = Settings(territory="t", registry=None, streams={"receipts": False})
    processor = TelemetryProcessor(settings, _Table({}), territory.by_id())
    stored: list[int] = []

    async def store(out, lines, staged, *_a, **_k) -> None:  # type: ignore[no-untyped-def]
        stored.append(len(out.groups))

    processor._store = store  # type: ignore[method-assign]  # InfluxDB is another test's
    reads = []
    decode = GroupState.from_bytes
    monkeypatch.setattr(worker.GroupState, "from_bytes", lambda raw: reads.append(1) or decode(raw))

    async def run() -> list[int]:
        events = []
        for v in sorted({str(e.vertical) for e in emitted}):
            batches = [e.batch.model_dump(mode="json") for e in emitted if str(e.vertical) == v]
            message = SimpleNamespace(
                topic=f"vigie.telemetry.{v}", partition=0, offset=0, timestamp=start / 1000,
                headers=[("territory", b"t")],
            )  # fmt: skip
            events.append(SimpleNamespace(value=json.dumps(batches).encode(), message=message))
        decoded = await processor._decode(events)
        folded = processor._fold(decoded, {})
        processor._stage(folded.out, folded.devices, folded.groups)
        processor.last_event -= 3600  # an hour without data
        counts = []
        for _ in range(3):
            reads.clear()
            await processor.on_idle(20.0)
            counts.append(len(reads))
        return counts

    counts = asyncio.run(run())
    groups = sum(1 for k in processor.table.data if k.startswith(b"g:"))
    assert groups > 0 and stored and stored[0] > 0, "open group windows written once idle"
    assert counts == [groups, 0, 0], "each group read once, then left alone"


def test_the_catch_up_rolls_up_the_noted_hours_and_clears_only_those_not_noted_again(
    monkeypatch,
):
    """The roll-up's I/O is replaced by a recorder (the integration and e2e tests run it on a
    real InfluxDB): what is under test is which device-hours go out and which are cleared."""
    import streams.processor as processor_module
    from streams.catchup import Caught

    h = 3_600_000
    table = _Table(
        {
            b"ctr-1": DeviceState(rollup_due={str(5 * h): 1, str(6 * h): 1}).to_bytes(),
            b"ctr-2": DeviceState(rollup_due={str(5 * h): 2}).to_bytes(),
            b"ctr-3": DeviceState().to_bytes(),  # nothing late
            b"h:ctr-4": DeviceState(rollup_due={str(h): 3}).to_bytes(),  # history: the import's
        }
    )
    settings = Settings(territory="t", registry=None, streams={"receipts": False})
    processor = TelemetryProcessor(settings, table, None)
    sent: list[dict] = []
    stored: list[set[str]] = []

    def roll_up(_influx, due):  # type: ignore[no-untyped-def]
        sent.append({k: sorted(v) for k, v in due.items()})
        # meanwhile a bulk notes ctr-1's hour 6 again (more of its queue came)
        state = DeviceState.from_bytes(table.data[b"ctr-1"])
        state.rollup_due[str(6 * h)] = 9
        table.data[b"ctr-1"] = state.to_bytes()
        return Caught()

    async def store(out, lines, staged, *_a, **_k) -> None:  # type: ignore[no-untyped-def]
        stored.append(set(out.devices))

    monkeypatch.setattr(processor_module, "roll_up_devices", roll_up)
    processor._store = store  # type: ignore[method-assign]  # InfluxDB is another test's
    asyncio.run(processor.catch_up_rollups())
    assert sent == [{("t", 5 * h): ["ctr-1", "ctr-2"], ("t", 6 * h): ["ctr-1"]}]
    assert stored == [{"ctr-1", "ctr-2"}]
    left = {k: DeviceState.from_bytes(v).rollup_due for k, v in table.data.items()}
    assert left[b"ctr-1"] == {str(6 * h): 9}, "noted again meanwhile: due for the next run"
    assert left[b"ctr-2"] == {} and left[b"h:ctr-4"] == {str(h): 3}
    sent.clear()
    asyncio.run(processor.catch_up_rollups())
    assert sent == [{("t", 6 * h): ["ctr-1"]}]
