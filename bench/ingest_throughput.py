"""Ingest throughput: validated readings per second on one core, against a per-reading baseline.

Candidate: the bridge's own path (ingest.bridge.produce: validation, de-duplication, routing,
produce to Kafka and wait for its acknowledgements) on batches of 50 readings.
Baseline, in the same run: one pydantic model validation per reading and one Kafka record per
reading. Both produce to a real Tansu broker started for the run; this process is pinned to one
core (the broker runs beside it). Validation alone is measured too.

    python -m bench.ingest_throughput [--batches 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

from bench.common import best_of, console, pin_to_one_core, report
from ingest.bridge import make_router
from ingest.handoff import produce
from ingest.routing import Inbound
from ingest.validation import validate
from shell.stack import Stack
from simulators.territory import generate
from vigie.kafka import ensure_topics
from vigie.settings import Settings


class OneReading(BaseModel):
    """The baseline's message: one reading, validated on its own."""

    device_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    ts_ms: int = Field(ge=0)
    metric: str
    value: float = Field(allow_inf_nan=False)


def payloads(n_batches: int, per_batch: int, now_ms: int) -> list[Inbound]:
    territory = generate(2000, seed=1, territory_id="bench")
    lamps = [a.id for a in territory.assets if a.kind == "lamp"]
    items = []
    for i in range(n_batches):
        device = lamps[i % len(lamps)]
        readings = [
            {"ts_ms": now_ms - 60_000 * k, "metric": "power_w", "value": 20.0 + k}
            for k in range(per_batch)
        ]
        body = json.dumps(
            {
                "v": 1,
                "device_id": device,
                "seq": i // len(lamps),
                "sent_at_ms": now_ms,
                "readings": readings,
            }
        ).encode()
        items.append(Inbound(f"vigie/bench/lighting/{device}/telemetry", body, i, 1, now_ms))
    return items


def per_reading_messages(items: list[Inbound], limit: int) -> list[bytes]:
    out = []
    for item in items:
        batch = json.loads(item.payload)
        for r in batch["readings"]:
            out.append(json.dumps({"device_id": batch["device_id"], **r}).encode())
            if len(out) >= limit:
                return out
    return out


async def main(n_batches: int, per_batch: int) -> None:
    from aiokafka import AIOKafkaProducer

    pin_to_one_core()
    home = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    stack = Stack(home)
    stack.up()
    try:
        settings = Settings(**stack.settings())
        await ensure_topics(settings.kafka)
        registry_file = home / "territory.json"
        generate(2000, seed=1, territory_id="bench").save(registry_file)
        settings = Settings(**{**stack.settings(), "registry": registry_file})
        now = int(time.time() * 1000)
        items = payloads(n_batches, per_batch, now)
        readings = n_batches * per_batch
        singles = per_reading_messages(items, min(readings, 40_000))
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap,
            acks="all",
            linger_ms=5,
            max_batch_size=1 << 20,
        )
        await producer.start()

        async def candidate() -> float:
            router = make_router(settings, "bench")
            t0 = time.perf_counter()
            for i in range(0, len(items), 2000):
                await produce(router, items[i : i + 2000], producer)
            assert router.stats.accepted == len(items), router.stats.as_fields()
            return time.perf_counter() - t0

        async def baseline() -> float:
            t0 = time.perf_counter()
            for i in range(0, len(singles), 2000):
                pending = []
                for raw in singles[i : i + 2000]:
                    reading = OneReading.model_validate_json(raw)
                    pending.append(
                        await producer.send(
                            "vigie.telemetry.lighting", value=raw, key=reading.device_id.encode()
                        )
                    )
                await asyncio.gather(*pending)
            return time.perf_counter() - t0

        await candidate()  # warm-up: connections, metadata
        cand = min([await candidate() for _ in range(3)])
        base = min([await baseline() for _ in range(3)])
        await producer.stop()
    finally:
        stack.down()

    router = make_router(settings, "bench-v")
    pol = router.policy
    reg = router.registry
    v_cand = best_of(3, lambda: [validate(i.topic, i.payload, now, pol, reg) for i in items])
    v_base = best_of(3, lambda: [OneReading.model_validate_json(r) for r in singles])
    console.print(
        f"batches of {per_batch} readings; {readings:,} readings (candidate), "
        f"{len(singles):,} (baseline)"
    )
    report(
        "Ingest: validated readings through to Kafka acknowledgement, one core",
        [
            ("per-reading model + record", len(singles) / base, "baseline"),
            ("bridge path, batched", readings / cand, "validate, dedup, route, produce, ack"),
        ],
        baseline="per-reading model + record",
    )
    report(
        "Validation alone, one core",
        [
            ("per-reading model", len(singles) / v_base, "baseline"),
            ("batch validation", readings / v_cand, "ingest.validation.validate"),
        ],
        baseline="per-reading model",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4000)
    parser.add_argument("--per-batch", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.batches, args.per_batch))
