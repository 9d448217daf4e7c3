"""LoRaWAN sources: the servers' event formats, the makers' frames, counters, translation."""

from __future__ import annotations

import base64
import json

import pytest

from ingest.lorawan.counters import FrameCounters
from ingest.lorawan.decoders import DecodeError, bosch_tps110, dragino_ldds75
from ingest.lorawan.models import load_models
from ingest.lorawan.translate import translate
from ingest.lorawan.uplinks import Join, Uplink, UplinkError, parse
from vigie.contracts import Asset, RejectReason

BIN = Asset.model_validate(
    {
        "id": "bin-1",
        "kind": "bin",
        "district": "d00",
        "lat": 45.0,
        "lon": 5.0,
        "capacity_l": 660,
        "lorawan": {
            "dev_eui": "A84041000181C6B1",
            "model": "dragino-ldds75",
            "empty_distance_mm": 1200,
            "full_distance_mm": 200,
        },
    }
)
SPACE = Asset.model_validate(
    {
        "id": "space-1",
        "kind": "parking_sensor",
        "district": "d00",
        "lat": 45.0,
        "lon": 5.0,
        "lorawan": {"dev_eui": "70b3d5e75e000001", "model": "bosch-tps110"},
    }
)


def _up(data: bytes | None, port: int = 2, decoded: dict | None = None) -> Uplink:
    return Uplink("a84041000181c6b1", 7, port, 1_700_000_000_000, data, decoded, -97.0, 6.5)


# -- the makers' frames --------------------------------------------------------------------


def test_ldds75_reads_the_makers_field_examples():
    """The manual's examples: 0x0B45 = 2885 mV, 0x0B05 = 2821 mm, 0x0105 = 26.1 degC,
    0xFF3F = -19.3 degC; the top two battery bits are flags (masked)."""
    frame = dragino_ldds75(2, bytes.fromhex("0B450B0500010501"))
    assert frame.fields == {
        "battery_v": 2.885,
        "distance_mm": 2821.0,
        "interrupt": 0.0,
        "temperature_ds18b20_degc": 26.1,
        "sensor_flag": 1.0,
    }
    assert dragino_ldds75(2, bytes.fromhex("CB450B0500FF3F01")).fields[
        "temperature_ds18b20_degc"
    ] == pytest.approx(-19.3)
    assert dragino_ldds75(2, bytes.fromhex("CB450B0500FF3F01")).fields["battery_v"] == 2.885
    no_probe = dragino_ldds75(2, bytes.fromhex("0B45000000000000"))
    assert no_probe.fields["distance_mm"] == 0.0 and no_probe.faults == [], "kept as read"
    with pytest.raises(DecodeError, match="8 bytes"):
        dragino_ldds75(2, bytes.fromhex("0B450B050001"))
    with pytest.raises(DecodeError, match="fPort 2"):
        dragino_ldds75(5, bytes(8))


def test_tps110_reads_the_makers_example_frames():
    """The codec's examples in the LoRaWAN Device Repository (vendor/bosch)."""
    assert bosch_tps110(1, bytes([1])).fields == {"occupied": 1.0}
    assert bosch_tps110(2, bytes([1, 255])).fields == {"occupied": 1.0, "temperature_degc": -1.0}
    startup = bytes([0x24, 3, 0, 0, 0x75, 3, 0, 0, 0, 0, 0, 0, 0, 29, 2, 3, 1])
    assert bosch_tps110(3, startup).fields == {"occupied": 1.0}
    assert bosch_tps110(1, bytes([0])).fields == {"occupied": 0.0}
    assert bosch_tps110(6, bytes(10)).fields == {}
    with pytest.raises(DecodeError):
        bosch_tps110(3, bytes(5))


# -- the servers' formats ------------------------------------------------------------------


def _chirpstack(f_cnt: int | None = 7, data: bytes = b"\x0b\x45\x0b\x05\x00\x01\x05\x01") -> bytes:
    body = {
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": "2023-12-01T10:00:00.123456789Z",
        "deviceInfo": {"tenantId": "t", "applicationId": "a", "devEui": "a84041000181c6b1"},
        "devAddr": "00189440",
        "fPort": 2,
        "data": base64.b64encode(data).decode(),
        "rxInfo": [{"gatewayId": "g1", "rssi": -110, "snr": -3.5}, {"rssi": -97, "snr": 6.5}],
    }
    if f_cnt is not None:
        body["fCnt"] = f_cnt
    return json.dumps(body).encode()


def test_chirpstack_v4_uplinks_and_joins():
    topic = "application/a/device/a84041000181c6b1/event/up"
    up = parse("chirpstack", topic, _chirpstack(), 0)
    assert isinstance(up, Uplink)
    assert (up.dev_eui, up.f_cnt, up.f_port, up.rssi_dbm, up.snr_db) == (
        "a84041000181c6b1",
        7,
        2,
        -97.0,
        6.5,
    )
    assert up.time_ms == 1_701_424_800_123  # nanoseconds read down to the millisecond
    assert parse("chirpstack", topic, _chirpstack(f_cnt=None), 0).f_cnt == 0  # proto3 default
    join = parse(
        "chirpstack",
        topic.replace("/up", "/join"),
        json.dumps(
            {"time": "2023-12-01T10:00:00Z", "deviceInfo": {"devEui": "A84041000181C6B1"}}
        ).encode(),
        0,
    )
    assert join == Join("a84041000181c6b1", 1_701_424_800_000)
    assert parse("chirpstack", topic.replace("/up", "/status"), b"{}", 0) is None
    for payload, reason in (
        (b"{not json", RejectReason.MALFORMED_JSON),
        (b"[]", RejectReason.SCHEMA),
        (json.dumps({"deviceInfo": {"devEui": "zz"}}).encode(), RejectReason.SCHEMA),
        (_chirpstack(f_cnt=-1), RejectReason.SCHEMA),
    ):
        with pytest.raises(UplinkError) as err:
            parse("chirpstack", topic, payload, 0)
        assert err.value.reason is reason
    with pytest.raises(UplinkError, match="no chirpstack event topic"):
        parse("chirpstack", "application/a/up", b"{}", 0)


def test_the_things_stack_v3_uplinks():
    body = {
        "end_device_ids": {"device_id": "space-1", "dev_eui": "70B3D5E75E000001"},
        "received_at": "2023-12-01T10:00:01.5Z",
        "uplink_message": {
            "f_port": 1,
            "frm_payload": base64.b64encode(b"\x01").decode(),
            "decoded_payload": {"occupied": True, "type": "parking status"},
            "rx_metadata": [{"gateway_ids": {"gateway_id": "g"}, "rssi": -80, "snr": 9.25}],
            "received_at": "2023-12-01T10:00:01.250000001Z",
        },
    }
    up = parse("tts", "v3/app@ttn/devices/space-1/up", json.dumps(body).encode(), 0)
    assert isinstance(up, Uplink)
    assert (up.f_cnt, up.f_port, up.data, up.time_ms) == (0, 1, b"\x01", 1_701_424_801_250)
    del body["end_device_ids"]["dev_eui"]
    with pytest.raises(UplinkError) as err:
        parse("tts", "v3/app@ttn/devices/space-1/up", json.dumps(body).encode(), 0)
    assert err.value.reason is RejectReason.UNKNOWN_DEVICE


# -- counters --------------------------------------------------------------------------------


def test_frame_counters_become_increasing_sequence_numbers():
    c = FrameCounters()
    t = 1_000_000
    assert [c.seq("d", f, t + f) for f in (0, 1, 2)] == [0, 1, 2]
    assert c.seq("d", 2, t + 50) == 2, "a retransmission keeps its number"
    assert c.seq("d", 5, t + 5) == 5, "a gap stays a gap"
    assert c.seq("d", 0, t + 100) == 6, "a counter reset continues the numbers"
    c.join("d", t + 200)
    c.join("d", t + 200)  # the same join seen again changes nothing more
    assert c.seq("d", 3, t + 201) == 6 + 1 + 3, "after a join the session starts afresh"
    assert c.seq("d", 3, t + 201) == 10, "the same uplink again: the same number"


def test_a_16_bit_counter_wraps_without_a_gap_and_replays_keep_their_numbers():
    c = FrameCounters()
    assert c.seq("d", 65_534, 1) == 65_534
    assert c.seq("d", 65_535, 2) == 65_535
    assert c.seq("d", 0, 3) == 65_536 and c.wraps == 1
    assert c.seq("d", 1, 4) == 65_537
    assert c.seq("d", 65_535, 2) == 65_535, "an uplink delivered again after the wrap"
    assert c.seq("d", 1, 4) == 65_537


def test_a_redelivered_uplink_from_before_a_reset_keeps_its_number():
    """A bridge killed after it saved the states but before MQTT acknowledged gets the
    old session's uplink again: it must not become a new reading."""
    c = FrameCounters()
    assert c.seq("d", 100, 10) == 100
    assert c.seq("d", 0, 20) == 101
    assert c.seq("d", 100, 10) == 100
    assert c.seq("d", 1, 21) == 102


def test_counter_states_survive_a_round_trip_to_disk(tmp_path):
    from ingest.lorawan.state import CounterStore

    store = CounterStore(tmp_path / "c.db")
    c = store.load()
    c.seq("d", 100, 10)
    c.seq("d", 0, 20)
    store.save(c.take())
    again = CounterStore(tmp_path / "c.db").load()
    assert again.seq("d", 100, 10) == 100 and again.seq("d", 1, 21) == 102


# -- translation -----------------------------------------------------------------------------


def test_a_bin_uplink_becomes_its_fill_level_battery_and_radio():
    model = load_models()["dragino-ldds75"]
    done = translate(_up(bytes.fromhex("0B4502BC00000001")), BIN, model)  # 700 mm
    assert done.readings == [
        ("battery_v", 2.885),
        ("fill_pct", 50.0),
        ("sensor_ok", 1.0),
        ("rssi_dbm", -97.0),
        ("snr_db", 6.5),
    ]
    assert done.unmapped == [] and done.faults == [] and done.probe == []


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("0B4500C700000001", "distance_mm 199 outside 280-7500"),  # the real capture's 199 mm
        ("0B45000000000000", "distance_mm 0 outside 280-7500"),  # no probe answered
        ("0B451F4100000001", "distance_mm 8001 outside 280-7500"),
    ],
)
def test_a_distance_outside_the_makers_range_is_never_a_fill_level(frame, why):
    """The LDDS75's manual gives 280-7500 mm and calls other values invalid: 199 mm used to
    be stored as a full bin, 0 (no probe) as one dead letter per uplink. Now neither: the
    uplink keeps its battery and radio, and says sensor_ok = 0."""
    done = translate(_up(bytes.fromhex(frame)), BIN, load_models()["dragino-ldds75"])
    assert [m for m, _ in done.readings] == ["battery_v", "sensor_ok", "rssi_dbm", "snr_db"]
    assert ("sensor_ok", 0.0) in done.readings
    assert done.faults == [] and why in done.probe[0]


def test_a_server_decoded_object_without_the_probe_value_says_it_did_not_answer():
    done = translate(_up(None, decoded={"Bat": 3.1}), BIN, load_models()["dragino-ldds75"])
    assert ("sensor_ok", 0.0) in done.readings and "did not answer" in done.probe[0]


def test_a_server_decoded_object_is_read_with_the_makers_names_and_units():
    model = load_models()["dragino-ldds75"]
    obj = {
        "Node_type": "LDDS75",
        "Bat": "2.885 V",
        "Distance": "950 mm",
        "Interrupt_flag": 0,
        "TempC_DS18B20": "26.10 °C",
        "Sensor_flag": 1,
        "Humidity": 40,
    }
    done = translate(_up(None, decoded=obj), BIN, model)
    assert ("fill_pct", 25.0) in done.readings and ("battery_v", 2.885) in done.readings
    assert done.unmapped == ["Humidity"]


def test_what_cannot_be_kept_is_said():
    model = load_models()["bosch-tps110"]
    space = translate(_up(bytes([1, 20]), port=2), SPACE, model)
    assert space.readings[0] == ("occupancy_pct", 100.0)
    assert space.unmapped == [], "the sensor's temperature is known and left alone"
    info = translate(_up(bytes(4), port=4), SPACE, model)
    assert info.readings == [] and "device information" in info.note
    with pytest.raises(UplinkError) as err:
        translate(_up(None), SPACE, model)
    assert err.value.reason is RejectReason.UNDECODABLE
    unset = BIN.model_copy(
        update={"lorawan": BIN.lorawan.model_copy(update={"empty_distance_mm": None})}
    )
    done = translate(_up(bytes.fromhex("0B4502BC00000001")), unset, load_models()["dragino-ldds75"])
    assert [m for m, _ in done.readings] == ["battery_v", "sensor_ok", "rssi_dbm", "snr_db"]
    assert "empty_distance_mm" in done.faults[0]


def test_every_model_cites_its_sources_and_maps_to_known_metrics():
    models = load_models()
    assert set(models) >= {"dragino-ldds75", "bosch-tps110"}
    for model in models.values():
        assert model.sources and all(len(s) > 40 for s in model.sources)
        assert model.decoder is not None


def test_the_registry_refuses_one_dev_eui_on_two_assets():
    from pydantic import ValidationError

    from vigie.contracts import District, Territory

    twin = SPACE.model_copy(update={"id": "space-2", "lorawan": SPACE.lorawan})
    with pytest.raises(ValidationError, match="DevEUI"):
        Territory(
            id="t", name="T", lat=0, lon=0, districts=[District(id="d00", name="D")],
            assets=[SPACE, twin],
        )  # fmt: skip
    with pytest.raises(ValidationError, match="full_distance_mm"):
        Asset.model_validate(
            {**BIN.model_dump(), "lorawan": {**BIN.lorawan.model_dump(), "full_distance_mm": 1300}}
        )
