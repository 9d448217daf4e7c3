"""Helpers shared by the benchmarks: machine description, timing, result tables."""

from __future__ import annotations

import ctypes
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


def keep_freed_memory() -> bool:
    """Let the C allocator reuse freed memory instead of returning it to the system.

    glibc serves allocations above its mmap threshold (32 MiB at most) with fresh pages,
    and on a virtual machine the first touch of a fresh page costs more than copying it: a
    kernel called in a loop on 10-million-element arrays would mostly measure page faults.
    A long-running worker reuses its heap, so every variant of a benchmark runs this way.
    Returns whether the allocator took the setting (False outside glibc).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, 1 << 31))


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


def bench_chain(prefix: str) -> tuple[Any, Any, Any, Any]:
    """A fresh local stack in a temporary home, a 60,000-inhabitant territory registered, and
    the components (bridge, worker) ready to start: (stack, territory, settings, components)."""
    import tempfile
    from pathlib import Path

    from shell.stack import Stack
    from shell.stack.components import Components
    from simulators.territory import generate
    from vigie.settings import Settings

    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["VIGIE_HOME"] = str(home)
    stack = Stack(home)
    stack.up()
    territory = generate(60_000, seed=3, territory_id="bench")
    registry = home / "territory.json"
    territory.save(registry)
    env = {"VIGIE_HOME": str(home), "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": "bench"}
    os.environ.update(env)
    settings = Settings()
    return stack, territory, settings, Components(home, settings, env)
