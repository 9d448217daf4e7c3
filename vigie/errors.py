"""One error tree for the whole platform, and the one place where errors become exit codes.

Every error Vigie raises on purpose derives from ``VigieError`` and names its exit code:
scripts and service managers branch on the code (``Exit``), people read the message, which
says what went wrong and what to do next. Part of the shared core: imports nothing of Vigie.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Stable exit codes: scripts and supervisors branch on them."""

    OK = 0
    FAILED = 1
    USAGE = 2
    STACK = 3  # a server is missing or does not answer
    CONNECT = 4  # a broker or database refused or could not be reached
    RESTART = 75  # start me again (EX_TEMPFAIL): the Kafka-compatible broker restarted empty


class VigieError(Exception):
    """The root of every error Vigie raises on purpose."""

    exit_code: Exit = Exit.FAILED


class UsageError(VigieError):
    """A setting, option or file the user gave cannot be used as it is."""

    exit_code = Exit.USAGE


class ConnectError(VigieError):
    """A broker or database refused us or could not be reached."""

    exit_code = Exit.CONNECT


class StackError(VigieError):
    """A local server is missing, would not start, or does not answer."""

    exit_code = Exit.STACK


class RestartError(VigieError):
    """The process must be started again (a service manager does it)."""

    exit_code = Exit.RESTART


class StorageError(VigieError):
    """InfluxDB answered, and refused the query or the write."""


class DataError(VigieError, ValueError):
    """Data that does not follow a contract (a topic, a local time, a registry)."""

    exit_code = Exit.USAGE


class MissingDependencyError(UsageError):
    """An optional package this feature needs is not installed."""


def exit_code(exc: BaseException) -> Exit:
    """The exit code for an error: its own for Vigie's, FAILED for anything else."""
    return exc.exit_code if isinstance(exc, VigieError) else Exit.FAILED
