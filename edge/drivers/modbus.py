"""Energy meters on Modbus (RTU over RS-485, or TCP) with pymodbus (``vigie[edge-modbus]``).

Each sample reads the map's three quantities: the cabinet's active power, its energy index
(continuous across a wrap or a meter reset, kept in the agent's state folder) and its
voltage, with ``meter_up`` = 1. A meter that does not answer, or answers with an exception,
is a health reading, not a crash: ``meter_up`` = 0 and ``read_errors`` = the failed reads,
sample after sample until it answers again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from edge.drivers.modbus_map import EnergyIndex, Register, RegisterMap, load_maps
from edge.drivers.registers import WORDS, decode
from vigie.contracts import Asset
from vigie.errors import MissingDependencyError, UsageError

log = logging.getLogger("vigie.edge.modbus")


class ModbusMeter:
    """One meter: ``map`` and ``unit`` from the asset's registry entry or the options;
    ``host`` (TCP, ``port`` 502) or ``serial`` (a device such as /dev/ttyUSB0, with
    ``baudrate``, ``parity``, ``stopbits``)."""

    wants_state_dir = True

    def __init__(
        self,
        register_map: RegisterMap,
        unit: int,
        client: Any,
        state_file: Path | None = None,
        power_metric: str = "cabinet_power_w",
        rollover_wh: float | None = None,
    ) -> None:
        self.map, self.unit, self.client = register_map, unit, client
        self.power_metric = power_metric
        self.state_file = state_file
        self.index = EnergyIndex(rollover_wh or register_map.rollover_wh)
        if state_file is not None and state_file.exists():
            saved = json.loads(state_file.read_text())
            self.index.offset_wh = float(saved["offset_wh"])
            self.index.last_raw_wh = saved["last_raw_wh"]
        self.errors = 0

    @classmethod
    def from_config(
        cls, asset: Asset, options: dict[str, Any], state_dir: Path | None = None
    ) -> ModbusMeter:
        identity = asset.modbus
        name = options.get("map") or (identity.map if identity else None)
        unit = options.get("unit") or (identity.unit if identity else None)
        maps = load_maps()
        if name not in maps or unit is None:
            raise UsageError(
                f"modbus sensor of {asset.id}: give map (one of {', '.join(maps)}) and unit, "
                "in the sensor's options or the asset's registry entry"
            )
        client = _client(options)
        state = state_dir / f"modbus-{unit}-energy.json" if state_dir is not None else None
        return cls(
            maps[name],
            int(unit),
            client,
            state,
            options.get("power_metric", "cabinet_power_w"),
            options.get("rollover_wh"),
        )

    def _read(self, register: Register) -> float:
        count = WORDS[register.type]
        call = (
            self.client.read_input_registers
            if register.function == "input"
            else self.client.read_holding_registers
        )
        reply = call(register.address, count=count, device_id=self.unit)
        if reply.isError():
            raise OSError(f"meter {self.unit} answered {reply}")
        return decode(list(reply.registers), register.type, self.map.word_order) * register.scale

    def read(self, ts_ms: int, dt_s: float) -> list[tuple[str, float]]:
        try:
            if not self.client.connected:
                self.client.connect()
            power = self._read(self.map.active_power)
            energy = self._read(self.map.active_energy)
            voltage = self._read(self.map.voltage)
        except Exception as exc:  # the bus, the meter's answer, pymodbus's own exceptions
            if not isinstance(exc, OSError | ValueError) and not _from_pymodbus(exc):
                raise
            self.errors += 1
            log.warning("modbus read failed", extra={"unit": self.unit, "error": str(exc)})
            self.client.close()
            return [("meter_up", 0.0), ("read_errors", float(self.errors))]
        index = self.index.update(energy)
        self._save()
        out = [
            (self.power_metric, round(max(0.0, power), 3)),
            ("energy_index_wh", round(index, 3)),
            ("voltage_v", round(voltage, 2)),
            ("meter_up", 1.0),
        ]
        if self.errors:
            out.append(("read_errors", float(self.errors)))
            self.errors = 0
        return out

    def _save(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"offset_wh": self.index.offset_wh, "last_raw_wh": self.index.last_raw_wh})
        )
        tmp.replace(self.state_file)


def _from_pymodbus(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "pymodbus"


def _client(options: dict[str, Any]) -> Any:
    try:
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient
    except ImportError as exc:
        raise MissingDependencyError(
            "pymodbus is not installed: pip install 'vigie[edge-modbus]'"
        ) from exc
    timeout = float(options.get("timeout_s", 1.0))
    retries = int(options.get("retries", 1))
    if "host" in options:
        return ModbusTcpClient(
            options["host"], port=int(options.get("port", 502)), timeout=timeout, retries=retries
        )
    if "serial" in options:
        return ModbusSerialClient(
            options["serial"],
            baudrate=int(options.get("baudrate", 9600)),
            parity=str(options.get("parity", "N")),
            stopbits=int(options.get("stopbits", 1)),
            bytesize=8,
            timeout=timeout,
            retries=retries,
        )
    raise UsageError("modbus sensor: give host (Modbus TCP) or serial (RTU), in its options")
