"""Logs are events: one line each, with structured fields (``extra=``) after the message."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class EventFormatter(logging.Formatter):
    """``time level logger message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        base = (
            f"{self.formatTime(record)} {record.levelname:<7} {record.name} {record.getMessage()}"
        )
        fields = " ".join(
            f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}"
            for k, v in vars(record).items()
            if k not in _STANDARD
        )
        line = f"{base} {fields}" if fields else base
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


LIBRARIES = ("aiokafka", "faust", "mode", "kafka")


class Repeats(logging.Filter):
    """An outage is a handful of lines, not thousands: a library's warning or error whose
    message (its template, before arguments) came from the same logger within ``window_s``
    is held back and counted; the first one after the window says how many were
    (``repeated=N``). Vigie's own events (each a state change or a summary) always pass, and
    so do informative lines."""

    def __init__(self, window_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.name.split(".")[0] not in LIBRARIES:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] < self.window_s:
            entry[1] += 1
            return False
        if len(self._seen) > 10_000:  # many distinct messages: start counting afresh
            self._seen.clear()
        if entry is not None and entry[1]:
            record.repeated = int(entry[1])
        self._seen[key] = [now, 0]
        return True


def setup(level: str = "INFO") -> None:
    """Send events to stderr, one per line.

    The Kafka and faust libraries stay at WARNING unless ``VIGIE_LIBRARY_LOG_LEVEL`` says
    otherwise (INFO shows rebalances, assignments and offset commits).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EventFormatter())
    handler.addFilter(Repeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    libraries = os.environ.get("VIGIE_LIBRARY_LOG_LEVEL", "").upper()
    for noisy in LIBRARIES:
        logging.getLogger(noisy).setLevel(libraries or max(logging.WARNING, root.level))
