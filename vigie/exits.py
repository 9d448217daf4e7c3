"""The one way commands report a fatal error (exit codes: ``vigie.errors``)."""

from __future__ import annotations

import typer
from rich.console import Console

from vigie.errors import Exit, VigieError, exit_code

__all__ = ["Exit", "fail", "fail_with"]

console = Console(stderr=True)


def fail(code: Exit, message: str) -> typer.Exit:
    """Print the error (what went wrong and what to do) and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(int(code))


def fail_with(exc: VigieError) -> typer.Exit:
    """A Vigie error as a fatal one: its message, its exit code."""
    return fail(exit_code(exc), str(exc))
