"""Bytes per reading on the wire, for each payload encoding, on typical batches.

The batches are one hour of a simulated territory as its devices send them (the edge agent's
batching: up to 50 readings or 5 minutes). Each is encoded as JSON (what the platform speaks
today), MessagePack and CBOR, from the same envelope; "wire" adds the MQTT v5 PUBLISH
framing of its QoS 1 message (fixed header, topic, packet id, properties). JSON is the
baseline of the ratios; encode + decode time per reading is measured in the same run.

    python -m bench.encodings [--population 20000]
"""

from __future__ import annotations

import argparse
import json
import time

import cbor2
import msgpack
from rich.table import Table

from bench.common import console, machine, pin_to_one_core
from simulators.simulation import Simulation, SimulationPlan
from simulators.territory import generate
from vigie.contracts import Channel, DeviceTopic


def _mqtt_overhead(topic: str, payload: int) -> int:
    """MQTT v5 PUBLISH at QoS 1: fixed header (1 + length bytes), topic (2 + n), packet id
    (2), properties length (1)."""
    body = 2 + len(topic.encode()) + 2 + 1 + payload
    length_bytes = 1 if body < 128 else 2 if body < 16_384 else 3
    return 1 + length_bytes + body - payload


ENCODERS = {
    "JSON (today)": (lambda d: json.dumps(d, separators=(",", ":")).encode(), json.loads),
    "MessagePack": (msgpack.packb, msgpack.unpackb),
    "CBOR": (cbor2.dumps, cbor2.loads),
}


def main(population: int) -> None:
    pin_to_one_core()
    territory = generate(population, seed=3, territory_id="bench")
    start = int(time.time() * 1000) - 2 * 3_600_000
    emitted = list(Simulation(territory, SimulationPlan(start, 3600)))
    envelopes = [e.batch.model_dump(mode="json") for e in emitted]
    topics = [
        str(DeviceTopic(territory.id, e.vertical, e.batch.device_id, Channel.TELEMETRY))
        for e in emitted
    ]
    readings = sum(len(e.batch.readings) for e in emitted)
    console.print(
        f"{len(emitted):,} batches, {readings:,} readings "
        f"({readings / len(emitted):.1f} per batch) from {len(territory.assets):,} devices"
    )
    rows = []
    for name, (encode, decode) in ENCODERS.items():
        t0 = time.perf_counter()
        payloads = [encode(d) for d in envelopes]
        for p in payloads:
            decode(p)
        seconds = time.perf_counter() - t0
        payload = sum(map(len, payloads))
        wire = payload + sum(
            _mqtt_overhead(t, len(p)) for t, p in zip(topics, payloads, strict=True)
        )
        rows.append((name, payload / readings, wire / readings, seconds / readings * 1e9))
    base_wire = rows[0][2]
    table = Table(
        "encoding",
        "payload B/reading",
        "wire B/reading",
        "wire vs JSON",
        "encode+decode ns/reading",
        title="Bytes per reading (typical batches)",
    )
    for name, payload, wire, ns in rows:
        table.add_row(
            name, f"{payload:.1f}", f"{wire:.1f}", f"{wire / base_wire - 1:+.0%}", f"{ns:.0f}"
        )
    console.print(table)
    console.print(f"machine: {machine()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--population", type=int, default=20_000)
    main(parser.parse_args().population)
