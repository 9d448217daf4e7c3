"""Vigie's own processes (ingest bridges, stream workers, notifiers) started beside the local
stack."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from vigie.contracts.topics import platform_status
from vigie.errors import StackError
from vigie.exits import Exit
from vigie.mqtt import wait_for_status
from vigie.settings import Settings

log = logging.getLogger("shell.stack")


@dataclass
class Components:
    """Starts ``vigie ingest run`` / ``streams run`` / ``alerts run`` as child processes with given
    env.

    Like a service manager, it starts again a component that exits asking for it (code 75: a
    worker whose Kafka-compatible broker came back empty); any other exit is left for
    ``check_alive`` to report.
    """

    home: Path
    settings: Settings
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: int = 0
    _args: dict[str, list[str]] = field(default_factory=dict)
    _closing: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    def _watch(self) -> None:
        while not self._closing.wait(0.2):
            for name, proc in list(self.procs.items()):
                if proc.poll() == Exit.RESTART and self.procs.get(name) is proc:
                    log.warning("component asked to be started again", extra={"component": name})
                    self.restarts += 1
                    self._start(name, self._args[name])

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        logdir = self.home / "logs"
        logdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "VIGIE_HOME": str(self.home), **self.env}
        with (logdir / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "shell", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        self.procs[name] = proc
        self._args[name] = args
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True)
            self._watcher.start()
        return proc

    def log(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_ingest(self, instance: str = "0", timeout_s: float = 60.0) -> None:
        """Start a bridge and wait until its shared subscription is in place."""
        self._start_bridge(
            f"ingest-{instance}", ["ingest", "run", "--instance", instance], timeout_s
        )

    def start_lorawan(
        self, network: str, instance: str = "lorawan-0", timeout_s: float = 60.0
    ) -> None:
        """Start a bridge for a LoRaWAN network server's topics and wait until it is online;
        its frame-counter states live in this home, so a restart finds them."""
        args = ["ingest", "lorawan", "--network", network, "--instance", instance]
        self._start_bridge(f"ingest-{instance}", args, timeout_s)

    def _start_bridge(self, name: str, args: list[str], timeout_s: float) -> None:
        proc = self._start(name, args)
        topic = platform_status(self.settings.mqtt.prefix, name)
        if not wait_for_status(self.settings.mqtt, topic, timeout_s=timeout_s):
            self.stop(name, signal.SIGKILL)
            raise StackError(
                f"{name} did not come online in {timeout_s:.0f} s "
                f"(exit code {proc.poll()}); its log:\n{self.log(name)[-2000:]}"
            )

    def start_streams(self, instance: str = "0") -> None:
        self._start(f"streams-{instance}", ["streams", "run"])

    def start_notifier(self, instance: str = "0") -> None:
        self._start(f"notify-{instance}", ["alerts", "run"])

    def stop(self, name: str, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        self._closing.set()
        for name in list(self.procs):
            self.stop(name)

    def check_alive(self) -> None:
        """Raise with the log tail of any component that died."""
        for name, proc in self.procs.items():
            if proc.poll() not in (None, Exit.RESTART):  # 75: being started again
                raise StackError(
                    f"{name} exited with code {proc.returncode}; its log:\n{self.log(name)[-2000:]}"
                )
