"""Start, probe and stop the local stack (Mosquitto, Tansu, InfluxDB 1.x) as child processes.

Each server gets a generated config, a free port and a folder under ``$VIGIE_HOME/stack``. The
launcher records what it started in ``stack.json`` and stops exactly those processes, checking
each pid's command line first so that a recycled pid is never signalled. ``stack.json`` is the
one truth several processes share (the command line, the tests, the supervisor that restarts a
crashed server): every change to it is made under a file lock, from what it holds at that moment.
A server stopped on purpose loses its record, so the supervisor leaves it stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shell.stack.processes import VigieProcess
from shell.stack.services import (
    InfluxDB1,
    Mosquitto,
    SecureMosquitto,
    Service,
    StackError,
    Tansu,
    free_port,
)


class ExitedAtStart(StackError):
    """A server or process exited before it answered; ``code`` is its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StartPolicy:
    """How long to wait for a server to answer, and how long to wait for it to stop."""

    ready_timeout_s: float = 30.0
    stop_timeout_s: float = 10.0
    poll_s: float = 0.05


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.decode(errors="replace").rstrip("\0").split("\0") if raw else None


def _alive(pid: int, cmd: list[str]) -> bool:
    """True when pid runs and is still the process we started (not a recycled pid)."""
    current = _cmdline(pid)
    if current is None or current != cmd:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Stack:
    """The local servers under one home folder."""

    home: Path
    policy: StartPolicy = field(default_factory=StartPolicy)
    services: dict[str, Service] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    supervisor: dict[str, Any] = field(default_factory=dict)
    # per service: restarts, last exit code and when, and why it was left stopped (exit 2)
    exits: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.home / "stack"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    # -- lifecycle ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive access to the stack's state across processes, with it freshly read."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "stack.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._load()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def up(self, mosquitto: Service | None = None, supervise: bool = True) -> dict[str, Any]:
        """Start every server not already running and wait until each answers; ``mosquitto``
        replaces the plain local broker (the demo passes the TLS broker with its ACL). With
        ``supervise``, a supervisor process restarts any server that exits unasked."""
        self._load()
        if not self.services:
            self.services = {
                "mosquitto": mosquitto or Mosquitto(port=free_port()),
                "kafka": Tansu(port=free_port()),
                "influxdb": InfluxDB1(
                    port=free_port(),
                    rpc_port=free_port(),
                    secrets_dir=str(self.root / "influxdb" / "secrets"),
                ),
            }
        try:
            servers = [n for n, s in self.services.items() if not isinstance(s, VigieProcess)]
            for name in servers:
                if not self.running(name):
                    self.start(name)
            self.prepare_database(self._database())
            for name in self.services:  # Vigie's own processes, once their servers answer
                if name not in servers and not self.running(name):
                    self.start(name)
            if supervise and not self.supervised():
                self._start_supervisor()
        except BaseException:
            self.down()
            raise
        return self.state()

    def start(self, name: str) -> None:
        """Start one server on its recorded port and wait until it answers."""
        with self.locked():
            self.launch(name)

    def launch(self, name: str) -> None:
        """``start`` for a caller that holds the lock (the supervisor)."""
        service = self.services[name]
        workdir = self.root / name
        workdir.mkdir(parents=True, exist_ok=True)
        cmd = service.command(workdir)
        log = workdir / f"{name}.log"
        environment = getattr(service, "environment", None)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=environment() if environment is not None else None,
            )
        cmd = _cmdline_when_started(proc.pid, cmd)
        self.processes[name] = {"pid": proc.pid, "cmd": cmd, "log": str(log)}
        self.exits.get(name, {}).pop("stopped", None)
        self._save()
        deadline = time.monotonic() + self.policy.ready_timeout_s
        while not service.ready():
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-1500:]
                raise ExitedAtStart(
                    f"{name} exited with code {proc.returncode} at start. "
                    f"Its log ({log}) ends with:\n{tail}",
                    proc.returncode,
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} did not answer on port {service.port} within "
                    f"{self.policy.ready_timeout_s:.0f} s; see {log}"
                )
            time.sleep(self.policy.poll_s)
        after_start = getattr(service, "after_start", None)
        if after_start is not None:
            after_start()

    def stop(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop one server on purpose, escalating to SIGKILL if it does not exit in time; its
        record goes, so the supervisor leaves it stopped (a crash leaves the record, and the
        supervisor starts it again)."""
        with self.locked():
            self._stop_recorded(name, sig)

    def stop_locked(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """``stop`` for a caller that holds the lock (the supervisor)."""
        self._stop_recorded(name, sig)

    def _stop_recorded(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        info = self.processes.get(name)
        if not info:
            return
        _terminate(int(info["pid"]), list(info["cmd"]), sig, self.policy)
        self.processes.pop(name, None)
        self._save()

    def _database(self) -> str:
        from vigie.settings import Settings

        return Settings().influx.database

    def prepare_database(self, database: str) -> None:
        """Create an InfluxDB database with Vigie's retention policies and grants."""
        from vigie.settings import Settings

        influx = self.services.get("influxdb")
        if isinstance(influx, InfluxDB1):
            s = Settings().influx
            retention = (s.raw_retention, s.minute_retention, s.aggregate_retention)
            influx.prepare_database(database, retention, s.rollup_every)

    def service(self, name: str) -> Service | None:
        """The recorded server of that name (running or not), None when there is none."""
        self._load()
        return self.services.get(name)

    def pid(self, name: str) -> int | None:
        """The pid of a running server of this stack."""
        self._load()
        return int(self.processes[name]["pid"]) if self.running(name) else None

    def down(self) -> None:
        """Stop the supervisor, then every server this stack started; leaves configs and logs
        for inspection."""
        with self.locked():
            supervisor = self.supervisor
            if supervisor:
                _terminate(
                    int(supervisor["pid"]), list(supervisor["cmd"]), signal.SIGTERM, self.policy
                )
            # Vigie's processes first (a bridge hands its share back through a running broker),
            # then the servers, each in the reverse of its start order
            for name in reversed([n for n in self.services if n in self.processes]):
                self._stop_recorded(name)
            for name in list(self.processes):
                self._stop_recorded(name)
            if self.state_file.exists():
                self.state_file.unlink()
            self.supervisor = {}

    # -- supervision ---------------------------------------------------------------------------

    def supervised(self) -> bool:
        """True when this stack's supervisor runs."""
        self._load()
        info = self.supervisor
        if not info:  # none recorded
            return False
        return _alive(int(info["pid"]), list(info["cmd"]))

    def _start_supervisor(self) -> None:
        with self.locked():
            if not self.supervised():
                self.launch_supervisor()

    def launch_supervisor(self) -> None:
        """Start the supervisor (``vigie stack supervise``) for a caller that holds the lock:
        ``up``, or the guard that keeps the supervisor itself alive."""
        cmd = [sys.executable, "-m", "shell", "stack", "supervise"]
        log = self.root / "supervisor.log"
        env = {**os.environ, "VIGIE_HOME": str(self.home)}
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
        self.supervisor = {"pid": proc.pid, "cmd": _cmdline_when_started(proc.pid, cmd)}
        self._save()

    def note_exit(self, name: str, code: int | None, *, restarted: bool, stopped: str = "") -> None:
        """Record a service's exit (code None: not our child, so unknown) for ``status``."""
        entry = self.exits.setdefault(name, {"restarts": 0})
        entry["last_exit"] = code
        entry["last_exit_at"] = int(time.time())
        if restarted:
            entry["restarts"] = int(entry.get("restarts", 0)) + 1
        if stopped:
            entry["stopped"] = stopped
        self._save()

    def running(self, name: str) -> bool:
        self._load()
        info = self.processes.get(name)
        if not info:  # none recorded
            return False
        return _alive(int(info["pid"]), list(info["cmd"]))

    # -- state -------------------------------------------------------------------------------

    def status(self) -> dict[str, dict[str, Any]]:
        """Each recorded server: pid, port, whether the process runs and whether it answers."""
        self._load()
        return {
            name: {
                "pid": self.processes.get(name, {}).get("pid"),
                "port": svc.port,
                "running": self.running(name),
                "answers": svc.ready(),
                **self.exits.get(name, {}),
            }
            for name, svc in self.services.items()
        }

    def settings(self) -> dict[str, dict[str, object]]:
        """Settings fragments telling components where the servers listen."""
        merged: dict[str, dict[str, object]] = {}
        for svc in self.services.values():
            for section, values in svc.settings().items():
                merged.setdefault(section, {}).update(values)
        return merged

    def state(self) -> dict[str, Any]:
        return {
            "services": {
                name: {"kind": type(svc).__name__, **_fields(svc)}
                for name, svc in self.services.items()
            },
            "processes": self.processes,
            "supervisor": self.supervisor,
            "exits": self.exits,
            "settings": self.settings(),
        }

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=1))
        tmp.replace(self.state_file)

    def _load(self) -> None:
        """Read the recorded state: processes always (another process may have restarted a
        server), services when this object has none yet."""
        if not self.state_file.exists():
            return
        state = json.loads(self.state_file.read_text())
        self.processes = state.get("processes", {})
        self.supervisor = state.get("supervisor", {})
        self.exits = state.get("exits", {})
        if self.services:
            return
        kinds: dict[str, type] = {
            "Mosquitto": Mosquitto,
            "Tansu": Tansu,
            "InfluxDB1": InfluxDB1,
            "SecureMosquitto": SecureMosquitto,
            "VigieProcess": VigieProcess,
        }
        for name, saved in state.get("services", {}).items():
            spec = dict(saved)
            self.services[name] = kinds[spec.pop("kind")](**spec)


def _fields(svc: Service) -> dict[str, Any]:
    return dict(vars(svc))


def _terminate(pid: int, cmd: list[str], sig: signal.Signals, policy: StartPolicy) -> None:
    """Signal a process we started (if it is still that process) and wait until it is gone."""
    if _alive(pid, cmd):
        os.kill(pid, sig)
        deadline = time.monotonic() + policy.stop_timeout_s
        while _alive(pid, cmd) and time.monotonic() < deadline:
            time.sleep(policy.poll_s)
        if _alive(pid, cmd):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid, cmd):
                time.sleep(policy.poll_s)
    _reap(pid)


def _cmdline_when_started(pid: int, fallback: list[str]) -> list[str]:
    """The command line /proc shows for a process just started (the interpreter may show
    another path than the one given)."""
    for _ in range(40):
        current = _cmdline(pid)
        if current:
            return current
        time.sleep(0.05)
    return fallback


def _reap(pid: int) -> None:
    """Collect a child's exit status when we are its parent, so it leaves no zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
