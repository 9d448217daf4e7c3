"""Helpers shared by the benchmarks: machine description, timing, result tables."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def pin_to_one_core() -> None:
    """Run this process on one core, so figures are per core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """Best wall time of several runs (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def report(title: str, rows: list[tuple[str, float, str]], baseline: str) -> None:
    """Print rate per row and the ratio to the baseline row."""
    base = dict((name, rate) for name, rate, _ in rows)[baseline]
    table = Table("variant", "rate", "x baseline", "what", title=title)
    for name, rate, what in rows:
        table.add_row(name, f"{rate:,.0f}/s", f"{rate / base:.1f}", what)
    console.print(table)
    console.print(f"machine: {machine()}")
