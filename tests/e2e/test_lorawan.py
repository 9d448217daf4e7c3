"""End to end: LoRaWAN network servers' uplinks through the real Mosquitto, the LoRaWAN
bridge, Tansu, the worker and InfluxDB.

Uplinks are built from ChirpStack v4's and The Things Stack v3's published JSON formats and
carry the makers' frames. On the way: an uplink delivered twice, a frame-counter gap, a
rejoin, the bridge killed with ``kill -9`` mid-stream, and each bad case (an unknown DevEUI,
a frame that is no frame of its model, a field the model does not map, a probe that did
not answer).
"""

from __future__ import annotations

import base64
import json
import signal
import time

import pytest

from shell.stack.components import Components
from tests.helpers import read_topic_letters
from vigie import influxql
from vigie.contracts import Asset, AssetKind, District, RejectReason, Territory
from vigie.mqtt import connect, make_client

pytestmark = pytest.mark.e2e
BIN_EUI, SPACE_EUI, STRANGER = "a84041000181c6b1", "70b3d5e75e000001", "0000000000000bad"
T = Territory(
    id="lora",
    name="Lora",
    lat=45.0,
    lon=5.0,
    districts=[District(id="centre", name="Centre")],
    assets=[
        Asset(
            id="bin-1",
            kind=AssetKind.BIN,
            district="centre",
            lat=45.0,
            lon=5.0,
            capacity_l=660,
            lorawan={
                "dev_eui": BIN_EUI.upper(),
                "model": "dragino-ldds75",
                "empty_distance_mm": 1200,
                "full_distance_mm": 200,
            },
        ),
        Asset(
            id="space-1",
            kind=AssetKind.PARKING_SENSOR,
            district="centre",
            lat=45.0,
            lon=5.0,
            lorawan={"dev_eui": SPACE_EUI, "model": "bosch-tps110"},
        ),
    ],
)


def _ldds75(distance_mm: int) -> bytes:
    return bytes.fromhex("0B45") + distance_mm.to_bytes(2, "big") + bytes.fromhex("00010501")


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _chirpstack(eui: str, f_cnt: int, at: int, data: bytes | None, obj=None, event="up"):  # type: ignore[no-untyped-def]
    body: dict = {"time": _iso(at), "deviceInfo": {"applicationId": "app", "devEui": eui}}
    if event == "up":
        body |= {"fCnt": f_cnt, "fPort": 2, "rxInfo": [{"rssi": -101, "snr": 4.5}]}
        if data is not None:
            body["data"] = base64.b64encode(data).decode()
        if obj is not None:
            body["object"] = obj
    return f"application/app/device/{eui}/event/{event}", json.dumps(body).encode()


def _tts(eui: str, f_cnt: int, at: int, data: bytes, port: int = 1):  # type: ignore[no-untyped-def]
    up = {
        "f_port": port,
        "frm_payload": base64.b64encode(data).decode(),
        "rx_metadata": [{"gateway_ids": {"gateway_id": "gw"}, "rssi": -88, "snr": 7.0}],
        "received_at": _iso(at),
    }
    if f_cnt:  # proto3 JSON leaves a zero counter out
        up["f_cnt"] = f_cnt
    body = {
        "end_device_ids": {"device_id": "space-1", "dev_eui": eui.upper()},
        "uplink_message": up,
    }
    return "v3/parking@ttn/devices/space-1/up", json.dumps(body).encode()


def _publish(settings, messages) -> None:  # type: ignore[no-untyped-def]
    client = make_client(settings.mqtt, f"network-server-{time.monotonic_ns()}")
    connect(client, settings.mqtt)
    client.loop_start()
    for topic, payload in messages:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def _raw(settings, device: str, metric: str) -> list[tuple[int, float]]:
    rows = influxql.query(
        settings.influx,
        f'SELECT "value" FROM "raw"."telemetry" WHERE device=\'{device}\' AND metric=\'{metric}\'',
    )
    return [(int(r["time"]), r["value"]) for r in rows]


def _wait(check, timeout_s: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.5)
    return check()


def _chain(settings, isolated, tmp_path, network: str) -> Components:
    registry = tmp_path / "territory.json"
    T.save(registry)
    env = {**isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": T.id}
    comps = Components(tmp_path, settings, env)
    comps.start_streams()
    comps.start_lorawan(network)
    return comps


def test_chirpstack_uplinks_arrive_once_in_order_with_gaps_counted_and_bad_ones_kept(
    stack, settings, isolated, tmp_path
):
    t0 = int(time.time() * 1000) - 600_000
    distances = {10: 1200, 11: 950, 14: 700, 15: 450}  # fCnt -> mm (12 and 13 never came)
    first = [_chirpstack(BIN_EUI, f, t0 + f * 1000, _ldds75(d)) for f, d in distances.items()]
    first.insert(2, first[1])  # the server delivers fCnt 11 twice
    bad = [
        _chirpstack(STRANGER, 1, t0, _ldds75(500)),  # a DevEUI no registry has
        _chirpstack(BIN_EUI, 16, t0 + 16_000, bytes(5)),  # 5 bytes: no LDDS75 frame
        _chirpstack(BIN_EUI, 17, t0 + 17_000, bytes.fromhex("0B45000000000501")),  # no probe
        # decoded by the server's codec: a field the model does not know, beside a distance
        # under the maker's 280 mm (invalid: no fill level, the probe's fault instead)
        _chirpstack(BIN_EUI, 18, t0 + 18_000, None, {"Distance": "200 mm", "Humidity": 41}),
    ]
    # after a kill -9 of the bridge: the device rejoined, its counter starts again
    after = [
        _chirpstack(BIN_EUI, 0, t0 + 30_000, None, event="join"),
        _chirpstack(BIN_EUI, 0, t0 + 31_000, _ldds75(1200)),
        _chirpstack(BIN_EUI, 1, t0 + 32_000, _ldds75(1100)),
    ]
    comps = _chain(settings, isolated, tmp_path, "chirpstack")
    try:
        _publish(settings, first + bad)
        assert _wait(lambda: len(_raw(settings, "bin-1", "battery_v")) >= 5)
        comps.stop("ingest-lorawan-0", signal.SIGKILL)
        _publish(settings, after)  # queued by the broker for the bridge's kept session
        comps.start_lorawan("chirpstack")
        assert _wait(lambda: len(_raw(settings, "bin-1", "battery_v")) >= 7)
        assert _wait(lambda: _fleet_missing(settings) is not None)
        comps.check_alive()
    finally:
        comps.stop_all()
    fill = _raw(settings, "bin-1", "fill_pct")
    assert fill == [
        (t0 + 10_000, 0.0),
        (t0 + 11_000, 25.0),
        (t0 + 14_000, 50.0),
        (t0 + 15_000, 75.0),
        (t0 + 31_000, 0.0),
        (t0 + 32_000, 10.0),
    ], "each uplink once, fCnt 11 counted once"
    # battery from every uplink with bytes, the probe-less one included; not from the object
    assert [v for _, v in _raw(settings, "bin-1", "battery_v")] == [2.885] * 7
    assert {v for _, v in _raw(settings, "bin-1", "rssi_dbm")} == {-101.0}
    counted = influxql.scalar(
        settings.influx,
        'SELECT sum("count") FROM "minute"."agg_1m" WHERE device=\'bin-1\' AND metric=\'fill_pct\'',
    )
    assert counted == 6, "the windows count each uplink once"
    # the probe: silent on 17, out of its range on 18: one sensor_fault, cleared by 31
    assert [v for _, v in _raw(settings, "bin-1", "sensor_ok")] == [1, 1, 1, 1, 0, 0, 1, 1]
    faults = influxql.query(
        settings.influx,
        'SELECT "open" FROM "long"."alerts" WHERE "kind" = \'sensor_fault\' AND device=\'bin-1\'',
    )
    assert [(r["time"], r["open"]) for r in faults] == [(t0 + 18_000, 1), (t0 + 31_000, 0)]
    # 12 and 13 never came; 16's bytes were no frame (a dead letter, no reading): the rejoin
    # continued the numbers, so nothing else is missing
    assert _fleet_missing(settings) == 3, "fCnt 12, 13 and 16 missing on the fleet view"
    letters = read_topic_letters(settings)
    assert sorted((lt.reason, lt.mqtt_topic.split("/")[3]) for lt in letters) == sorted(
        [
            (RejectReason.UNKNOWN_DEVICE, STRANGER),
            (RejectReason.UNDECODABLE, BIN_EUI),
            (RejectReason.UNMAPPED_FIELD, BIN_EUI),
        ]
    )
    details = " | ".join(lt.detail for lt in letters)
    assert "5 bytes" in details and "Humidity" in details
    assert "probe" not in details, "a failing probe is a device state, not a dead letter"
    assert all(json.loads(lt.payload)["deviceInfo"] for lt in letters), "the event as it came"


def _fleet_missing(settings) -> int | None:  # type: ignore[no-untyped-def]
    rows = influxql.query(
        settings.influx,
        'SELECT last("missing_seq") AS m FROM "minute"."fleet" WHERE device=\'bin-1\'',
    )
    return int(rows[0]["m"]) if rows else None


def test_the_things_stack_uplinks_become_parking_occupancy(stack, settings, isolated, tmp_path):
    t0 = int(time.time() * 1000) - 300_000
    frames = [
        (0, bytes([1]), 1),
        (1, bytes([0]), 1),
        (2, bytes([1, 12]), 2),
        (2, bytes([1, 12]), 2),
    ]
    messages = [
        _tts(SPACE_EUI, f, t0 + i * 1000, data, port) for i, (f, data, port) in enumerate(frames)
    ]
    messages[3] = _tts(SPACE_EUI, 2, t0 + 2000, bytes([1, 12]), 2)  # the same uplink again
    messages.append(_tts(SPACE_EUI, 3, t0 + 5000, bytes(8), port=4))  # device information
    comps = _chain(settings, isolated, tmp_path, "tts")
    try:
        _publish(settings, messages)
        assert _wait(lambda: len(_raw(settings, "space-1", "occupancy_pct")) >= 3)
        comps.check_alive()
    finally:
        comps.stop_all()
    assert _raw(settings, "space-1", "occupancy_pct") == [
        (t0, 100.0),
        (t0 + 1000, 0.0),
        (t0 + 2000, 100.0),
    ]
    assert {v for _, v in _raw(settings, "space-1", "snr_db")} == {7.0}
    letters = read_topic_letters(settings)
    assert [(lt.reason, "device information" in lt.detail) for lt in letters] == [
        (RejectReason.UNMAPPED_FIELD, True)
    ]
