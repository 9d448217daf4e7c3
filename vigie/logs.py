"""Logs are events: one line each, with structured fields (``extra=``) after the message."""

from __future__ import annotations

import logging
import os
import sys

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


def setup(level: str = "INFO") -> None:
    """Send events to stderr, one per line.

    The Kafka and faust libraries stay at WARNING unless ``VIGIE_LIBRARY_LOG_LEVEL`` says
    otherwise (INFO shows rebalances, assignments and offset commits).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EventFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    libraries = os.environ.get("VIGIE_LIBRARY_LOG_LEVEL", "").upper()
    for noisy in ("aiokafka", "faust", "mode", "kafka"):
        logging.getLogger(noisy).setLevel(libraries or max(logging.WARNING, root.level))
