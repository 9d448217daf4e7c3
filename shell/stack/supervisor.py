"""Keeps the stack's servers and Vigie's own processes running: one that exits unasked is
started again, on the same port, with the same configuration and identities; an exit 75 (start
me again) is honoured at once; an exit 2 (a configuration it cannot use) leaves it stopped with
the last line it logged, shown by ``status``. The embedded Kafka-compatible broker is started
again, empty, when it outgrows its memory bound (it cannot delete records). Logs under the
stack are rotated by size.

A site adds a guard process (``vigie stack guard``) among the supervised ones, which starts the
supervisor again when it is gone: either may be killed, the other heals it.

One process per stack (``vigie stack supervise``, started by ``vigie stack up``). It reads
``stack.json`` under the stack's lock: a server whose record is there but whose process is gone
crashed, and is started again; one stopped on purpose has no record and is left alone. Restarts
in a row back off (0.5 s, doubling, at most 30 s) so a server that cannot start does not spin.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from shell.stack.launcher import ExitedAtStart, Stack
from vigie.errors import Exit, StackError
from vigie.retry import Backoff

log = logging.getLogger("shell.stack")


@dataclass(frozen=True)
class SupervisionPolicy:
    poll_s: float = 0.25
    # between restarts of a server that keeps crashing (no jitter: one machine, one stack)
    backoff: Backoff = field(default_factory=lambda: Backoff(first_s=0.5, max_s=30.0, jitter=0))
    calm_after_s: float = 60.0  # up this long: the next crash starts the back-off afresh
    kafka_max_rss_mb: int = 4096  # 0: no bound (StackSettings.kafka_max_rss_mb)
    log_max_bytes: int = 20 * 1024 * 1024  # a log past this is rotated ...
    log_keep: int = 5  # ... keeping this many older copies
    rotate_every_s: float = 30.0


@dataclass
class _Restarts:
    count: int = 0
    last: float = 0.0
    down_since: float | None = None


def rss_mb(pid: int | None) -> float:
    """A process's resident memory (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return 0.0
    kb = next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS")), 0)
    return kb / 1024


def supervise(home: Path, stop: threading.Event, policy: SupervisionPolicy | None = None) -> None:
    """Watch the stack under ``home`` until ``stop`` is set."""
    policy = policy or SupervisionPolicy()
    stack = Stack(home)
    restarts: dict[str, _Restarts] = {}
    log.info("supervising", extra={"stack": str(stack.root)})
    next_rotation = 0.0
    while not stop.wait(policy.poll_s):
        if not stack.state_file.exists():
            continue
        with stack.locked():
            if _another_supervises(stack):
                log.warning("another supervisor runs this stack: leaving it to that one")
                return
            _bound_kafka(stack, policy)
            for name in list(stack.processes):
                if not stack.running(name):
                    _restart(stack, name, restarts.setdefault(name, _Restarts()), policy)
        if time.monotonic() >= next_rotation:
            next_rotation = time.monotonic() + policy.rotate_every_s
            rotate_logs(stack.root, policy.log_max_bytes, policy.log_keep)


def _another_supervises(stack: Stack) -> bool:
    """True when the stack records a live supervisor that is not this process."""
    pid = int(stack.supervisor.get("pid") or 0)
    return pid not in (0, os.getpid()) and stack.supervised()


def _exit_code(pid: int) -> int | None:
    """The exit code of a child of this process that ended (None: not ours, or unknown)."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status) if done else None


def _reason(stack: Stack, name: str) -> str:
    """The last line of a process's log: what it said before it stopped."""
    path = Path(str(stack.processes.get(name, {}).get("log", "")))
    lines = path.read_text(errors="replace").strip().splitlines() if path.is_file() else []
    return lines[-1][-300:] if lines else "(its log is empty)"


def _restart(stack: Stack, name: str, r: _Restarts, policy: SupervisionPolicy) -> None:
    """Start a dead process again with back-off; an exit 2 (a configuration the process cannot
    use) leaves it stopped with its reason, and an exit 75 (start me again) is honoured at
    once."""
    now = time.monotonic()
    if r.down_since is None:
        r.down_since = now
        code = _exit_code(int(stack.processes[name]["pid"]))
        if code == Exit.USAGE:
            _leave_stopped(stack, name, r, _reason(stack, name))
            return
        if code == Exit.RESTART:
            r.count = 0
        stack.note_exit(name, code, restarted=False)
    if now - r.last > policy.calm_after_s:
        r.count = 0
    delay = policy.backoff.delay(r.count, 0.5)
    if r.count and now - r.last < delay:
        return
    r.count, r.last = r.count + 1, now
    try:
        stack.launch(name)
    except ExitedAtStart as exc:
        if exc.code == Exit.USAGE:
            _leave_stopped(stack, name, r, _last_line(str(exc)))
            return
        log.error("restart failed", extra={"server": name, "error": str(exc)[:300]})
        return
    except StackError as exc:
        log.error("restart failed", extra={"server": name, "error": str(exc)[:300]})
        return
    down, r.down_since = time.monotonic() - r.down_since, None
    stack.note_exit(name, stack.exits.get(name, {}).get("last_exit"), restarted=True)
    log.warning(
        "server restarted",
        extra={"server": name, "recovered_in_s": round(down, 2), "restarts": r.count},
    )


def _leave_stopped(stack: Stack, name: str, r: _Restarts, reason: str) -> None:
    """An exit 2: not started again until an operator mends what it names (``site up``)."""
    log.error("stopped: exit 2", extra={"server": name, "reason": reason})
    stack.processes.pop(name, None)
    stack.note_exit(name, int(Exit.USAGE), restarted=False, stopped=reason)
    r.down_since = None


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][-300:] if lines else ""


def rotate_logs(root: Path, max_bytes: int, keep: int) -> None:
    """Copy-and-truncate every log under the stack past ``max_bytes`` into ``NAME.log.1``
    (older copies shifted up to ``keep``): the processes keep their open, append-only file."""
    for path in root.rglob("*.log"):
        try:
            if path.stat().st_size <= max_bytes:
                continue
        except OSError:
            continue
        for n in range(keep - 1, 0, -1):
            older = path.with_name(f"{path.name}.{n}")
            if older.exists():
                older.replace(path.with_name(f"{path.name}.{n + 1}"))
        shutil.copyfile(path, path.with_name(f"{path.name}.1"))
        with path.open("r+b") as f:
            f.truncate(0)


def guard(home: Path, stop: threading.Event, poll_s: float = 0.5) -> None:
    """Keep the stack's supervisor alive (``vigie stack guard``, itself a supervised process):
    each restarts the other, so a ``kill -9`` of either heals with no service manager."""
    stack = Stack(home)
    while not stop.wait(poll_s):
        if not stack.state_file.exists():
            return
        with stack.locked():
            if not stack.state_file.exists():
                return
            if not stack.supervisor or stack.supervised():
                continue  # none recorded yet: ``up`` is starting it
            code = _exit_code(int(stack.supervisor["pid"])) if stack.supervisor else None
            stack.launch_supervisor()
            stack.note_exit("supervisor", code, restarted=True)
            log.warning("supervisor restarted", extra={"pid": stack.supervisor["pid"]})


def _bound_kafka(stack: Stack, policy: SupervisionPolicy) -> None:
    """Start the embedded Kafka-compatible broker again, empty, once it outgrew its bound."""
    if not policy.kafka_max_rss_mb or "kafka" not in stack.processes:
        return
    size = rss_mb(stack.pid("kafka"))
    if size <= policy.kafka_max_rss_mb:
        return
    log.warning(
        "the kafka-compatible broker outgrew its memory bound: starting it again, empty",
        extra={"rss_mb": round(size), "bound_mb": policy.kafka_max_rss_mb},
    )
    stack.stop_locked("kafka")
    stack.launch("kafka")


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, which also end the process at once: ``down`` holds
    the stack's lock while it stops us, and a supervisor waiting for that lock must not make
    it wait out its stop timeout (the lock goes with the process; stack.json is replaced
    atomically, never left half-written)."""
    stop = threading.Event()

    def leave(*_a: object) -> None:
        stop.set()
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, leave)
    return stop


def run(home: Path, kafka_max_rss_mb: int) -> None:
    """``vigie stack supervise``: until SIGTERM or SIGINT."""
    supervise(home, _stop_on_signals(), SupervisionPolicy(kafka_max_rss_mb=kafka_max_rss_mb))


def run_guard(home: Path) -> None:
    """``vigie stack guard``: until SIGTERM or SIGINT, or the stack is taken down."""
    guard(home, _stop_on_signals())
