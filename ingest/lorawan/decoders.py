"""Native decoders of device byte formats, from the makers' published payload tables (pure).

Each decoder reads one frame (its fPort and bytes) into named fields in SI-like units, and
lists the faults the frame itself reports (a probe that did not answer). A frame that does
not follow the table raises DecodeError. Field names are those of the model files
(``ingest/lorawan/models``), which map them to Vigie metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vigie.errors import DataError


class DecodeError(DataError):
    """Bytes that do not follow the model's published format."""


@dataclass(frozen=True, slots=True)
class Decoded:
    fields: dict[str, float]
    faults: list[str] = field(default_factory=list)
    note: str = ""  # what a frame without readings is (a start-up frame...)


def dragino_ldds75(port: int, data: bytes) -> Decoded:
    """Dragino LDDS75 ultrasonic distance sensor (user manual, "Uplink Payload", and the
    maker's decoders in dragino/dragino-end-node-decoder, LDDS75): fPort 2, 8 bytes:
    battery mV (2, the top two bits are flags: masked with 0x3FFF), distance mm (2),
    interrupt flag (1), DS18B20 temperature (2, signed, 0.1 degC), sensor flag (1).
    A distance of 0 means no ultrasonic probe answered: it is kept as read, and the model's
    range (280-7500 mm) tells it from a reading."""
    if port != 2:
        raise DecodeError(f"fPort {port}: the LDDS75 sends its readings on fPort 2")
    if len(data) != 8:
        raise DecodeError(f"{len(data)} bytes: an LDDS75 reading is 8 bytes")
    fields = {
        "battery_v": (int.from_bytes(data[0:2], "big") & 0x3FFF) / 1000,
        "interrupt": float(data[4]),
        "temperature_ds18b20_degc": int.from_bytes(data[5:7], "big", signed=True) / 10,
        "sensor_flag": float(data[7]),
    }
    fields["distance_mm"] = float(int.from_bytes(data[2:4], "big"))
    return Decoded(fields, [])


_BOSCH_PORTS = {4: "device information", 5: "device usage", 6: "debug"}


def bosch_tps110(port: int, data: bytes) -> Decoded:
    """Bosch Parking Lot Sensor TPS110 (the maker's codec in the LoRaWAN device repository,
    vendor/bosch, with its example frames): fPort 1 parking status (bit 0 of byte 0:
    occupied), fPort 2 heartbeat (the same bit, then the temperature as a signed byte),
    fPort 3 start-up (17 bytes, bit 0 of byte 16: occupied); fPorts 4-6 carry device
    information, usage and debug records, no reading."""
    if port in _BOSCH_PORTS:
        return Decoded({}, note=f"fPort {port} ({_BOSCH_PORTS[port]}) carries no reading")
    if port == 1 and len(data) >= 1:
        return Decoded({"occupied": float(data[0] & 1)})
    if port == 2 and len(data) >= 1:
        fields = {"occupied": float(data[0] & 1)}
        if len(data) >= 2:
            fields["temperature_degc"] = float(int.from_bytes(data[1:2], "big", signed=True))
        return Decoded(fields)
    if port == 3 and len(data) == 17:
        return Decoded({"occupied": float(data[16] & 1)}, note="start-up")
    raise DecodeError(f"fPort {port} with {len(data)} bytes is no TPS110 frame")


DECODERS: dict[str, Callable[[int, bytes], Decoded]] = {
    "dragino_ldds75": dragino_ldds75,
    "bosch_tps110": bosch_tps110,
}
