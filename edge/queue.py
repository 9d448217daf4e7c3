"""The store-and-forward queue: every batch on disk before it is sent, removed once the
platform's storage receipt names it (or, with receipts off, once the broker acknowledged it).

SQLite in WAL mode. A batch and the next sequence number are written in one transaction, so
after any crash the queue holds every batch not yet acknowledged and sequence numbers go on
where they stopped. When the queue is full (count or age), the oldest batches are dropped
first, counted, and the count is reported in the device's health readings.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class QueuePolicy:
    """Bounds and durability. ``full`` survives power cuts; ``normal`` survives crashes."""

    max_batches: int = 100_000
    max_age_ms: int = 7 * 86_400_000
    durability: Literal["full", "normal"] = "full"


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    created_ms: int
    vertical: str
    payload: bytes


class BatchQueue:
    """A durable FIFO of encoded batches keyed by sequence number; thread-safe."""

    def __init__(self, path: Path, policy: QueuePolicy | None = None) -> None:
        self.policy = policy or QueuePolicy()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={self.policy.durability.upper()}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, "
            "created_ms INTEGER NOT NULL, vertical TEXT NOT NULL, "
            "payload BLOB NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        self._count = self._recount()

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def next_seq(self) -> int:
        """The sequence number the next batch will carry."""
        with self._lock:
            return self._meta("next_seq")

    @property
    def first_seq(self) -> int | None:
        """The sequence number of the first batch this queue ever held (None while empty)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'first_seq'").fetchone()
            return int(row[0]) if row else None

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._meta("dropped")

    def __len__(self) -> int:
        return self._count

    def put(self, seq: int, created_ms: int, vertical: str, payload: bytes) -> int:
        """Store a batch and advance the sequence; returns how many old batches were dropped."""
        return self.put_many([(seq, created_ms, vertical, payload)])

    def put_many(self, items: list[tuple[int, int, str, bytes]]) -> int:
        """Store several batches in one transaction (seq, created_ms, vertical, payload)."""
        if not items:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT INTO batches VALUES (?, ?, ?, ?)", items)
                self._db.execute(
                    "INSERT INTO meta VALUES ('first_seq', ?) ON CONFLICT(key) DO NOTHING",
                    (items[0][0],),
                )
                self._db.execute(
                    "INSERT INTO meta VALUES ('next_seq', ?) ON CONFLICT(key) "
                    "DO UPDATE SET value = excluded.value",
                    (items[-1][0] + 1,),
                )
                self._count += len(items)
                dropped = self._enforce_bounds(items[-1][1])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._count = self._recount()
                raise
            return dropped

    def _recount(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM batches").fetchone()[0])

    def _enforce_bounds(self, now_ms: int) -> int:
        """Drop what is too old or too many, oldest first; cheap when nothing is due."""
        dropped = 0
        oldest = self._db.execute("SELECT created_ms FROM batches ORDER BY seq LIMIT 1").fetchone()
        if oldest is not None and oldest[0] < now_ms - self.policy.max_age_ms:
            cur = self._db.execute(
                "DELETE FROM batches WHERE created_ms < ?", (now_ms - self.policy.max_age_ms,)
            )
            dropped += cur.rowcount
        excess = self._count - dropped - self.policy.max_batches
        if excess > 0:
            cur = self._db.execute(
                "DELETE FROM batches WHERE seq IN (SELECT seq FROM batches ORDER BY seq LIMIT ?)",
                (excess,),
            )
            dropped += cur.rowcount
        if dropped:
            self._count -= dropped
            self._db.execute(
                "INSERT INTO meta VALUES ('dropped', ?) ON CONFLICT(key) "
                "DO UPDATE SET value = value + excluded.value",
                (dropped,),
            )
        return dropped

    def oldest(self, limit: int, after_seq: int = -1) -> list[Queued]:
        """Up to ``limit`` batches in sequence order, those above after_seq."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, created_ms, vertical, payload FROM batches "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [Queued(int(r[0]), int(r[1]), r[2], bytes(r[3])) for r in rows]

    def ack(self, seq: int) -> None:
        """The broker has the batch: forget it."""
        with self._lock:
            cur = self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))
            self._count -= cur.rowcount

    def ack_many(self, seqs: list[int]) -> None:
        """Forget several acknowledged batches in one transaction (one disk sync)."""
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.executemany("DELETE FROM batches WHERE seq = ?", [(s,) for s in seqs])
            self._db.execute("COMMIT")
            self._count -= cur.rowcount

    def forget(self, ranges: list[tuple[int, int]]) -> int:
        """Forget the batches of these closed ranges of seq (a storage receipt), in one
        transaction; returns how many were still queued."""
        if not ranges:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.executemany(
                "DELETE FROM batches WHERE seq BETWEEN ? AND ?", [(a, b) for a, b in ranges]
            )
            self._db.execute("COMMIT")
            self._count -= cur.rowcount
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
