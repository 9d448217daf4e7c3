"""Keeps the local stack's servers running: a server that exits unasked is started again, on
the same port, with the same configuration and identities.

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

from vigie.stack.launcher import Stack
from vigie.stack.services import StackError

log = logging.getLogger("vigie.stack")


@dataclass(frozen=True)
class SupervisionPolicy:
    poll_s: float = 0.25
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    calm_after_s: float = 60.0  # up this long: the next crash starts the back-off afresh


@dataclass
class _Restarts:
    count: int = 0
    last: float = 0.0
    down_since: dict[str, float] = field(default_factory=dict)


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
            for name in list(stack.processes):
                if stack.running(name):
                    continue
                r = restarts.setdefault(name, _Restarts())
                now = time.monotonic()
                r.down_since.setdefault(name, now)
                if now - r.last > policy.calm_after_s:
                    r.count = 0
                delay = min(policy.first_delay_s * 2**r.count, policy.max_delay_s)
                if r.count and now - r.last < delay:
                    continue
                r.count, r.last = r.count + 1, now
                try:
                    stack.launch(name)
                except StackError as exc:
                    log.error("restart failed", extra={"server": name, "error": str(exc)[:300]})
                    continue
                down = time.monotonic() - r.down_since.pop(name)
                log.warning(
                    "server restarted",
                    extra={"server": name, "recovered_in_s": round(down, 2), "restarts": r.count},
                )


def run(home: Path) -> None:
    """``vigie stack supervise``: until SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    supervise(home, stop)
