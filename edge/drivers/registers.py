"""Modbus register words <-> numbers (pure): 16-bit words, most significant byte first as
Modbus sends them, multi-word values in the word order the meter's table gives."""

from __future__ import annotations

import math
import struct
from typing import Literal

from vigie.errors import DataError

RegisterType = Literal["uint16", "int16", "uint32", "int32", "float32", "uint64", "int64"]
WordOrder = Literal["big", "little"]  # big: most significant word first

WORDS: dict[str, int] = {
    "uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2, "uint64": 4, "int64": 4,
}  # fmt: skip
_FORMAT = {
    "uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f",
    "uint64": ">Q", "int64": ">q",
}  # fmt: skip


class RegisterError(DataError):
    """Words that are not a value of the declared type (wrong count, NaN from the meter)."""


def decode(words: list[int], kind: RegisterType, order: WordOrder = "big") -> float:
    """The number held by ``words`` (each 0..65535)."""
    if len(words) != WORDS[kind]:
        raise RegisterError(f"{kind} takes {WORDS[kind]} registers, got {len(words)}")
    ordered = words if order == "big" else list(reversed(words))
    raw = b"".join(w.to_bytes(2, "big") for w in ordered)
    (value,) = struct.unpack(_FORMAT[kind], raw)
    if not math.isfinite(value):
        raise RegisterError(f"{kind} registers {words} hold {value}")
    return float(value)


def encode(value: float, kind: RegisterType, order: WordOrder = "big") -> list[int]:
    """The words a meter would hold for ``value`` (simulators and tests)."""
    number = value if kind == "float32" else int(value)
    raw = struct.pack(_FORMAT[kind], number)
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return words if order == "big" else list(reversed(words))
