"""Vigie's own processes (ingest bridges, stream workers) started beside the local stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from vigie.mqtt import platform_status_topic, wait_for_status
from vigie.settings import Settings
from vigie.stack.services import StackError


@dataclass
class Components:
    """Starts ``vigie ingest run`` / ``vigie streams run`` as child processes with given env."""

    home: Path
    settings: Settings
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        logdir = self.home / "logs"
        logdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "VIGIE_HOME": str(self.home), **self.env}
        with (logdir / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "vigie", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_ingest(self, instance: str = "0", timeout_s: float = 60.0) -> None:
        """Start a bridge and wait until its shared subscription is in place."""
        name = f"ingest-{instance}"
        proc = self._start(name, ["ingest", "run", "--instance", instance])
        topic = platform_status_topic(self.settings.mqtt.prefix, name)
        if not wait_for_status(self.settings.mqtt, topic, timeout_s=timeout_s):
            self.stop(name, signal.SIGKILL)
            raise StackError(
                f"{name} did not come online in {timeout_s:.0f} s "
                f"(exit code {proc.poll()}); its log:\n{self.log(name)[-2000:]}"
            )

    def start_streams(self, instance: str = "0") -> None:
        self._start(f"streams-{instance}", ["streams", "run"])

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
        for name in list(self.procs):
            self.stop(name)

    def check_alive(self) -> None:
        """Raise with the log tail of any component that died."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise StackError(
                    f"{name} exited with code {proc.returncode}; its log:\n{self.log(name)[-2000:]}"
                )
