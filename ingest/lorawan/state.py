"""The frame-counter states on disk (SQLite), written once a bulk is safely on Kafka."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ingest.lorawan.counters import DeviceCounter, FrameCounters


class CounterStore:
    """One table: each device's counter state as JSON."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS counters (dev_eui TEXT PRIMARY KEY, state TEXT NOT NULL)"
        )

    def load(self) -> FrameCounters:
        rows = self.db.execute("SELECT dev_eui, state FROM counters").fetchall()
        return FrameCounters({dev: DeviceCounter.of_row(json.loads(s)) for dev, s in rows})

    def save(self, changed: dict[str, DeviceCounter]) -> None:
        if not changed:
            return
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO counters VALUES (?, ?)",
                [(dev, json.dumps(state.as_row())) for dev, state in changed.items()],
            )

    def close(self) -> None:
        self.db.close()
