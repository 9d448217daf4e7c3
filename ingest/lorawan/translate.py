"""One uplink -> the readings of a Vigie batch, and what could not be kept (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ingest.lorawan.decoders import DECODERS, DecodeError
from ingest.lorawan.models import DeviceModel
from ingest.lorawan.uplinks import Uplink, UplinkError
from vigie.contracts import METRICS, Asset, RejectReason

_WITH_UNIT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[^\d\s]*\s*$")  # "2821 mm", "3.4 V"


@dataclass
class Translation:
    readings: list[tuple[str, float]]
    # fields neither mapped nor ignored, and faults the frame reports: a dead letter
    unmapped: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    note: str = ""
    # the probe gave nothing valid: why (its readings say sensor_ok = 0, no dead letter)
    probe: list[str] = field(default_factory=list)


def fields_of(uplink: Uplink, model: DeviceModel) -> tuple[dict[str, float], list[str], str]:
    """The decoded fields, the faults reported, and what a frame without readings is.
    The model's native decoder reads the bytes when there are some; else the server's
    decoded object is read through the model's ``server_names``."""
    if model.decoder is not None and uplink.data is not None:
        try:
            decoded = DECODERS[model.decoder](uplink.f_port, uplink.data)
        except DecodeError as exc:
            raise UplinkError(
                RejectReason.UNDECODABLE, f"{model.name} frame {uplink.data.hex()}: {exc}"
            ) from None
        return decoded.fields, decoded.faults, decoded.note
    if uplink.decoded is None:
        raise UplinkError(
            RejectReason.UNDECODABLE,
            f"no payload bytes and no decoded object for {model.name}: forward the payload "
            "from the network server, or configure the model's codec there",
        )
    out: dict[str, float] = {}
    faults = []
    for key, value in uplink.decoded.items():
        name = model.server_names.get(key, key)
        if name == "":
            continue
        number = _number(value)
        if number is None:
            faults.append(f"{key}={value!r} is not a number")
        else:
            out[name] = number
    return out, faults, ""


def translate(uplink: Uplink, asset: Asset, model: DeviceModel) -> Translation:
    """Map the uplink's fields to metrics of the asset's vertical; add the radio link."""
    fields, faults, note = fields_of(uplink, model)
    readings: list[tuple[str, float]] = []
    unmapped = []
    probe = [
        f"{name}: no value (the probe did not answer)"
        for name, how in model.fields.items()
        if how.valid is not None and name not in fields
    ]
    for name, value in fields.items():
        how = model.fields.get(name)
        if how is None:
            if name not in model.ignore:
                unmapped.append(name)
            continue
        spec = METRICS[how.metric]
        if spec.vertical not in (None, asset.vertical):
            unmapped.append(f"{name} (model maps it to {how.metric}, a {spec.vertical} metric)")
            continue
        if how.valid is not None and not how.valid[0] <= value <= how.valid[1]:
            probe.append(
                f"{name} {value:g} outside {how.valid[0]:g}-{how.valid[1]:g}, the maker's range"
            )
            continue
        number = value
        if how.transform == "fill_from_distance":
            fill = _fill(value, asset)
            if isinstance(fill, str):
                faults.append(fill)
                continue
            number = fill
        readings.append((how.metric, round(number * how.scale, 6)))
    if any(how.valid is not None for how in model.fields.values()) and (fields or probe):
        readings.append(("sensor_ok", 0.0 if probe else 1.0))
    if readings:
        for metric, radio in (("rssi_dbm", uplink.rssi_dbm), ("snr_db", uplink.snr_db)):
            if radio is not None and METRICS[metric].minimum <= radio <= METRICS[metric].maximum:
                readings.append((metric, radio))
    return Translation(readings, unmapped, faults, note, probe)


def _fill(distance_mm: float, asset: Asset) -> float | str:
    lora = asset.lorawan
    if lora is None or lora.empty_distance_mm is None:
        return f"{asset.id}: set lorawan.empty_distance_mm in the registry to read a fill level"
    empty, full = lora.empty_distance_mm, lora.full_distance_mm or 0.0
    pct = 100 * (empty - distance_mm) / (empty - full)
    return min(100.0, max(0.0, pct))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and (match := _WITH_UNIT.match(value)):
        return float(match.group(1))
    return None
