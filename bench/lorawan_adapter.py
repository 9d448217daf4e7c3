"""LoRaWAN uplinks routed per second per core, against the bridge's own path.

The same routing the bridge runs before Kafka (``Router.route_all``): for the LoRaWAN
bridge, a ChirpStack v4 uplink event parsed, its LDDS75 frame decoded, mapped to metrics,
numbered from its frame counter and built into a Vigie batch that then takes the bridge's
own validation; for the baseline, a device's Vigie batch of the same four readings on its
own topic. One core, in-process, no I/O: the cost the adapter adds per uplink.

    python -m bench.lorawan_adapter [--devices 2000] [--uplinks 50000]
"""

from __future__ import annotations

import argparse
import base64
import json
import time

from bench.common import best_of, console, pin_to_one_core, report
from ingest.dedup import SequenceTracker
from ingest.lorawan.counters import FrameCounters
from ingest.lorawan.models import load_models
from ingest.lorawan.router import LorawanRouter, by_dev_eui
from ingest.routing import Inbound, Router
from ingest.stats import BridgeStats
from ingest.validation import ValidationPolicy
from vigie.contracts import Asset, AssetKind, District, KafkaTopics, Territory
from vigie.registries import Registries


def _territory(devices: int) -> Territory:
    bins = [
        Asset(
            id=f"bin-{i:05d}",
            kind=AssetKind.BIN,
            district="d00",
            lat=45.0,
            lon=5.0,
            capacity_l=660,
            lorawan={
                "dev_eui": f"a840410000{i:06x}",
                "model": "dragino-ldds75",
                "empty_distance_mm": 1200,
            },
        )
        for i in range(devices)
    ]
    return Territory(
        id="bench", name="Bench", lat=45, lon=5, districts=[District(id="d00", name="D")],
        assets=bins,
    )  # fmt: skip


def main(devices: int, uplinks: int) -> None:
    pin_to_one_core()
    territory = _territory(devices)
    registry = Registries.of(territory)
    now = int(time.time() * 1000) - 3_600_000
    events, batches = [], []
    for n in range(uplinks):
        i, f_cnt, at = n % devices, n // devices, now + n
        eui = f"a840410000{i:06x}"
        frame = bytes.fromhex("0B45") + (300 + n % 900).to_bytes(2, "big") + bytes(4)
        body = {
            "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at / 1000))
            + f".{at % 1000:03d}000000Z",
            "deviceInfo": {"applicationId": "bins", "devEui": eui, "deviceName": f"bin {i}"},
            "devAddr": "00189440",
            "fCnt": f_cnt,
            "fPort": 2,
            "data": base64.b64encode(frame).decode(),
            "rxInfo": [{"gatewayId": "0016c001ff10a235", "rssi": -97, "snr": 6.5}],
        }
        topic = f"application/bins/device/{eui}/event/up"
        events.append(Inbound(topic, json.dumps(body).encode(), n, 1, at))
        batch = {
            "v": 1,
            "device_id": f"bin-{i:05d}",
            "seq": f_cnt,
            "sent_at_ms": at,
            "readings": [
                {"ts_ms": at, "metric": m, "value": v}
                for m, v in (("battery_v", 2.885), ("fill_pct", 50.0), ("rssi_dbm", -97.0),
                             ("snr_db", 6.5))
            ],
        }  # fmt: skip
        vigie_topic = f"vigie/bench/waste/bin-{i:05d}/telemetry"
        batches.append(Inbound(vigie_topic, json.dumps(batch).encode(), n, 1, at))

    def base() -> dict:
        return {
            "topics": KafkaTopics(),
            "policy": ValidationPolicy(),
            "registry": registry,
            "tracker": SequenceTracker(),
            "stats": BridgeStats(),
        }

    def own_path() -> None:
        router = Router(**base())
        for item in batches:
            router.route_all(item)

    def adapter() -> None:
        router = LorawanRouter(
            **base(),
            network="chirpstack",
            models=load_models(),
            devices=by_dev_eui(registry),
            counters=FrameCounters(),
        )
        outs = [out for item in events for out in router.route_all(item)]
        assert len(outs) == len(events) and router.stats.accepted == len(events)

    own = best_of(3, own_path)
    lora = best_of(3, adapter)
    console.print(f"{uplinks:,} uplinks of {devices:,} LDDS75 bins, 4 readings each")
    report(
        "messages routed per second, one core",
        [
            ("bridge, Vigie batches", len(batches) / own, "validate, de-duplicate, route"),
            ("LoRaWAN bridge, uplinks", len(events) / lora, "parse, decode, map, number, + above"),
        ],
        baseline="bridge, Vigie batches",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--uplinks", type=int, default=50_000)
    args = parser.parse_args()
    main(args.devices, args.uplinks)
