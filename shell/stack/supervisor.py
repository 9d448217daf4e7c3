"""Keeps the local stack's servers running: a server that exits unasked is started again, on
the same port, with the same configuration and identities; the embedded Kafka-compatible
broker is started again, empty, when it outgrows its memory bound (it cannot delete records).

One process per stack (``vigie stack supervise``, started by ``vigie stack up``). It reads
``stack.json`` under the stack's lock: a server whose record is there but whose process is gone
crashed, and is started again; one stopped on purpose has no record and is left alone. Restarts
in a row back off (0.5 s, doubling, at most 30 s) so a server that cannot start does not spin.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from shell.stack.launcher import Stack
from shell.stack.services import StackError
from vigie.retry import Backoff

log = logging.getLogger("shell.stack")


@dataclass(frozen=True)
class SupervisionPolicy:
    poll_s: float = 0.25
    # between restarts of a server that keeps crashing (no jitter: one machine, one stack)
    backoff: Backoff = field(default_factory=lambda: Backoff(first_s=0.5, max_s=30.0, jitter=0))
    calm_after_s: float = 60.0  # up this long: the next crash starts the back-off afresh
    kafka_max_rss_mb: int = 4096  # 0: no bound (StackSettings.kafka_max_rss_mb)


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
    while not stop.wait(policy.poll_s):
        if not stack.state_file.exists():
            continue
        with stack.locked():
            _bound_kafka(stack, policy)
            for name in list(stack.processes):
                if stack.running(name):
                    continue
                r = restarts.setdefault(name, _Restarts())
                now = time.monotonic()
                if r.down_since is None:
                    r.down_since = now
                if now - r.last > policy.calm_after_s:
                    r.count = 0
                delay = policy.backoff.delay(r.count, 0.5)
                if r.count and now - r.last < delay:
                    continue
                r.count, r.last = r.count + 1, now
                try:
                    stack.launch(name)
                except StackError as exc:
                    log.error("restart failed", extra={"server": name, "error": str(exc)[:300]})
                    continue
                down, r.down_since = time.monotonic() - r.down_since, None
                log.warning(
                    "server restarted",
                    extra={"server": name, "recovered_in_s": round(down, 2), "restarts": r.count},
                )


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


def run(home: Path, kafka_max_rss_mb: int) -> None:
    """``vigie stack supervise``: until SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    supervise(home, stop, SupervisionPolicy(kafka_max_rss_mb=kafka_max_rss_mb))
