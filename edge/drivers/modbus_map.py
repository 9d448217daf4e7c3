"""Register maps of energy meters, as data files (``modbus_maps/*.toml``) citing the makers'
tables; and the energy index made continuous across a counter's wrap or reset (pure)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from edge.drivers.registers import RegisterType, WordOrder
from vigie.datafiles import load_folder

FOLDER = Path(__file__).with_name("modbus_maps")


class Register(BaseModel):
    """Where one quantity is, how it is stored, and its factor to Vigie's unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: Annotated[int, Field(ge=0, le=65_535)]  # protocol address (register number - 1)
    type: RegisterType
    scale: float = 1.0  # kW -> W: 1000
    function: Literal["input", "holding"] = "input"  # function code 4 or 3


class RegisterMap(BaseModel):
    """A meter model: active power (W), active energy imported (Wh), voltage (V)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    maker: str
    model: str
    sources: Annotated[list[str], Field(min_length=1)]
    word_order: WordOrder = "big"
    serial: str = ""  # the factory serial settings, for the wiring notes
    active_power: Register
    active_energy: Register
    voltage: Register
    # where the energy register wraps, in Wh, when the maker states it
    rollover_wh: Annotated[float, Field(gt=0)] | None = None


@functools.cache
def load_maps(folder: Path = FOLDER) -> dict[str, RegisterMap]:
    """Every register map of the folder, by name (the file's stem)."""
    return load_folder(folder, RegisterMap)


@dataclass
class EnergyIndex:
    """The meter's energy register as a continuous index.

    When the register goes down, it wrapped (the previous value was within the last tenth of
    ``rollover_wh``: the wrap value is added) or the meter was reset or replaced (the index
    continues from the last value). Either way the index Vigie receives never goes back,
    and the cabinet's energy balance sees no negative hour."""

    rollover_wh: float | None = None
    offset_wh: float = 0.0
    last_raw_wh: float | None = None
    wraps: int = 0
    resets: int = 0

    def update(self, raw_wh: float) -> float:
        last = self.last_raw_wh
        if last is not None and raw_wh < last:
            wrap = self.rollover_wh
            if wrap is not None and last >= 0.9 * wrap:
                self.offset_wh += wrap
                self.wraps += 1
            else:
                self.offset_wh += last
                self.resets += 1
        self.last_raw_wh = raw_wh
        return self.offset_wh + raw_wh
