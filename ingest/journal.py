"""The bridge's journal: what it acknowledged to publishers that keep nothing themselves, kept on
disk until the platform says it is stored.

An edge agent keeps each batch until a storage receipt names it; a plain MQTT device or a
LoRaWAN network server forgets a message once the broker acknowledged it. The embedded
Kafka-compatible broker keeps records in memory only, so a batch the bridge acknowledged and
handed on is lost if that broker restarts before a worker stored it. With the journal on, the
bridge writes every such batch (the record it becomes, with its device and sequence number)
here before it hands it to Kafka, and asks the worker for a storage receipt; the receipt,
which the bridge reads on the device's receipt topic, removes it. When the Kafka-compatible
broker comes back empty, the bridge sends every journaled batch again; the worker recognises
what it had already stored (by device and sequence) and receipts it again.

Bounded: past ``max_entries`` or ``max_age_s`` the oldest entries are dropped and counted.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.routing import Outbound


@dataclass(frozen=True)
class JournalPolicy:
    """How much the journal keeps at most (an entry is a batch, a few hundred bytes)."""

    max_entries: int = 2_000_000
    max_age_s: float = 7 * 86400.0  # ingest accepts nothing older anyway
    resend_chunk: int = 2000  # batches per hand-off when sending the journal again


class Journal:
    """Pending batches by (territory, device, seq), in one SQLite file."""

    def __init__(self, path: Path, policy: JournalPolicy | None = None) -> None:
        self.policy = policy or JournalPolicy()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # the broker saves its own state every second; a power cut loses as much here
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending (territory TEXT, device TEXT, seq INTEGER, "
            "topic TEXT, key BLOB, value BLOB, headers TEXT, at_ms INTEGER, "
            "PRIMARY KEY (territory, device, seq))"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS pending_at ON pending (at_ms)")
        self.dropped = 0  # entries given up on (bounds), since start

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM pending").fetchone()[0])

    def add(self, outs: Iterable[Outbound], now_ms: int) -> int:
        """Keep the records that carry a pending key; how many."""
        rows = [
            (*o.pending, o.topic, o.key, o.value, json.dumps(_headers(o)), now_ms)
            for o in outs
            if o.pending is not None
        ]
        if rows:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
        return len(rows)

    def settle(self, territory: str, device: str, ranges: Iterable[tuple[int, int]]) -> int:
        """A storage receipt: forget what it names; how many entries went."""
        gone = 0
        with self._db:
            for first, last in ranges:
                gone += self._db.execute(
                    "DELETE FROM pending WHERE territory = ? AND device = ? AND seq BETWEEN ? "
                    "AND ?",
                    (territory, device, first, last),
                ).rowcount
        return gone

    def pending(self) -> Iterable[list[Outbound]]:
        """Every entry as the record to send again, oldest first, in chunks."""
        last = (-1, "", "", -1)
        while True:
            rows = self._db.execute(
                "SELECT at_ms, territory, device, seq, topic, key, value, headers FROM pending "
                "WHERE (at_ms, territory, device, seq) > (?, ?, ?, ?) "
                "ORDER BY at_ms, territory, device, seq LIMIT ?",
                (*last, self.policy.resend_chunk),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][:4]
            yield [
                Outbound(
                    topic,
                    bytes(key),
                    bytes(value),
                    [(k, v.encode("latin-1")) for k, v in json.loads(headers)],
                    (territory, device, seq),
                )
                for _, territory, device, seq, topic, key, value, headers in rows
            ]

    def prune(self, now_ms: int) -> int:
        """Drop entries past the bounds, oldest first; how many (also added to ``dropped``)."""
        cutoff = now_ms - int(self.policy.max_age_s * 1000)
        with self._db:
            gone = self._db.execute("DELETE FROM pending WHERE at_ms < ?", (cutoff,)).rowcount
            over = len(self) - self.policy.max_entries
            if over > 0:
                gone += self._db.execute(
                    "DELETE FROM pending WHERE rowid IN (SELECT rowid FROM pending "
                    "ORDER BY at_ms LIMIT ?)",
                    (over,),
                ).rowcount
        self.dropped += gone
        return gone

    def close(self) -> None:
        self._db.close()


def _headers(out: Outbound) -> list[tuple[str, str]]:
    return [(k, v.decode("latin-1")) for k, v in out.headers]
