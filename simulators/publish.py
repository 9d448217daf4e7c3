"""Publishing a simulation to a real MQTT broker, with progress, pacing and fault injection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from edge.publisher import BatchPublisher
from simulators.faults import Fault
from simulators.recording import Recorded
from simulators.simulation import Emitted, Pacer
from vigie.mqtt import MqttConnectError, connect, make_client
from vigie.sections import MqttSettings


@dataclass
class PublishReport:
    batches: int = 0
    readings: int = 0
    bytes_out: int = 0
    faults: int = 0
    wall_s: float = 0.0
    readings_by_vertical: dict[str, int] = field(default_factory=dict)
    sent: list[Emitted | Recorded] = field(default_factory=list)


class _Acks:
    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    def done(self) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def wait(self, n: int, timeout_s: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count >= n, timeout_s)


def _connected(
    settings: MqttSettings, territory: str, client_id: str, acks: _Acks
) -> tuple[mqtt.Client, BatchPublisher]:
    """A client connected to the broker (within 10 s) and its publisher, counting acks."""
    client = make_client(settings, client_id)
    publisher = BatchPublisher(client, territory, settings.prefix)

    def on_publish(*args: object) -> None:
        publisher.on_publish(*args)  # type: ignore[arg-type]  # paho's callback arguments, passed on
        acks.done()

    connected = threading.Event()
    client.on_publish = on_publish
    client.on_connect = lambda *_a: connected.set()
    connect(client, settings)
    client.loop_start()
    if not connected.wait(10):
        client.loop_stop()
        raise MqttConnectError(
            f"MQTT broker at {settings.host}:{settings.port} did not accept "
            "the connection within 10 s"
        )
    return client, publisher


def _send(item: Emitted | Recorded, publisher: BatchPublisher, report: PublishReport) -> None:
    """One batch (or recorded message) out, counted in the report."""
    report.batches += 1
    if isinstance(item, Recorded):
        publisher.publish_raw(item.topic, item.payload)
        return
    publisher.publish(item.vertical, item.batch)
    n = 0 if item.duplicate else len(item.batch.readings)
    report.readings += n
    report.readings_by_vertical[item.vertical] = (
        report.readings_by_vertical.get(item.vertical, 0) + n
    )


def publish(
    emitted: Iterable[Emitted | Recorded],
    settings: MqttSettings,
    territory: str,
    *,
    start_ms: int,
    speed: float | None = None,
    total: int | None = None,
    faults: list[Fault] | None = None,
    keep: bool = False,
    show_progress: bool = True,
    client_id: str = "vigie-simulator",
    on_batch: Callable[[], None] | None = None,
) -> PublishReport:
    """Publish every batch (QoS 1) and wait until the broker acknowledged all of them."""
    acks = _Acks()
    client, publisher = _connected(settings, territory, client_id, acks)
    report = PublishReport()
    pending_faults = list(faults or [])
    fault_every = max(1, (total or 100) // (len(pending_faults) + 1)) if pending_faults else 0
    pacer = Pacer(start_ms, speed)
    wall0 = time.monotonic()
    progress = Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        disable=not show_progress,
        transient=False,
    )
    with progress:
        task = progress.add_task("batches", total=total, rate="")
        for item in emitted:
            pacer.wait_for(item.sim_ms)
            _send(item, publisher, report)
            if keep:
                report.sent.append(item)
            if on_batch is not None:
                on_batch()
            if fault_every and pending_faults and report.batches % fault_every == 0:
                fault = pending_faults.pop(0)
                publisher.publish_raw(fault.topic, fault.payload)
                report.faults += 1
            if report.batches % 50 == 0:
                elapsed = max(1e-6, time.monotonic() - wall0)
                rate = (
                    f"{report.readings / elapsed:,.0f} readings/s"
                    if report.readings
                    else f"{report.batches / elapsed:,.0f} messages/s"
                )
                progress.update(task, completed=report.batches, rate=rate)
        for fault in pending_faults:
            publisher.publish_raw(fault.topic, fault.payload)
            report.faults += 1
        progress.update(task, completed=report.batches)
    sent = report.batches + report.faults
    if not acks.wait(sent, 60):
        raise MqttConnectError(f"broker acknowledged {acks.count} of {sent} messages in 60 s")
    client.disconnect()
    client.loop_stop()
    report.bytes_out = publisher.bytes_out
    report.wall_s = time.monotonic() - wall0
    return report
