"""Vigie's own long-running processes as services of a stack, supervised like its servers.

A bridge, a worker, a notifier or a LoRaWAN bridge is recorded in ``stack.json`` with the
command-line arguments and the environment it runs with (file paths, never secrets), so a
supervisor started later, or started again after a crash, runs it exactly as before.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shell.stack.services import tcp_answers


@dataclass
class VigieProcess:
    """``python -m shell ARGS...`` with its own environment; ``port``: its metrics endpoint
    (0: none), which is also how it tells that it is ready (each serves it once it has read
    its files)."""

    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0

    def command(self, workdir: Path) -> list[str]:
        return [sys.executable, "-m", "shell", *self.args]

    def environment(self) -> dict[str, str]:
        """The environment it starts with: the supervisor's, then its own settings; messages
        are not wrapped (one event, one line in its log)."""
        return {**os.environ, "COLUMNS": "1000", **self.env}

    def ready(self) -> bool:
        return not self.port or tcp_answers(self.port)

    def settings(self) -> dict[str, dict[str, object]]:
        return {}
