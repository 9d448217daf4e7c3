"""The board's health as readings: temperature, memory, disk, queue, link, and the agent's own
traffic and CPU time since the previous report. Linux only, stdlib."""

from __future__ import annotations

import resource
import shutil
from dataclasses import dataclass, field
from pathlib import Path

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temp_degc() -> float | None:
    """The SoC temperature where the kernel exposes it (Raspberry Pi: thermal_zone0)."""
    try:
        return int(THERMAL.read_text()) / 1000
    except (OSError, ValueError):
        return None


def mem_used_pct() -> float | None:
    """The board's memory in use, from /proc/meminfo (None where there is none)."""
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        total = int(info["MemTotal"].split()[0])
        available = int(info["MemAvailable"].split()[0])
    except (OSError, KeyError, ValueError):
        return None
    return 100 * (total - available) / total


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class SelfMeasure:
    """Messages, bytes and CPU seconds since the previous report (for the footprint)."""

    messages: int = 0
    bytes: int = 0
    cpu_s: float = field(default_factory=_cpu_s)

    def readings(self, messages: int, sent_bytes: int) -> list[tuple[str, float]]:
        cpu = _cpu_s()
        out = [
            ("tx_messages", float(messages - self.messages)),
            ("tx_bytes", float(sent_bytes - self.bytes)),
            ("cpu_s", round(max(0.0, cpu - self.cpu_s), 4)),
        ]
        self.messages, self.bytes, self.cpu_s = messages, sent_bytes, cpu
        return out


def readings(
    state_dir: Path, queue_depth: int, dropped: int, link_up: bool, first_seq: int | None = None
) -> list[tuple[str, float]]:
    """Health metrics of the registry (vertical-independent), those available here; the first
    sequence number the queue gave lets the platform count batches it never saw."""
    disk = shutil.disk_usage(state_dir)
    out = [
        ("disk_used_pct", round(100 * disk.used / disk.total, 2)),
        ("queue_depth", float(queue_depth)),
        ("queue_dropped", float(dropped)),
        ("link_up", 1.0 if link_up else 0.0),
    ]
    if first_seq is not None:
        out.append(("seq_first", float(first_seq)))
    for name, value in (("cpu_temp_degc", cpu_temp_degc()), ("mem_used_pct", mem_used_pct())):
        if value is not None:
            out.append((name, round(value, 2)))
    return out
