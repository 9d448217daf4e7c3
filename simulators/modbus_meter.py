"""A Modbus TCP energy meter serving one of the edge's register maps with chosen values,
on pymodbus's own server: what the edge agent's Modbus driver is tested and demonstrated
against when no meter is on the bench."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from edge.drivers.modbus_map import Register, RegisterMap
from edge.drivers.registers import encode


class MeterServer:
    """``start()`` serves on 127.0.0.1:``port`` in a thread; ``set(...)`` changes the values
    the registers hold; ``stop()`` closes the port (a meter that stops answering)."""

    SIZE = 4_096  # registers 0..4095 of each kind: every map's addresses fit

    def __init__(self, register_map: RegisterMap, unit: int, port: int) -> None:
        self.map, self.unit, self.port = register_map, unit, port
        self.words: dict[int, dict[int, int]] = {3: {}, 4: {}}  # function -> address -> word
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._ready = threading.Event()

    def set(self, power_w: float, energy_wh: float, voltage_v: float) -> None:
        """Hold these values (in Vigie's units; the map's scales are undone)."""
        for register, value in (
            (self.map.active_power, power_w),
            (self.map.active_energy, energy_wh),
            (self.map.voltage, voltage_v),
        ):
            self._write(register, value / register.scale)

    def _write(self, register: Register, value: float) -> None:
        words = encode(value, register.type, self.map.word_order)
        table = self.words[3 if register.function == "holding" else 4]
        for i, word in enumerate(words):
            table[register.address + i] = word

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: object,
    ) -> None:
        """Pymodbus asks before it answers: put the current values in its registers."""
        for at, word in self.words.get(function_code, {}).items():
            registers[at - start_address] = word

    def start(self) -> MeterServer:
        from pymodbus.server import ModbusTcpServer
        from pymodbus.simulator import DataType, SimData, SimDevice

        def block(kind: DataType) -> list[Any]:
            return [SimData(0, count=self.SIZE, values=0, datatype=kind)]

        bits, words = DataType.BITS, DataType.REGISTERS
        device = SimDevice(
            self.unit,
            simdata=(block(bits), block(bits), block(words), block(words)),
            action=self._action,
        )

        async def serve() -> None:
            self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
            self._ready.set()
            await self._server.serve_forever()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            with contextlib.suppress(asyncio.CancelledError):
                self._loop.run_until_complete(serve())

        self._ready.clear()
        self._thread = threading.Thread(target=run, name=f"modbus-{self.port}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
            fut.result(10)
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._loop = self._thread = None
