"""Modbus meters: register words, the makers' maps, the energy index across a wrap."""

from __future__ import annotations

import pytest

from edge.drivers.modbus_map import EnergyIndex, load_maps
from edge.drivers.registers import RegisterError, decode, encode


def test_words_decode_as_the_tables_store_them():
    # 230.5 V as an IEEE 754 float, high word first: 0x4366 0x8000
    assert decode([0x4366, 0x8000], "float32") == 230.5
    assert decode([0x8000, 0x4366], "float32", "little") == 230.5
    # 12,345,678,901 Wh as INT64, four words, most significant first
    assert decode(encode(12_345_678_901, "int64"), "int64") == 12_345_678_901
    assert encode(12_345_678_901, "int64") == [0, 2, 0xDFDC, 0x1C35]
    assert decode([0xFFFF], "int16") == -1 and decode([0xFFFF], "uint16") == 65_535
    with pytest.raises(RegisterError, match="takes 2"):
        decode([1], "float32")
    with pytest.raises(RegisterError, match="nan"):
        decode([0x7FC0, 0x0000], "float32")  # a meter answering NaN is no reading


def test_the_three_maps_cite_the_makers_tables_and_read_power_energy_voltage():
    maps = load_maps()
    assert set(maps) >= {"eastron-sdm630", "eastron-sdm120", "schneider-iem3155"}
    sdm630, iem = maps["eastron-sdm630"], maps["schneider-iem3155"]
    assert (sdm630.voltage.address, sdm630.active_power.address) == (0x0000, 0x0034)
    assert (sdm630.active_energy.address, sdm630.active_energy.scale) == (0x0048, 1000)
    # Schneider numbers registers from 1: register 3204 is protocol address 3203
    assert (iem.active_energy.address, iem.active_energy.type) == (3203, "int64")
    assert (iem.active_power.scale, iem.active_power.function) == (1000, "holding")
    for m in maps.values():
        assert m.sources and all(len(s) > 60 for s in m.sources)


def test_the_energy_index_continues_across_a_wrap_and_a_meter_reset():
    index = EnergyIndex(rollover_wh=1_000_000)
    assert [index.update(v) for v in (999_000, 999_990)] == [999_000, 999_990]
    assert index.update(10) == 1_000_010 and index.wraps == 1
    assert index.update(50) == 1_000_050
    # far from the wrap value, a register going down is a reset or a new meter
    assert index.update(5) == 1_000_055 and index.resets == 1
    plain = EnergyIndex()
    plain.update(500)
    assert plain.update(20) == 520, "no wrap value: the index never goes back"
