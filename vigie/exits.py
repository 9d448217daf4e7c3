"""Stable exit codes and the one way commands report a fatal error."""

from __future__ import annotations

from enum import IntEnum

import typer
from rich.console import Console

console = Console(stderr=True)


class Exit(IntEnum):
    """Stable exit codes: scripts and supervisors branch on them."""

    OK = 0
    FAILED = 1
    USAGE = 2
    STACK = 3  # a server is missing or does not answer
    CONNECT = 4  # a broker or database refused or could not be reached
    RESTART = 75  # start me again (EX_TEMPFAIL): the Kafka-compatible broker restarted empty


def fail(code: Exit, message: str) -> typer.Exit:
    """Print the error (what went wrong and what to do) and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(int(code))
