"""The notifier's durable state (SQLite, WAL, synchronous FULL): every alert event seen, each
alert's lifecycle (open, acknowledged, cleared; held for maintenance or flapping; escalated),
maintenance windows set from the command line, and the outbox of notifications with their
attempts.

Events are unique by (territory, kind, subject, state, time): a redelivered Kafka record
(the notifier commits its offsets only after this store) changes nothing and queues nothing.
An outbox row is marked attempted before it is sent and sent once the channel took it, so a
notifier killed between the two sends it again, and its attempts say so.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from notify.config import Maintenance, NotifyConfig
from notify.messages import Item
from vigie.contracts.alerts import Alert, AlertKind, AlertState

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    territory TEXT, kind TEXT, subject TEXT, state TEXT, at_ms INTEGER,
    PRIMARY KEY (territory, kind, subject, state, at_ms));
CREATE TABLE IF NOT EXISTS alerts (
    territory TEXT, kind TEXT, subject TEXT, state TEXT, district TEXT, vertical TEXT,
    raised_ms INTEGER, acked_ms INTEGER, acked_by TEXT, cleared_ms INTEGER,
    held TEXT, escalated INTEGER DEFAULT 0, value REAL, detail TEXT,
    PRIMARY KEY (territory, kind, subject));
CREATE TABLE IF NOT EXISTS silences (
    id INTEGER PRIMARY KEY, territory TEXT, district TEXT, asset TEXT,
    start_ms INTEGER, end_ms INTEGER, reason TEXT, author TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, route TEXT, channel TEXT, language TEXT, grp TEXT, item TEXT,
    created_ms INTEGER, due_ms INTEGER, attempts INTEGER DEFAULT 0, attempted_ms INTEGER,
    sent_ms INTEGER, failed TEXT, owner TEXT, lease_ms INTEGER);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sent_ms, failed, due_ms);
"""

OPEN, ACKNOWLEDGED, CLEARED = "open", "acknowledged", "cleared"
# who claims outbox rows: the store is one file on one host, shared by its notifiers
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether a claim's owner still runs (a process of this host; another host's claim is
    trusted until its lease ends)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    return True


@dataclass(frozen=True, slots=True)
class Subject:
    """What the registry says of an alert's subject."""

    district: str = "unknown"
    vertical: str = "unknown"
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A lifecycle change, for the alert-operations points (time to acknowledge, to clear)."""

    territory: str
    kind: str
    subject: str
    district: str
    state: str
    at_ms: int
    wait_ms: int  # since raised (0 for a raise)
    held: str | None


@dataclass(frozen=True, slots=True)
class Event:
    """One alert event as the store applies it: what its subject is, under which rules, when."""

    alert: Alert
    where: Subject
    config: NotifyConfig
    now_ms: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Outbox rows that go out as one message."""

    ids: list[int]
    channel: str
    language: str
    items: list[Item]
    attempts: int


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=10000")  # the CLI and the service share it
        self.db.executescript(SCHEMA)
        columns = {r["name"] for r in self.db.execute("PRAGMA table_info(outbox)")}
        for column in ("owner TEXT", "lease_ms INTEGER"):  # a store from an earlier version
            if column.split()[0] not in columns:
                self.db.execute(f"ALTER TABLE outbox ADD COLUMN {column}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- alert events -----------------------------------------------------------------------

    def record(
        self,
        alert: Alert,
        where: Subject,
        config: NotifyConfig,
        now_ms: int,
    ) -> tuple[int, list[Transition]]:
        """Apply one alert event: its lifecycle, and the notifications it queues (how many)."""
        key = (alert.territory, str(alert.kind), alert.subject)
        with self._tx() as db:
            new = db.execute(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
                (*key, str(alert.state), alert.at_ms),
            ).rowcount
            if not new:
                return 0, []
            row = db.execute(
                "SELECT * FROM alerts WHERE territory=? AND kind=? AND subject=?", key
            ).fetchone()
            event = Event(alert, where, config, now_ms)
            if alert.state is AlertState.RAISED:
                return self._raise(db, event, row)
            return self._clear(db, event, row)

    def _raise(
        self, db: sqlite3.Connection, event: Event, row: sqlite3.Row | None
    ) -> tuple[int, list[Transition]]:
        alert, where, config = event.alert, event.where, event.config
        if row is not None and row["state"] in (OPEN, ACKNOWLEDGED):
            return 0, []  # already open
        key = (alert.territory, str(alert.kind), alert.subject)
        raises = db.execute(
            "SELECT count(*) FROM events WHERE territory=? AND kind=? AND subject=? "
            "AND state='raised' AND at_ms > ?",
            (*key, alert.at_ms - int(config.flap_window_s * 1000)),
        ).fetchone()[0]
        held = None
        if self._in_maintenance(db, config.maintenance, alert, where):
            held = "maintenance"
        elif raises > config.flap_max:
            held = "flapping"
        db.execute(
            "INSERT OR REPLACE INTO alerts "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, 0, ?, ?)",
            (*key, OPEN, where.district, where.vertical, alert.at_ms, held, alert.value,
             alert.detail),
        )  # fmt: skip
        transition = Transition(*key, where.district, OPEN, alert.at_ms, 0, held)
        if held == "maintenance":
            return 0, [transition]
        state = "flapping" if held else "raised"
        if held and raises > config.flap_max + 1:
            return 0, [transition]  # it was said once that it flaps
        return self._queue(db, event, state), [transition]

    def _clear(
        self, db: sqlite3.Connection, event: Event, row: sqlite3.Row | None
    ) -> tuple[int, list[Transition]]:
        alert = event.alert
        if row is None or row["state"] == CLEARED:
            return 0, []
        db.execute(
            "UPDATE alerts SET state=?, cleared_ms=? WHERE territory=? AND kind=? AND subject=?",
            (CLEARED, alert.at_ms, alert.territory, str(alert.kind), alert.subject),
        )
        wait = alert.at_ms - row["raised_ms"]
        # never before its acknowledgement: a subject's last point is where it stands
        at_ms = max(alert.at_ms, row["acked_ms"] or 0)
        transition = Transition(
            alert.territory, str(alert.kind), alert.subject, row["district"], CLEARED,
            at_ms, wait,
            row["held"],
        )  # fmt: skip
        if row["held"] is not None:
            return 0, [transition]  # nobody was told it opened
        return self._queue(db, event, "cleared"), [transition]

    def _in_maintenance(
        self, db: sqlite3.Connection, planned: Sequence[Maintenance], alert: Alert, where: Subject
    ) -> bool:
        windows = list(planned) + [
            Maintenance(
                territory=r["territory"],
                district=r["district"],
                asset=r["asset"],
                start_ms=r["start_ms"],
                end_ms=r["end_ms"],
            )
            for r in db.execute("SELECT * FROM silences")
        ]
        return any(
            w.covers(alert.territory, where.district, alert.subject, alert.at_ms) for w in windows
        )

    def _queue(
        self, db: sqlite3.Connection, event: Event, state: str, channels_of: str = "channels"
    ) -> int:
        alert, where, config, now_ms = event.alert, event.where, event.config, event.now_ms
        item = Item(
            alert.territory, alert.kind, alert.subject, state, alert.at_ms, alert.value,
            alert.detail, where.district, where.vertical, where.lat, where.lon,
        )  # fmt: skip
        queued = 0
        due = now_ms + int(config.group_window_s * 1000)
        for route in config.routes:
            if not route.takes(alert, where.vertical):
                continue
            for channel in getattr(route, channels_of):
                group = "|".join(
                    (route.name, channel, alert.territory, alert.kind, where.district, state)
                )
                db.execute(
                    "INSERT INTO outbox (route, channel, language, grp, item, created_ms, "
                    "due_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (route.name, channel, route.language, group, _dump(item), now_ms, due),
                )
                queued += 1
        return queued

    # -- people ---------------------------------------------------------------------------

    def ack(self, territory: str, kind: str, subject: str, by: str, now_ms: int) -> Transition:
        """Someone took an open alert in hand: no escalation from now on."""
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM alerts WHERE territory=? AND kind=? AND subject=?",
                (territory, kind, subject),
            ).fetchone()
            if row is None or row["state"] != OPEN:
                state = "unknown" if row is None else row["state"]
                raise LookupError(f"{territory} {kind} {subject}: not open ({state})")
            db.execute(
                "UPDATE alerts SET state=?, acked_ms=?, acked_by=? "
                "WHERE territory=? AND kind=? AND subject=?",
                (ACKNOWLEDGED, now_ms, by, territory, kind, subject),
            )
        return Transition(
            territory, kind, subject, row["district"], ACKNOWLEDGED, now_ms,
            now_ms - row["raised_ms"],
            row["held"],
        )  # fmt: skip

    def silence(self, window: Maintenance, author: str) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO silences (territory, district, asset, start_ms, end_ms, reason, "
                "author) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    window.territory, window.district, window.asset, window.start_ms,
                    window.end_ms, window.reason, author,
                ),
            )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def alerts(self, state: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM alerts" + (" WHERE state=?" if state else "")
        rows = self.db.execute(query + " ORDER BY raised_ms", (state,) if state else ())
        return [dict(r) for r in rows]

    def history(
        self, territory: str, kind: str, subject: str
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        """One alert as recorded: its lifecycle row, every event seen for it, and every
        notification that named it (channel, attempts, sent or why it failed)."""
        key = (territory, kind, subject)
        row = self.db.execute(
            "SELECT * FROM alerts WHERE territory=? AND kind=? AND subject=?", key
        ).fetchone()
        events = self.db.execute(
            "SELECT state, at_ms FROM events WHERE territory=? AND kind=? AND subject=? "
            "ORDER BY at_ms",
            key,
        )
        told = self.db.execute(
            "SELECT route, channel, json_extract(item, '$.state') AS state, created_ms, "
            "attempts, sent_ms, failed FROM outbox WHERE json_extract(item, '$.territory')=? "
            "AND json_extract(item, '$.kind')=? AND json_extract(item, '$.subject')=? "
            "ORDER BY id",
            key,
        )
        return (
            dict(row) if row else None,
            [dict(e) for e in events],
            [dict(t) for t in told],
        )

    def outbox(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM outbox ORDER BY id")]

    # -- escalation -----------------------------------------------------------------------

    def escalate(self, config: NotifyConfig, now_ms: int) -> int:
        """Open alerts nobody acknowledged past a route's delay: told to its second channels,
        once."""
        queued = 0
        with self._tx() as db:
            rows = db.execute(
                "SELECT * FROM alerts WHERE state=? AND held IS NULL AND escalated=0", (OPEN,)
            ).fetchall()
            for row in rows:
                alert = Alert(
                    AlertKind(row["kind"]), row["subject"], AlertState.RAISED, row["raised_ms"],
                    row["value"], row["detail"], row["territory"],
                )  # fmt: skip
                routes = [
                    r
                    for r in config.routes
                    if r.escalate_after_s is not None
                    and r.escalate_to
                    and r.takes(alert, row["vertical"])
                    and now_ms - row["raised_ms"] >= r.escalate_after_s * 1000
                ]
                if not routes:
                    continue
                late = config.model_copy(update={"routes": routes, "group_window_s": 0.0})
                where = Subject(row["district"], row["vertical"])
                event = Event(alert, where, late, now_ms)
                queued += self._queue(db, event, "escalated", "escalate_to")
                db.execute(
                    "UPDATE alerts SET escalated=1 WHERE territory=? AND kind=? AND subject=?",
                    (row["territory"], row["kind"], row["subject"]),
                )
        return queued

    # -- delivery -------------------------------------------------------------------------

    def due(
        self,
        now_ms: int,
        owner: str = OWNER,
        lease_ms: int = 120_000,
        alive: Callable[[str], bool] = owner_alive,
    ) -> list[Batch]:
        """The messages to send now, claimed for ``owner``: every pending row of a group whose
        first row is due and that no other notifier holds. A claim lasts until the row is
        sent, failed or put back for a retry; a claim whose owner died is released, and any
        claim ends after ``lease_ms``, so a message is never lost with its sender."""
        pending = "sent_ms IS NULL AND failed IS NULL"
        free = "(owner IS NULL OR owner = ? OR lease_ms <= ?)"
        batches = []
        with self._tx() as db:
            holders = db.execute(
                f"SELECT DISTINCT owner FROM outbox WHERE {pending} AND owner IS NOT NULL "
                "AND owner != ?",
                (owner,),
            ).fetchall()
            for (holder,) in holders:
                if not alive(holder):
                    db.execute(
                        f"UPDATE outbox SET owner=NULL, lease_ms=NULL WHERE {pending} AND owner=?",
                        (holder,),
                    )
            groups = db.execute(
                f"SELECT grp FROM outbox WHERE {pending} AND {free} "
                "GROUP BY grp HAVING min(due_ms) <= ? ORDER BY min(id)",  # in the order they came
                (owner, now_ms, now_ms),
            ).fetchall()
            for (group,) in groups:
                rows = db.execute(
                    f"SELECT * FROM outbox WHERE grp=? AND {pending} AND {free} ORDER BY id",
                    (group, owner, now_ms),
                ).fetchall()
                ids = [r["id"] for r in rows]
                marks = ",".join("?" * len(ids))
                db.execute(
                    f"UPDATE outbox SET owner=?, lease_ms=? WHERE id IN ({marks})",
                    (owner, now_ms + lease_ms, *ids),
                )
                batches.append(
                    Batch(
                        ids,
                        rows[0]["channel"],
                        rows[0]["language"],
                        [_load(r["item"]) for r in rows],
                        max(r["attempts"] for r in rows),
                    )
                )
        return batches

    def attempting(self, batch: Batch, now_ms: int) -> None:
        self._rows(batch, "attempts=attempts+1, attempted_ms=?", now_ms)

    def sent(self, batch: Batch, now_ms: int) -> None:
        self._rows(batch, "owner=NULL, lease_ms=NULL, sent_ms=?", now_ms)

    def retry_at(self, batch: Batch, due_ms: int) -> None:
        self._rows(batch, "owner=NULL, lease_ms=NULL, due_ms=?", due_ms)

    def failed(self, batch: Batch, reason: str) -> None:
        self._rows(batch, "owner=NULL, lease_ms=NULL, failed=?", reason[:500])

    def _rows(self, batch: Batch, assignment: str, value: object) -> None:
        marks = ",".join("?" * len(batch.ids))
        with self._tx() as db:
            db.execute(f"UPDATE outbox SET {assignment} WHERE id IN ({marks})", (value, *batch.ids))


def _dump(item: Item) -> str:
    return json.dumps(asdict(item))


def _load(text: str) -> Item:
    data = json.loads(text)
    data["kind"] = AlertKind(data["kind"])
    return Item(**data)
